import { createPublicKey, type KeyObject } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { contextTag, DerError, readDer, TAG, type DerNode } from '../der';
import type { CertificationRequest, RequestedExtension, SubjectPublicKey, UnsupportedName } from '../types';
import { CsrParseError } from './errors';
import { GENERAL_NAME_KINDS, KEY_USAGE_BITS, OID } from './oids';
import { readSignatureAlgorithm, verifySignature } from './signature';

const NIST_CURVES: Readonly<Record<string, { name: string; bits: number }>> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

const KEY_TYPES: Readonly<Record<string, string>> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', ec: 'EC', ed25519: 'Ed25519', ed448: 'Ed448' };

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
  const [algorithmOid, algorithmParameters] = algorithm.expect(TAG.SEQUENCE, 'signatureAlgorithm').children();
  if (!algorithmOid) throw new CsrParseError('the signatureAlgorithm is empty');
  const subjectAttributes = readName(subject.expect(TAG.SEQUENCE, 'subject'));
  const extensions = attributes ? requestedExtensions(attributes.expect(contextTag(0, true), 'attributes')) : [];
  const publicKey = importPublicKey(spki.expect(TAG.SEQUENCE, 'subjectPublicKeyInfo').encoded);
  const signatureAlgorithm = readSignatureAlgorithm(algorithmOid.oid(), algorithmParameters);
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
    signatureValid: verifySignature(signatureAlgorithm, publicKey.keyObject, info.encoded, signature.bitString()),
  };
}

// RFC 5280 4.1.2.4: Name ::= SEQUENCE OF SET OF AttributeTypeAndValue
function readName(name: DerNode): { type: string; value: string }[] {
  return name.children().flatMap((rdn) =>
    rdn.expect(TAG.SET, 'RelativeDistinguishedName').children().map((attribute) => {
      const [type, value] = attribute.expect(TAG.SEQUENCE, 'AttributeTypeAndValue').children();
      if (!value) throw new CsrParseError('a subject attribute has no value');
      const oid = type.oid();
      // RFC 5280 A.1: VisibleString is no DirectoryString; copied into a certificate, it makes one
      // that common software (OpenSSL, Node) cannot load.
      if (value.tag === TAG.VISIBLE_STRING) throw new CsrParseError(`subject attribute ${oid} is a VisibleString, which RFC 5280 does not allow in a name`);
      return { type: oid, value: readText(value, `subject attribute ${oid}`) };
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
function requestedExtensions(attributes: DerNode): RequestedExtension[] {
  const extensions: RequestedExtension[] = [];
  for (const attribute of attributes.children()) {
    const [type, values] = attribute.expect(TAG.SEQUENCE, 'Attribute').children();
    if (!values || type.oid() !== OID.extensionRequest) continue;
    for (const value of values.expect(TAG.SET, 'attribute values').children()) {
      for (const extension of value.expect(TAG.SEQUENCE, 'Extensions').children()) {
        const fields = extension.expect(TAG.SEQUENCE, 'Extension').children();
        const critical = fields.length === 3 ? fields[1].boolean() : false;
        const extnValue = fields[fields.length - 1];
        if (fields.length < 2 || fields.length > 3) throw new CsrParseError('a requested extension is malformed');
        extensions.push({ oid: fields[0].oid(), critical, value: extnValue.expect(TAG.OCTET_STRING, 'extnValue').content });
      }
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
  let ca = false;
  let pathLength: number | undefined;
  for (const field of node.expect(TAG.SEQUENCE, 'basicConstraints').children()) {
    if (field.tag === TAG.BOOLEAN) ca = field.boolean();
    else pathLength = Number(field.unsignedInteger() > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : field.unsignedInteger());
  }
  return pathLength === undefined ? { ca } : { ca, pathLength };
}

function readKeyUsage(node: DerNode): string[] {
  const bits = node.bitString();
  return KEY_USAGE_BITS.filter((_, bit) => bit < bits.length * 8 && (bits[bit >> 3] & (0x80 >> (bit & 7))) !== 0);
}

function importPublicKey(spki: Uint8Array): SubjectPublicKey {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
  } catch {
    throw new CsrParseError("the CSR's public key is of an unknown type or malformed");
  }
  const details = keyObject.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve ? NIST_CURVES[details.namedCurve] : undefined;
  return {
    type: KEY_TYPES[keyObject.asymmetricKeyType ?? ''] ?? String(keyObject.asymmetricKeyType),
    ...(details.modulusLength ? { bits: details.modulusLength } : {}),
    ...(curve ? { curve: curve.name, bits: curve.bits } : details.namedCurve ? { curve: details.namedCurve } : {}),
    ...(details.publicExponent ? { exponent: details.publicExponent } : {}),
    spki,
    keyObject,
  };
}
