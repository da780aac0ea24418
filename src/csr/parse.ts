import ipaddr from 'ipaddr.js';
import { contextTag, DerError, readDer, TAG, type DerNode } from '../der';
import type { CertificationRequest, RequestedExtension, SubjectAttribute, UnsupportedName } from '../types';
import { CsrParseError } from './errors';
import { GENERAL_NAME_KINDS, KEY_USAGE_BITS, OID } from '../x509/oids';
import { importPublicKey } from './public_key';
import { readSignatureAlgorithm, verifySignature } from './signature';

/** DER → a CertificationRequest whose fields every later stage reads; the DER is not parsed again. */
export function parseCertificationRequest(der: Uint8Array): CertificationRequest {
  try {
    return parse(der);
  } catch (error) {
    if (error instanceof DerError) throw new CsrParseError(`the CSR is not a valid DER PKCS#10 request (${error.message})`);
    throw error;
  }
}

// RFC 2986 4: CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
function parse(der: Uint8Array): CertificationRequest {
  const [info, algorithm, signature, ...extra] = readDer(der).expect(TAG.SEQUENCE, 'CertificationRequest').children();
  if (!signature || extra.length > 0) throw new CsrParseError('the DER is not a PKCS#10 CertificationRequest');
  const [version, subject, spki, attributes, ...rest] = info.expect(TAG.SEQUENCE, 'certificationRequestInfo').children();
  if (!spki || rest.length > 0) throw new CsrParseError('the certificationRequestInfo is malformed');
  if (version.smallInteger() !== 0) throw new CsrParseError('the CSR version is not v1 (0)');
  const [algorithmOid, algorithmParameters, ...algorithmExtra] = algorithm.expect(TAG.SEQUENCE, 'signatureAlgorithm').children();
  if (!algorithmOid || algorithmExtra.length > 0) throw new CsrParseError('the signatureAlgorithm is malformed');
  // The subject is copied byte for byte into the certificate, the key in its canonical form: both must be DER.
  const subjectAttributes = readName(subject.expect(TAG.SEQUENCE, 'subject').validate());
  const extensions = attributes ? requestedExtensions(attributes.expect(contextTag(0, true), 'attributes')) : [];
  const publicKey = importPublicKey(spki.expect(TAG.SEQUENCE, 'subjectPublicKeyInfo').validate());
  const signatureAlgorithm = readSignatureAlgorithm(algorithmOid.oid(), algorithmParameters);
  if (!signatureAlgorithm.parametersValid) throw new CsrParseError(`the parameters of the signature algorithm ${signatureAlgorithm.name} are malformed`);
  return {
    der,
    subject: subject.encoded,
    subjectAttributes,
    commonNames: subjectAttributes.filter((a) => a.type === OID.commonName).map((a) => a.value),
    ...subjectAltNames(extensions),
    extensions,
    ...decodeExtension(extensions, OID.basicConstraints, 'basicConstraints', (node) => ({ basicConstraints: readBasicConstraints(node) })),
    ...decodeExtension(extensions, OID.keyUsage, 'keyUsage', (node) => ({ keyUsage: readKeyUsage(node) })),
    ...decodeExtension(extensions, OID.extKeyUsage, 'extKeyUsage', (node) => ({
      extKeyUsage: node.expect(TAG.SEQUENCE, 'extKeyUsage').children().map((purpose) => purpose.oid()),
    })),
    publicKey,
    signatureAlgorithm,
    signatureValid: verifySignature(signatureAlgorithm, publicKey, info.encoded, signature.bitString()),
  };
}

// RFC 5280 4.1.2.4: Name ::= SEQUENCE OF SET OF AttributeTypeAndValue
function readName(name: DerNode): SubjectAttribute[] {
  return name.children().flatMap((rdn) =>
    rdn.expect(TAG.SET, 'RelativeDistinguishedName').children().map((attribute) => {
      const [type, value, ...extra] = attribute.expect(TAG.SEQUENCE, 'AttributeTypeAndValue').children();
      if (!value || extra.length > 0) throw new CsrParseError('a subject attribute is not a type and one value');
      const oid = type.oid();
      // RFC 5280 A.1: VisibleString is no DirectoryString; copied into a certificate, it makes one
      // that common software (OpenSSL, Node) cannot load.
      if (value.tag === TAG.VISIBLE_STRING) throw new CsrParseError(`subject attribute ${oid} is a VisibleString, which RFC 5280 does not allow in a name`);
      // The tag is kept: policy refuses a CN in a string type clients mis-read (RFC 5280 4.1.2.6).
      return { type: oid, value: readText(value, `subject attribute ${oid}`), tag: value.tag };
    }),
  );
}

function readText(node: DerNode, what: string): string {
  try {
    return node.string();
  } catch {
    throw new CsrParseError(`the ${what} is not a valid character string`);
  }
}

// RFC 2986 4.1 attributes [0] IMPLICIT SET OF Attribute; PKCS#9 extensionRequest holds Extensions.
// RFC 2986 4.1: Attribute ::= SEQUENCE { type, values SET SIZE(1..MAX) }. PKCS#9 (RFC 2985 5.4.2):
// extensionRequest is single-valued. RFC 5280 4.2: no extension twice, or one could contradict
// another (basicConstraints {} and then CA:TRUE) and a check reading the first would be fooled.
function requestedExtensions(attributes: DerNode): RequestedExtension[] {
  const extensions: RequestedExtension[] = [];
  for (const attribute of attributes.validate().children()) {
    const [type, values, ...extra] = attribute.expect(TAG.SEQUENCE, 'Attribute').children();
    if (!values || extra.length > 0 || values.expect(TAG.SET, 'attribute values').children().length === 0) throw new CsrParseError('a CSR attribute is not a type and a set of values');
    if (type.oid() !== OID.extensionRequest) continue;
    const [value, ...more] = values.children();
    if (more.length > 0 || extensions.length > 0) throw new CsrParseError('the extensionRequest attribute must have exactly one value');
    for (const extension of value.expect(TAG.SEQUENCE, 'Extensions').children()) {
      const fields = extension.expect(TAG.SEQUENCE, 'Extension').children();
      if (fields.length < 2 || fields.length > 3) throw new CsrParseError('a requested extension is malformed');
      // X.690 11.5: a DEFAULT value is not encoded, so an explicit FALSE is not DER.
      if (fields.length === 3 && !fields[1].boolean()) throw new CsrParseError('a requested extension encodes critical FALSE, which DER leaves out');
      const oid = fields[0].oid();
      if (extensions.some((known) => known.oid === oid)) throw new CsrParseError(`extension ${oid} is requested more than once (RFC 5280 4.2)`);
      extensions.push({ oid, critical: fields.length === 3, value: fields[fields.length - 1].expect(TAG.OCTET_STRING, 'extnValue').content });
    }
  }
  return extensions;
}

/** Decodes the first extension with `oid`; malformed contents are the client's fault, so a CsrParseError. */
function decodeExtension<T extends object>(
  extensions: readonly RequestedExtension[],
  oid: string,
  name: string,
  read: (node: DerNode) => T,
): T | undefined {
  const extension = extensions.find((e) => e.oid === oid);
  return extension && readExtensionValue(extension, name, read);
}

function readExtensionValue<T>(extension: RequestedExtension, name: string, read: (node: DerNode) => T): T {
  try {
    return read(readDer(extension.value));
  } catch (error) {
    if (error instanceof CsrParseError) throw error;
    throw new CsrParseError(`the requested ${name} extension is malformed`);
  }
}

// RFC 5280 4.2.1.6: every subjectAltName extension is read, so a duplicate cannot hide a name.
function subjectAltNames(extensions: readonly RequestedExtension[]) {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const unsupportedNames: UnsupportedName[] = [];
  for (const extension of extensions) {
    if (extension.oid !== OID.subjectAltName) continue;
    readExtensionValue(extension, 'subjectAltName', (node) => {
      for (const name of node.expect(TAG.SEQUENCE, 'GeneralNames').children()) {
        const kind = name.tag & 0x1f;
        if (name.tag === contextTag(2, false)) dnsNames.push(readDnsName(name));
        else if (name.tag === contextTag(7, false)) ipAddresses.push(ipAddressName(name.content));
        else unsupportedNames.push({ kind: GENERAL_NAME_KINDS[kind] ?? `[${kind}]`, value: name.constructed ? '(structured value)' : readLatin1(name) });
      }
    });
  }
  return { dnsNames, ipAddresses, unsupportedNames };
}

const readLatin1 = (node: DerNode): string => Buffer.from(node.bytes.buffer, node.bytes.byteOffset + node.contentStart, node.end - node.contentStart).toString('latin1');

/** An IMPLICIT [2] IA5String (dNSName): ASCII only. Raw UTF-8 is refused here, not guessed at. */
function readDnsName(node: DerNode): string {
  const text = readLatin1(node);
  if (!/^[\x00-\x7f]*$/.test(text)) throw new CsrParseError('a dNSName holds non-ASCII bytes; use the A-label (xn--) form');
  return text;
}

function ipAddressName(octets: Uint8Array): string {
  if (octets.length !== 4 && octets.length !== 16) {
    throw new CsrParseError(`an iPAddress subjectAltName has ${octets.length} octets; RFC 5280 4.2.1.6 allows 4 or 16`);
  }
  return ipaddr.fromByteArray(Array.from(octets)).toString();
}

// RFC 5280 4.2.1.9: BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
function readBasicConstraints(node: DerNode): { ca: boolean; pathLength?: number } {
  const fields = node.expect(TAG.SEQUENCE, 'basicConstraints').children();
  const malformed = () => new CsrParseError('the requested basicConstraints extension is malformed');
  let index = 0;
  let ca = false;
  if (fields[index]?.tag === TAG.BOOLEAN) {
    // cA FALSE is the DEFAULT, which DER never encodes.
    if (!fields[index].boolean()) throw malformed();
    ca = true;
    index += 1;
  }
  let pathLength: number | undefined;
  if (fields[index]?.tag === TAG.INTEGER) {
    const length = fields[index].unsignedInteger();
    pathLength = length > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(length);
    index += 1;
  }
  if (index !== fields.length) throw malformed();
  return pathLength === undefined ? { ca } : { ca, pathLength };
}

function readKeyUsage(node: DerNode): string[] {
  const bits = node.bitString();
  return KEY_USAGE_BITS.filter((_, bit) => bit < bits.length * 8 && (bits[bit >> 3] & (0x80 >> (bit & 7))) !== 0);
}
