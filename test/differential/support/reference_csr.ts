// What a field library says a PKCS#10 request holds: @peculiar/asn1-csr and asn1-x509 decode it,
// Node's crypto (and rsassa_pss.ts for RSASSA-PSS) checks its signature under the algorithm the
// request names. The result has the shape of Mayfly's CertificationRequest fields, as plain data.
import 'reflect-metadata';
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extensions,
  KeyUsage,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  type AttributeValue,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { childrenOf, slice, tlvAt, toHex } from '../../unit/support/asn1';
import { ECDSA_OIDS, ED25519_OID, ED448_OID, HASHES, OIDS, RSA_PKCS1_OIDS } from './csr_corpus';
import { asRsaEncryptionKey, verifyPss, type PssParameters } from './rsassa_pss';

/** A parsed request as plain, comparable data; absent extensions are null. */
export interface CsrFields {
  /** The subject Name, DER, hex. */
  readonly subject: string;
  readonly subjectAttributes: readonly { readonly type: string; readonly value: string }[];
  readonly commonNames: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** kind always; value for the IA5String kinds (rfc822Name, uniformResourceIdentifier). */
  readonly unsupportedNames: readonly { readonly kind: string; readonly value?: string }[];
  readonly extensions: readonly { readonly oid: string; readonly critical: boolean; readonly value: string }[];
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength?: number } | null;
  readonly keyUsage: readonly string[] | null;
  readonly extKeyUsage: readonly string[] | null;
  readonly publicKey: { readonly type: string; readonly bits?: number; readonly curve?: string; readonly exponent?: string; readonly spki: string };
  readonly signatureAlgorithm: string;
  readonly signatureValid: boolean;
}

// RFC 3447 A.1.1 RSAPublicKey and RFC 5480 2.1.1 namedCurve, declared here so the reference
// depends only on the three @peculiar packages the project installs.
class RsaPublicKey {
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  modulus = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  publicExponent = new ArrayBuffer(0);
}

@AsnType({ type: AsnTypeTypes.Choice })
class EcParameters {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  namedCurve?: string;
}

const SHA1 = new AlgorithmIdentifier({ algorithm: HASHES.sha1.oid });
const MGF1_SHA1 = new AlgorithmIdentifier({ algorithm: OIDS.mgf1, parameters: AsnConvert.serialize(SHA1) });

// RFC 4055 3.1 RSASSA-PSS-params with its DEFAULTs.
class RsaSsaPssParams {
  @AsnProp({ type: AlgorithmIdentifier, context: 0, defaultValue: SHA1 })
  hashAlgorithm = SHA1;

  @AsnProp({ type: AlgorithmIdentifier, context: 1, defaultValue: MGF1_SHA1 })
  maskGenAlgorithm = MGF1_SHA1;

  @AsnProp({ type: AsnPropTypes.Integer, context: 2, defaultValue: 20 })
  saltLength = 20;

  @AsnProp({ type: AsnPropTypes.Integer, context: 3, defaultValue: 1 })
  trailerField = 1;
}

const KEY_TYPES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.1': 'RSA',
  [OIDS.rsassaPss]: 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  [ED25519_OID]: 'Ed25519',
  [ED448_OID]: 'Ed448',
};
const CURVES: Readonly<Record<string, { curve: string; bits: number }>> = {
  '1.2.840.10045.3.1.7': { curve: 'P-256', bits: 256 },
  '1.3.132.0.34': { curve: 'P-384', bits: 384 },
  '1.3.132.0.35': { curve: 'P-521', bits: 521 },
};
/** RFC 5280 4.2.1.3, in bit order. */
export const KEY_USAGE_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

const hexOf = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');

function attributeText(value: AttributeValue): string {
  for (const text of [value.utf8String, value.printableString, value.ia5String, value.bmpString, value.teletexString, value.universalString]) {
    if (text !== undefined) return text;
  }
  // VisibleString and NumericString (X.680 41) are no DirectoryString choice, so the library hands
  // them over as ANY; both are ASCII subsets.
  const raw = value.anyValue ? Buffer.from(value.anyValue) : undefined;
  if (raw && (raw[0] === 0x1a || raw[0] === 0x12)) return raw.subarray(tlvAt(raw, 0).contentStart).toString('latin1');
  throw new Error(`the library read a subject attribute as ${raw ? `ANY with tag 0x${raw[0].toString(16)}` : 'nothing'}`);
}

/** asn1-schema hands over an INTEGER of four or more octets as its decimal text. */
const integerValue = (value: number | string): number => (typeof value === 'string' ? Number(value) : value);

const GENERAL_NAME_FIELDS = ['otherName', 'rfc822Name', 'dNSName', 'x400Address', 'directoryName', 'ediPartyName', 'uniformResourceIdentifier', 'iPAddress', 'registeredID'] as const;

function unsupportedName(name: GeneralName): { kind: string; value?: string } {
  const kind = GENERAL_NAME_FIELDS.find((field) => name[field] !== undefined) ?? '(none)';
  if (kind === 'rfc822Name' || kind === 'uniformResourceIdentifier') return { kind, value: name[kind] };
  return { kind };
}

function publicKeyFields(spki: Buffer): { fields: CsrFields['publicKey']; key: KeyObject; rsaKey?: KeyObject } {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  const type = KEY_TYPES[info.algorithm.algorithm] ?? info.algorithm.algorithm;
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (type === 'RSA' || type === 'RSA-PSS') {
    const rsa = AsnConvert.parse(info.subjectPublicKey, RsaPublicKey);
    const modulus = BigInt('0x' + hexOf(rsa.modulus));
    const exponent = BigInt('0x' + hexOf(rsa.publicExponent));
    return { fields: { type, bits: modulus.toString(2).length, exponent: exponent.toString(), spki: toHex(spki) }, key, rsaKey: asRsaEncryptionKey(new Uint8Array(info.subjectPublicKey)) };
  }
  if (type === 'EC') {
    const curve = CURVES[AsnConvert.parse(info.algorithm.parameters!, EcParameters).namedCurve ?? ''];
    return { fields: { type, ...(curve ?? {}), spki: toHex(spki) }, key };
  }
  return { fields: { type, spki: toHex(spki) }, key };
}

const byOid = (table: Readonly<Record<string, string>>, oid: string): string | undefined => Object.entries(table).find(([, value]) => value === oid)?.[0];
const hashName = (oid: string): string | undefined => Object.entries(HASHES).find(([, hash]) => hash.oid === oid)?.[0];

function pssParameters(parameters: ArrayBuffer | null | undefined): PssParameters | undefined {
  if (!parameters) return undefined;
  const params = AsnConvert.parse(parameters, RsaSsaPssParams);
  if (params.trailerField !== 1 || params.maskGenAlgorithm.algorithm !== OIDS.mgf1 || !params.maskGenAlgorithm.parameters) return undefined;
  const hash = hashName(params.hashAlgorithm.algorithm);
  const mgfHash = hashName(AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm);
  return hash && mgfHash ? { hash, mgfHash, saltLength: integerValue(params.saltLength) } : undefined;
}

/**
 * Whether `signature` over `signed` verifies under the algorithm the request names, with a key of
 * the family that algorithm belongs to (RFC 3279 2.2, RFC 4055 1.2/3, RFC 5758 3.2, RFC 8410 6).
 */
function signatureValid(algorithm: AlgorithmIdentifier, keyType: string, key: KeyObject, rsaKey: KeyObject | undefined, signed: Buffer, signature: Buffer): boolean {
  const oid = algorithm.algorithm;
  try {
    const ecdsaHash = byOid(ECDSA_OIDS, oid);
    if (ecdsaHash) return keyType === 'EC' && verify(ecdsaHash, signed, { key, dsaEncoding: 'der' }, signature);
    const pkcs1Hash = byOid(RSA_PKCS1_OIDS, oid);
    // RFC 4055 1.2: an id-RSASSA-PSS key is for RSASSA-PSS only.
    if (pkcs1Hash) return keyType === 'RSA' && verify(pkcs1Hash, signed, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (oid === OIDS.rsassaPss) {
      const parameters = pssParameters(algorithm.parameters);
      // Mayfly's documented limit: Node verifies PSS with MGF1 over the message hash only, so a
      // signature whose mask hash differs is refused (never checked wrongly). The library verifies it.
      if (parameters && parameters.hash !== parameters.mgfHash) return false;
      return (keyType === 'RSA' || keyType === 'RSA-PSS') && parameters !== undefined && verifyPss(rsaKey!, signed, signature, parameters);
    }
    if (oid === ED25519_OID) return keyType === 'Ed25519' && verify(null, signed, key, signature);
    if (oid === ED448_OID) return keyType === 'Ed448' && verify(null, signed, key, signature);
    return false;
  } catch {
    return false;
  }
}

/**
 * Mayfly's stricter rules, by design, which the library does not apply: each throws as Mayfly
 * refuses the request (RFC 5280 4.2 no extension twice; X.690 11.5 no encoded DEFAULT; RFC 2985
 * 5.4.2 one extensionRequest value; RFC 2986 4.1 attributes have values; RFC 5758 3.2 and RFC 8410
 * 3 absent ECDSA/EdDSA parameters, RFC 4055 5 NULL or absent for PKCS#1 v1.5).
 */
function refuseAsMayflyDoes(request: CertificationRequest, infoRaw: Buffer): void {
  const oid = request.signatureAlgorithm.algorithm;
  const parameters = request.signatureAlgorithm.parameters;
  const absent = parameters === null || parameters === undefined;
  if ((byOid(ECDSA_OIDS, oid) || oid === ED25519_OID || oid === ED448_OID) && !absent) throw new Error('signature algorithm parameters where none belong');
  if (byOid(RSA_PKCS1_OIDS, oid) && !absent && toHex(Buffer.from(parameters)) !== '0500') throw new Error('PKCS#1 v1.5 parameters other than NULL');
  const info = childrenOf(infoRaw, tlvAt(infoRaw, 0));
  const attributes = info[3];
  if (!attributes) return;
  let extensionRequests = 0;
  const seen = new Set<string>();
  for (const attribute of childrenOf(infoRaw, attributes)) {
    const [type, values] = childrenOf(infoRaw, attribute);
    const valueList = values ? childrenOf(infoRaw, values) : [];
    if (valueList.length === 0) throw new Error('an attribute without values');
    if (toHex(slice(infoRaw, type)) !== '06092a864886f70d01090e') continue;
    extensionRequests += 1;
    if (extensionRequests > 1 || valueList.length !== 1) throw new Error('extensionRequest not single-valued');
    for (const extension of childrenOf(infoRaw, valueList[0])) {
      const fields = childrenOf(infoRaw, extension);
      const extensionOid = toHex(slice(infoRaw, fields[0]));
      if (seen.has(extensionOid)) throw new Error('an extension requested twice');
      seen.add(extensionOid);
      if (fields.length === 3 && infoRaw[fields[1].contentStart] === 0x00) throw new Error('critical FALSE encoded');
    }
  }
}

/** The library's reading of a DER request. */
export function libraryFields(der: Uint8Array): CsrFields {
  const request = AsnConvert.parse(der, CertificationRequest);
  const info = request.certificationRequestInfo;
  if (!request.certificationRequestInfoRaw) throw new Error('the library kept no raw certificationRequestInfo');
  const infoRaw = Buffer.from(request.certificationRequestInfoRaw);
  refuseAsMayflyDoes(request, infoRaw);
  // Raw subject and SPKI octets, found with the test's own TLV splitter inside the library's raw info.
  const infoParts = childrenOf(infoRaw, tlvAt(infoRaw, 0));
  const subjectDer = slice(infoRaw, infoParts[1]);
  const spki = slice(infoRaw, infoParts[2]);
  // Mayfly's stricter rule, by design: RFC 5280 A.1 has no VisibleString in a Name (a certificate
  // carrying one is one OpenSSL and Node cannot load), so such a request is refused at parse.
  for (const rdn of childrenOf(subjectDer, tlvAt(subjectDer, 0))) {
    for (const atv of childrenOf(subjectDer, rdn)) {
      if (subjectDer[childrenOf(subjectDer, atv)[1].start] === 0x1a) throw new Error('a VisibleString in the subject');
    }
  }

  // The library's SEQUENCE OF / SET OF types subclass Array, so map() and filter() on them would
  // build library classes; spreading first keeps this plain data.
  const subjectAttributes = [...info.subject].flatMap((rdn) => [...rdn].map((atv) => ({ type: atv.type, value: attributeText(atv.value) })));
  const extensions = [...(info.attributes ?? [])]
    .filter((attribute) => attribute.type === OIDS.extensionRequest)
    .flatMap((attribute) => attribute.values.flatMap((value) => [...AsnConvert.parse(value, Extensions)]))
    .map((extension) => ({ oid: extension.extnID, critical: extension.critical, value: hexOf(extension.extnValue.buffer) }));
  const valueOf = (oid: string) => {
    const extension = extensions.find((e) => e.oid === oid);
    return extension && Buffer.from(extension.value, 'hex');
  };

  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const unsupportedNames: { kind: string; value?: string }[] = [];
  for (const extension of extensions.filter((e) => e.oid === OIDS.subjectAltName)) {
    for (const name of AsnConvert.parse(Buffer.from(extension.value, 'hex'), SubjectAlternativeName)) {
      if (name.dNSName !== undefined) dnsNames.push(name.dNSName);
      else if (name.iPAddress !== undefined) ipAddresses.push(name.iPAddress);
      else unsupportedNames.push(unsupportedName(name));
    }
  }

  const basicConstraintsDer = valueOf(OIDS.basicConstraints);
  const basicConstraints = basicConstraintsDer ? AsnConvert.parse(basicConstraintsDer, BasicConstraints) : undefined;
  const keyUsageDer = valueOf(OIDS.keyUsage);
  const keyUsageFlags = keyUsageDer ? AsnConvert.parse(keyUsageDer, KeyUsage).toNumber() || 0 : undefined;
  const extKeyUsageDer = valueOf(OIDS.extKeyUsage);

  const { fields: publicKey, key, rsaKey } = publicKeyFields(spki);
  return {
    subject: toHex(subjectDer),
    subjectAttributes,
    commonNames: subjectAttributes.filter((a) => a.type === OIDS.commonName).map((a) => a.value),
    dnsNames,
    ipAddresses,
    unsupportedNames,
    extensions,
    basicConstraints: basicConstraints
      ? { ca: basicConstraints.cA, ...(basicConstraints.pathLenConstraint === undefined ? {} : { pathLength: integerValue(basicConstraints.pathLenConstraint) }) }
      : null,
    keyUsage: keyUsageFlags === undefined ? null : KEY_USAGE_NAMES.filter((_, bit) => (keyUsageFlags & (1 << bit)) !== 0),
    extKeyUsage: extKeyUsageDer ? [...AsnConvert.parse(extKeyUsageDer, ExtendedKeyUsage)].map(String) : null,
    publicKey,
    signatureAlgorithm: request.signatureAlgorithm.algorithm,
    signatureValid: signatureValid(request.signatureAlgorithm, publicKey.type, key, rsaKey, infoRaw, Buffer.from(request.signature)),
  };
}
