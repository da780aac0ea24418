// Generated PKCS#10 requests for differential tests: deterministic in their contents (seed, index),
// varied in everything Mayfly's hand-written reader looks at. Most are assembled from
// @peculiar/asn1-csr / asn1-x509 structures and signed with Node's crypto; about one in seven goes
// through @peculiar/x509's Pkcs10CertificateRequestGenerator, a second encoder.
import 'reflect-metadata';
import { constants, sign, webcrypto } from 'node:crypto';
import { Attributes, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Attribute,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  Name,
  OtherName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { tlv } from '../../unit/support/asn1';
import type { KeyKind, KeyPool, PoolKey, WebCryptoSigning } from './keys';
import type { Prng } from './prng';
import { signPss, type PssParameters } from './rsassa_pss';

export const OIDS = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  challengePassword: '1.2.840.113549.1.9.7',
  unstructuredName: '1.2.840.113549.1.9.2',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  certificatePolicies: '2.5.29.32',
  nsComment: '2.16.840.1.113730.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  upn: '1.3.6.1.4.1.311.20.2.3',
} as const;

/** Node digest name → the hash AlgorithmIdentifier OID (RFC 4055 2.1) and its output length. */
export const HASHES: Readonly<Record<string, { oid: string; length: number }>> = {
  sha1: { oid: '1.3.14.3.2.26', length: 20 },
  sha224: { oid: '2.16.840.1.101.3.4.2.4', length: 28 },
  sha256: { oid: '2.16.840.1.101.3.4.2.1', length: 32 },
  sha384: { oid: '2.16.840.1.101.3.4.2.2', length: 48 },
  sha512: { oid: '2.16.840.1.101.3.4.2.3', length: 64 },
};

/** RFC 5758 3.2 / RFC 3279 2.2.3 ECDSA and RFC 4055 5 PKCS#1 v1.5 signature OIDs by digest. */
export const ECDSA_OIDS: Readonly<Record<string, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha224: '1.2.840.10045.4.3.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
export const RSA_PKCS1_OIDS: Readonly<Record<string, string>> = {
  sha1: '1.2.840.113549.1.1.5',
  sha224: '1.2.840.113549.1.1.14',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
export const ED25519_OID = '1.3.101.112';
export const ED448_OID = '1.3.101.113';

export type StringKind = 'utf8' | 'printable' | 'ia5' | 'bmp' | 'teletex' | 'universal' | 'visible';

export interface AttributeSpec {
  readonly type: string;
  readonly kind: StringKind;
  readonly text: string;
}

export interface GeneratedCsr {
  readonly index: number;
  readonly der: Buffer;
  readonly key: PoolKey;
  /** What this request exercises, e.g. "subject:bmp", "sig:rsa-pss/mgf-differs", for reports. */
  readonly features: readonly string[];
}

// ---- text ----

const PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";
const IA5 = Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const LATIN1_HIGH = Array.from({ length: 0x60 }, (_, i) => String.fromCharCode(0xa0 + i)).join('');
// Pieces of text in several scripts: combining marks, right-to-left, a zero-width joiner.
const BMP_PIECES = ['svc', 'Acme', ' ', '-', 'Müller', 'Ærøskøbing', 'Straße', 'Ελληνικά', 'Москва', '東京', '証明書', 'شركة', 'עברית', '한국어', 'e\u0301', '\u200d', 'ℌ', '€', '\ufffd', 'Ωmega', '.'];
// Astral characters: four UTF-8 octets, a surrogate pair in UTF-16.
const ASTRAL_PIECES = ['🦋', '🔐', '𝔘𝔫𝔦', '𠜎'];

function textFrom(r: Prng, alphabet: string, min: number, max: number): string {
  let text = '';
  const length = r.int(min, max);
  for (let i = 0; i < length; i++) text += alphabet[r.int(0, alphabet.length - 1)];
  return text;
}

function piecesText(r: Prng, astral: boolean): string {
  const pieces = astral ? [...BMP_PIECES, ...ASTRAL_PIECES] : BMP_PIECES;
  let text = '';
  const count = r.int(1, 6);
  for (let i = 0; i < count; i++) text += r.chance(0.4) ? textFrom(r, PRINTABLE.slice(0, 62), 1, 8) : r.pick(pieces);
  return text;
}

/** A non-empty value of `kind` (X.520 DirectoryString SIZE (1..MAX)); sometimes long, for multi-octet lengths. */
function textOf(r: Prng, kind: StringKind): string {
  const long = r.chance(0.03);
  switch (kind) {
    case 'printable':
      return textFrom(r, PRINTABLE, 1, long ? 300 : 24);
    case 'ia5':
    case 'visible':
      return textFrom(r, IA5, 1, long ? 300 : 24);
    case 'teletex':
      return textFrom(r, IA5 + LATIN1_HIGH, 1, long ? 200 : 24);
    case 'utf8': {
      let text = piecesText(r, true);
      while (long && text.length < 150) text += piecesText(r, true);
      return text;
    }
    case 'bmp':
    case 'universal':
      // BMP only: @peculiar/asn1-schema (asn1js) reads a UniversalString's astral characters
      // as their low 16 bits, so an astral UniversalString is an edge test, not corpus material.
      return piecesText(r, false);
  }
}

const STRING_KIND_WEIGHTS: readonly [StringKind, number][] = [
  ['utf8', 40],
  ['printable', 25],
  ['ia5', 8],
  ['bmp', 10],
  ['teletex', 6],
  ['universal', 6],
  // Rare: Mayfly refuses a VisibleString in a name (RFC 5280 A.1), so these only test that refusal.
  ['visible', 1],
];

function weighted<T>(r: Prng, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let point = r.next() * total;
  for (const [choice, weight] of choices) {
    point -= weight;
    if (point < 0) return choice;
  }
  return choices[choices.length - 1][0];
}

// ---- names ----

const ATTRIBUTE_TYPES = [
  '2.5.4.3', // CN
  '2.5.4.10', // O
  '2.5.4.11', // OU
  '2.5.4.7', // L
  '2.5.4.8', // ST
  '2.5.4.9', // street
  '2.5.4.12', // title
  '2.5.4.42', // givenName
  '2.5.4.4', // surname
  '2.5.4.17', // postalCode
  '0.9.2342.19200300.100.1.1', // UID
  '1.3.6.1.4.1.55555.7.1', // a private attribute
];

function dnsLabel(r: Prng): string {
  const label = textFrom(r, 'abcdefghijklmnopqrstuvwxyz0123456789', 1, 1) + (r.chance(0.7) ? textFrom(r, 'abcdefghijklmnopqrstuvwxyz0123456789-', 0, 10) : '');
  return label.endsWith('-') ? label + 'x' : label;
}

export function dnsName(r: Prng): string {
  const labels = Array.from({ length: r.int(1, 4) }, () => dnsLabel(r));
  if (r.chance(0.05)) labels[0] = 'xn--' + labels[0];
  if (r.chance(0.03)) labels[0] = '_' + labels[0];
  let name = [...labels, r.pick(['test', 'example', 'mayfly.test', 'corp.example.com', 'internal'])].join('.');
  if (r.chance(0.1)) name = '*.' + name;
  if (r.chance(0.1)) name = name.replace(/[a-z]/g, (c) => (r.chance(0.5) ? c.toUpperCase() : c));
  if (r.chance(0.05)) name += '.';
  return name;
}

function attribute(r: Prng, type: string): AttributeSpec {
  switch (type) {
    case '2.5.4.6':
      return { type, kind: 'printable', text: textFrom(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2, 2) };
    case '2.5.4.5':
      return { type, kind: 'printable', text: textFrom(r, '0123456789ABCDEF', 4, 16) };
    case '0.9.2342.19200300.100.1.25':
      return { type, kind: 'ia5', text: dnsLabel(r) };
    case '1.2.840.113549.1.9.1':
      return { type, kind: 'ia5', text: `${dnsLabel(r)}@${dnsName(r).replace(/^\*\./, '')}` };
    case '2.5.4.3':
      // A CN is usually a host name, sometimes text.
      if (r.chance(0.6)) return { type, kind: r.pick(['utf8', 'printable', 'ia5', 'bmp'] as const), text: dnsName(r).replace(/_/g, 'u') };
      break;
  }
  const kind = weighted(r, STRING_KIND_WEIGHTS);
  return { type, kind, text: textOf(r, kind) };
}

function attributeValue(spec: AttributeSpec): AttributeValue {
  switch (spec.kind) {
    case 'utf8':
      return new AttributeValue({ utf8String: spec.text });
    case 'printable':
      return new AttributeValue({ printableString: spec.text });
    case 'ia5':
      return new AttributeValue({ ia5String: spec.text });
    case 'bmp':
      return new AttributeValue({ bmpString: spec.text });
    case 'teletex':
      return new AttributeValue({ teletexString: spec.text });
    case 'universal':
      return new AttributeValue({ universalString: spec.text });
    case 'visible':
      // Not a DirectoryString choice, so the library writes it as ANY.
      return new AttributeValue({ anyValue: toArrayBuffer(tlv(0x1a, Buffer.from(spec.text, 'latin1'))) });
  }
}

export const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** X.690 11.6: a DER SET OF is in ascending order of its elements' encodings. */
export function derSetOrder<T>(items: readonly T[], encode: (item: T) => Uint8Array): T[] {
  const encoded = items.map((item) => ({ item, der: Buffer.from(encode(item)) }));
  encoded.sort((a, b) => {
    const length = Math.max(a.der.length, b.der.length);
    const padded = (der: Buffer) => Buffer.concat([der, Buffer.alloc(length - der.length)]);
    return Buffer.compare(padded(a.der), padded(b.der));
  });
  return encoded.map((entry) => entry.item);
}

export function buildName(rdns: readonly (readonly AttributeSpec[])[]): Name {
  return new Name(
    rdns.map((rdn) => {
      const values = rdn.map((spec) => new AttributeTypeAndValue({ type: spec.type, value: attributeValue(spec) }));
      return new RelativeDistinguishedName(derSetOrder(values, (value) => new Uint8Array(AsnConvert.serialize(value))));
    }),
  );
}

function subject(r: Prng, features: string[]): AttributeSpec[][] {
  if (r.chance(0.05)) {
    features.push('subject:empty');
    return [];
  }
  const rdns: AttributeSpec[][] = [];
  if (r.chance(0.3)) rdns.push([attribute(r, '2.5.4.6')]);
  if (r.chance(0.1)) rdns.push([attribute(r, '0.9.2342.19200300.100.1.25'), ...(r.chance(0.3) ? [attribute(r, '0.9.2342.19200300.100.1.25')] : [])]);
  for (let i = r.int(0, 3); i > 0; i--) rdns.push([attribute(r, r.pick(ATTRIBUTE_TYPES.slice(1)))]);
  if (r.chance(0.1)) rdns.push([attribute(r, '2.5.4.5')]);
  if (r.chance(0.1)) rdns.push([attribute(r, '1.2.840.113549.1.9.1')]);
  if (r.chance(0.85)) rdns.push([attribute(r, '2.5.4.3')]);
  if (r.chance(0.05)) {
    rdns.push([attribute(r, '2.5.4.3')]);
    features.push('subject:two-cns');
  }
  // Multi-valued RDNs (RFC 5280 4.1.2.4: a SET OF AttributeTypeAndValue), e.g. CN+UID.
  if (rdns.length > 0 && r.chance(0.15)) {
    const at = r.int(0, rdns.length - 1);
    for (let extra = r.int(1, 2); extra > 0; extra--) rdns[at].push(attribute(r, r.pick(ATTRIBUTE_TYPES)));
    features.push('subject:multi-valued-rdn');
  }
  if (rdns.length === 0) features.push('subject:empty');
  for (const spec of rdns.flat()) features.push(`subject:${spec.kind}`);
  return rdns;
}

// ---- subjectAltName ----

type SanKind = 'dNSName' | 'iPv4' | 'iPv6' | 'rfc822Name' | 'uniformResourceIdentifier' | 'directoryName' | 'registeredID' | 'otherName';

const SAN_WEIGHTS: readonly [SanKind, number][] = [
  ['dNSName', 50],
  ['iPv4', 15],
  ['iPv6', 15],
  ['rfc822Name', 8],
  ['uniformResourceIdentifier', 7],
  ['directoryName', 2],
  ['registeredID', 1.5],
  ['otherName', 1.5],
];

function ipv4(r: Prng): number[] {
  if (r.chance(0.15)) return r.pick([[0, 0, 0, 0], [255, 255, 255, 255], [127, 0, 0, 1], [10, 0, 0, 1], [192, 168, 1, 254]]);
  return [...r.bytes(4)];
}

/** 16 octets: runs of zero groups of varied length and place (RFC 5952 4.2 compression), specials. */
function ipv6(r: Prng): number[] {
  const special = r.int(0, 9);
  if (special === 0) return [...Buffer.alloc(16)]; // ::
  if (special === 1) return [...Buffer.alloc(15), 1]; // ::1
  if (special === 2) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4(r)]; // IPv4-mapped
  if (special === 3) return [0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...r.bytes(8)];
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(r.chance(0.4) ? 0 : r.chance(0.3) ? r.int(1, 0xff) : r.int(0, 0xffff));
  if (r.chance(0.5)) groups.splice(0, 2, 0x2001, 0x0db8);
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

const ipText = (octets: readonly number[]): string =>
  octets.length === 4 ? octets.join('.') : Array.from({ length: 8 }, (_, i) => ((octets[2 * i] << 8) | octets[2 * i + 1]).toString(16)).join(':');

function generalName(r: Prng, kind: SanKind): GeneralName {
  switch (kind) {
    case 'dNSName':
      return new GeneralName({ dNSName: dnsName(r) });
    case 'iPv4':
      return new GeneralName({ iPAddress: ipText(ipv4(r)) });
    case 'iPv6':
      return new GeneralName({ iPAddress: ipText(ipv6(r)) });
    case 'rfc822Name':
      return new GeneralName({ rfc822Name: `${dnsLabel(r)}@${dnsName(r).replace(/^\*\./, '')}` });
    case 'uniformResourceIdentifier':
      return new GeneralName({ uniformResourceIdentifier: r.pick(['https://', 'spiffe://', 'urn:x-mayfly:']) + dnsName(r).replace(/^\*\./, '') + '/' + dnsLabel(r) });
    case 'directoryName':
      return new GeneralName({ directoryName: buildName([[attribute(r, '2.5.4.10')], [attribute(r, '2.5.4.3')]]) });
    case 'registeredID':
      return new GeneralName({ registeredID: `1.3.6.1.4.1.55555.${r.int(0, 100000)}` });
    case 'otherName':
      // Microsoft UPN: otherName { 1.3.6.1.4.1.311.20.2.3, [0] EXPLICIT UTF8String }.
      return new GeneralName({ otherName: new OtherName({ typeId: OIDS.upn, value: toArrayBuffer(tlv(0x0c, Buffer.from(`${dnsLabel(r)}@corp.example`, 'utf8'))) }) });
  }
}

function subjectAltName(r: Prng, features: string[]): Buffer {
  const count = r.chance(0.02) ? r.int(30, 150) : r.int(1, 8);
  const names: GeneralName[] = [];
  for (let i = 0; i < count; i++) {
    const kind = weighted(r, SAN_WEIGHTS);
    features.push(`san:${kind}`);
    names.push(generalName(r, kind));
  }
  if (count > 20) features.push('san:many');
  return Buffer.from(AsnConvert.serialize(new SubjectAlternativeName(names)));
}

// ---- other extensions ----

/** RFC 5280 4.2.1.3 bits as a DER named-bit BIT STRING (X.690 11.2.2: trailing zero bits removed). */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(0x03, Buffer.of(0));
  const highest = Math.max(...bits);
  const octets = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) octets[bit >> 3] |= 0x80 >> (bit & 7);
  return tlv(0x03, Buffer.of(7 - (highest & 7)), octets);
}

const STANDARD_PURPOSES = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.8', '1.3.6.1.5.5.7.3.9'];

function keyPurpose(r: Prng, features: string[]): string {
  const choice = r.int(0, 9);
  if (choice < 6) return r.pick(STANDARD_PURPOSES);
  features.push('eku:custom');
  switch (choice) {
    case 6:
      return r.pick(['2.5.29.37.0', '1.3.6.1.4.1.311.20.2.2', '1.3.6.1.5.5.7.3.17', '1.3.6.1.4.1.11129.2.4.4']);
    case 7:
      return `1.3.6.1.4.1.${r.int(1, 2 ** 31 - 1)}.${r.int(0, 300)}`;
    case 8:
      return `2.${r.pick([5, 39, 40, 999, 16383, 16384])}.${r.int(0, 127)}.${r.int(128, 2 ** 21)}`;
    default:
      // Arcs above 2^32 and below 2^40: more than 32 bits, still exact as JavaScript numbers.
      features.push('eku:arc-over-2^32');
      return `1.3.6.1.4.1.${2 ** 32 + r.int(0, 2 ** 39)}.1`;
  }
}

const PATH_LENGTHS = [0, 1, 2, 3, 7, 127, 128, 255, 256, 1000, 65535, 2 ** 31 - 1];

function basicConstraints(r: Prng, features: string[]): Buffer {
  const variant = r.int(0, 3);
  features.push(`basicConstraints:${['empty', 'ca', 'ca+pathLen', 'pathLen-only'][variant]}`);
  const pathLenConstraint = variant >= 2 ? r.pick(PATH_LENGTHS) : undefined;
  return Buffer.from(AsnConvert.serialize(new BasicConstraints({ cA: variant === 1 || variant === 2, ...(pathLenConstraint === undefined ? {} : { pathLenConstraint }) })));
}

interface ExtensionSpec {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

function otherExtension(r: Prng, features: string[]): ExtensionSpec {
  const choice = r.int(0, 5);
  switch (choice) {
    case 0:
      features.push('ext:ski');
      return { oid: OIDS.subjectKeyIdentifier, critical: false, value: tlv(0x04, r.bytes(20)) };
    case 1:
      features.push('ext:nsComment');
      return { oid: OIDS.nsComment, critical: false, value: tlv(0x16, Buffer.from(textOf(r, 'ia5'), 'latin1')) };
    case 2:
      features.push('ext:certificatePolicies');
      return { oid: OIDS.certificatePolicies, critical: r.chance(0.2), value: tlv(0x30, tlv(0x30, tlv(0x06, Buffer.from('2b0601040182dd4301', 'hex')))) };
    case 3: {
      // An opaque private extension, sometimes big enough for two- and three-octet lengths.
      const size = r.chance(0.1) ? r.int(200, 5000) : r.chance(0.01) ? r.int(65536, 70000) : r.int(0, 100);
      features.push(size >= 65536 ? 'ext:opaque-64k' : size >= 256 ? 'ext:opaque-large' : 'ext:opaque');
      return { oid: `1.3.6.1.4.1.55555.9.${r.int(0, 1000)}`, critical: r.chance(0.3), value: tlv(0x04, r.bytes(size)) };
    }
    default:
      features.push('ext:private-utf8');
      return { oid: `2.999.${r.int(0, 50)}`, critical: r.chance(0.3), value: tlv(0x0c, Buffer.from(textOf(r, 'utf8'), 'utf8')) };
  }
}

function extensions(r: Prng, features: string[]): ExtensionSpec[] {
  const list: ExtensionSpec[] = [];
  const critical = (p: number, name: string) => {
    const value = r.chance(p);
    if (value) features.push(`critical:${name}`);
    return value;
  };
  if (r.chance(0.75)) list.push({ oid: OIDS.subjectAltName, critical: critical(0.1, 'san'), value: subjectAltName(r, features) });
  if (list.length > 0 && r.chance(0.02)) {
    // RFC 5280 4.2 forbids it, but a request may carry two SANs; Mayfly reads both, so both are compared.
    features.push('san:duplicate-extension');
    list.push({ oid: OIDS.subjectAltName, critical: false, value: subjectAltName(r, features) });
  }
  if (r.chance(0.35)) {
    const bits = r.chance(0.05) ? [] : r.subset([0, 1, 2, 3, 4, 5, 6, 7, 8], 0.3);
    if (bits.includes(7) || bits.includes(8)) features.push('keyUsage:high-bits');
    if (bits.length === 0) features.push('keyUsage:empty');
    list.push({ oid: OIDS.keyUsage, critical: critical(0.7, 'keyUsage'), value: namedBits(bits) });
  }
  if (r.chance(0.35)) {
    const purposes = Array.from({ length: r.int(1, 5) }, () => keyPurpose(r, features));
    list.push({ oid: OIDS.extKeyUsage, critical: critical(0.1, 'extKeyUsage'), value: Buffer.from(AsnConvert.serialize(new ExtendedKeyUsage(purposes))) });
  }
  if (r.chance(0.3)) list.push({ oid: OIDS.basicConstraints, critical: critical(0.6, 'basicConstraints'), value: basicConstraints(r, features) });
  for (let i = r.chance(0.25) ? r.int(1, 3) : 0; i > 0; i--) list.push(otherExtension(r, features));
  if (list.length > 1 && r.chance(0.5)) features.push('ext:shuffled');
  return features.includes('ext:shuffled') ? r.shuffle(list) : list;
}

// ---- signatures ----

interface SignatureSpec {
  readonly feature: string;
  /** The AlgorithmIdentifier, DER. */
  readonly algorithm: Buffer;
  sign(info: Buffer): Buffer;
}

const NULL_PARAMETERS = toArrayBuffer(Buffer.of(0x05, 0x00));

const algorithmIdentifier = (oid: string, parameters?: ArrayBuffer | null): Buffer =>
  Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: oid, ...(parameters === undefined ? {} : { parameters }) })));

/** RFC 4055 3.1 RSASSA-PSS-params, DER: fields equal to their DEFAULT are left out. */
function pssParametersDer(parameters: PssParameters, hashWithNull: boolean, hashOnly: boolean): Buffer {
  const hash = (name: string) => algorithmIdentifier(HASHES[name].oid, hashWithNull ? NULL_PARAMETERS : undefined);
  const fields: Buffer[] = [];
  if (parameters.hash !== 'sha1') fields.push(tlv(0xa0, hash(parameters.hash)));
  if (!hashOnly && parameters.mgfHash !== 'sha1') fields.push(tlv(0xa1, algorithmIdentifier(OIDS.mgf1, toArrayBuffer(hash(parameters.mgfHash)))));
  if (!hashOnly && parameters.saltLength !== 20) fields.push(tlv(0xa2, integer(parameters.saltLength)));
  return tlv(0x30, ...fields);
}

function integer(value: number): Buffer {
  const octets: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff);
  if (octets.length === 0 || octets[0] & 0x80) octets.unshift(0);
  return tlv(0x02, Buffer.from(octets));
}

function pssSignature(r: Prng, key: PoolKey): SignatureSpec {
  const variant = key.family === 'rsaPss' ? r.pick(['standard', 'salt', 'defaults', 'hash-null'] as const) : weighted(r, [['standard', 45], ['salt', 20], ['defaults', 10], ['hash-null', 10], ['mgf-differs', 8], ['hash-only', 7]] as const);
  const hash = variant === 'defaults' ? 'sha1' : r.pick(['sha256', 'sha256', 'sha384', 'sha512']);
  const hLen = HASHES[hash].length;
  // RFC 8017 9.1.1: emLen >= hLen + sLen + 2, emLen = ceil((modBits - 1) / 8).
  const maxSalt = Math.ceil(((key.privateKey.asymmetricKeyDetails?.modulusLength ?? 2048) - 1) / 8) - hLen - 2;
  let parameters: PssParameters = { hash, mgfHash: hash, saltLength: Math.min(hLen, maxSalt) };
  if (variant === 'salt') parameters = { ...parameters, saltLength: Math.min(r.pick([0, 20, 32, 64, maxSalt]), maxSalt) };
  if (variant === 'defaults') parameters = { hash: 'sha1', mgfHash: 'sha1', saltLength: 20 };
  if (variant === 'mgf-differs') parameters = { ...parameters, mgfHash: r.pick(['sha1', 'sha256', 'sha384', 'sha512'].filter((h) => h !== hash)) };
  // RFC 4055 3.1: with only hashAlgorithm given, MGF1 stays at its DEFAULT, SHA-1, and the salt at 20.
  if (variant === 'hash-only') parameters = { hash, mgfHash: 'sha1', saltLength: 20 };
  const algorithm = algorithmIdentifier(OIDS.rsassaPss, toArrayBuffer(pssParametersDer(parameters, variant === 'hash-null', variant === 'hash-only')));
  const feature = `sig:rsa-pss/${variant}`;
  if (parameters.mgfHash !== parameters.hash) {
    return { feature, algorithm, sign: (info) => signPss(key.privateKey, info, parameters, r.bytes(parameters.saltLength)) };
  }
  return {
    feature,
    algorithm,
    sign: (info) => sign(parameters.hash, info, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: parameters.saltLength }),
  };
}

function signature(r: Prng, key: PoolKey): SignatureSpec {
  switch (key.family) {
    case 'ec': {
      const hash = weighted(r, [['sha256', 35], ['sha384', 30], ['sha512', 25], ['sha224', 5], ['sha1', 5]] as const);
      return { feature: `sig:ecdsa-${hash}`, algorithm: algorithmIdentifier(ECDSA_OIDS[hash]), sign: (info) => sign(hash, info, { key: key.privateKey, dsaEncoding: 'der' }) };
    }
    case 'rsa': {
      if (r.chance(0.3)) return pssSignature(r, key);
      const hash = weighted(r, [['sha256', 40], ['sha384', 25], ['sha512', 25], ['sha224', 5], ['sha1', 5]] as const);
      // RFC 4055 5: NULL parameters; some encoders leave them out, which readers accept.
      const absent = r.chance(0.05);
      return {
        feature: `sig:rsa-${hash}${absent ? '/absent-params' : ''}`,
        algorithm: algorithmIdentifier(RSA_PKCS1_OIDS[hash], absent ? undefined : NULL_PARAMETERS),
        sign: (info) => sign(hash, info, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }),
      };
    }
    case 'rsaPss':
      return pssSignature(r, key);
    case 'ed25519':
      return { feature: 'sig:ed25519', algorithm: algorithmIdentifier(ED25519_OID), sign: (info) => sign(null, info, key.privateKey) };
    case 'ed448':
      return { feature: 'sig:ed448', algorithm: algorithmIdentifier(ED448_OID), sign: (info) => sign(null, info, key.privateKey) };
  }
}

// ---- the request ----

const KEY_WEIGHTS: readonly [KeyKind, number][] = [
  ['p256', 26],
  ['p384', 16],
  ['rsa2048', 24],
  ['ed25519', 16],
  ['p521', 4],
  ['ed448', 4],
  ['rsa1024', 3],
  ['rsa2048e3', 3],
  ['rsaPss', 4],
];

function extraAttributes(r: Prng, features: string[]): Attribute[] {
  const attributes: Attribute[] = [];
  if (r.chance(0.15)) {
    features.push('attr:challengePassword');
    const kind = r.pick(['printable', 'utf8'] as const);
    const password = textOf(r, kind);
    attributes.push(new Attribute({ type: OIDS.challengePassword, values: [toArrayBuffer(tlv(kind === 'printable' ? 0x13 : 0x0c, Buffer.from(password, 'utf8')))] }));
  }
  if (r.chance(0.05)) {
    features.push('attr:unstructuredName');
    attributes.push(new Attribute({ type: OIDS.unstructuredName, values: [toArrayBuffer(tlv(0x16, Buffer.from(dnsName(r), 'latin1')))] }));
  }
  return attributes;
}

export class CsrCorpus {
  constructor(private readonly pool: KeyPool) {}

  /** Request `index`, drawn from `r`: the same contents for the same stream (the keys are the pool's). */
  async generate(index: number, r: Prng): Promise<GeneratedCsr> {
    const features: string[] = [];
    const key = r.pick(this.pool.byKind.get(weighted(r, KEY_WEIGHTS))!);
    features.push(`key:${key.kind}`);
    const rdns = subject(r, features);
    const extensionList = extensions(r, features);
    const attributes = extraAttributes(r, features);
    if (key.webcrypto && r.chance(0.15)) {
      features.push('builder:x509-generator');
      return { index, der: await this.generated(r, key, rdns, extensionList, attributes, features), key, features };
    }
    features.push('builder:asn1-csr');
    const allAttributes = [...attributes];
    if (extensionList.length > 0) {
      const requested = new Extensions(extensionList.map((e) => new Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(e.value) })));
      allAttributes.push(new Attribute({ type: OIDS.extensionRequest, values: [AsnConvert.serialize(requested)] }));
    }
    // RFC 2986 4.1 makes attributes [0] mandatory (maybe empty); some encoders leave it out entirely.
    const omitAttributes = allAttributes.length === 0 && r.chance(0.3);
    if (omitAttributes) features.push('attributes:omitted');
    const info = new CertificationRequestInfo({
      version: 0,
      subject: buildName(rdns),
      subjectPKInfo: AsnConvert.parse(key.spki, SubjectPublicKeyInfo),
    });
    if (omitAttributes) delete (info as Partial<CertificationRequestInfo>).attributes;
    else info.attributes = new Attributes(derSetOrder(allAttributes, (a) => new Uint8Array(AsnConvert.serialize(a))));
    const infoDer = Buffer.from(AsnConvert.serialize(info));
    const scheme = signature(r, key);
    features.push(scheme.feature);
    const der = tlv(0x30, infoDer, scheme.algorithm, tlv(0x03, Buffer.of(0), scheme.sign(infoDer)));
    return { index, der, key, features };
  }

  private async generated(r: Prng, key: PoolKey, rdns: AttributeSpec[][], extensionList: ExtensionSpec[], attributes: Attribute[], features: string[]): Promise<Buffer> {
    const hash = r.pick(['SHA-256', 'SHA-384', 'SHA-512']);
    let algorithm: WebCryptoSigning;
    if (key.family === 'ec') algorithm = { name: 'ECDSA', hash };
    else if (key.family === 'ed25519') algorithm = { name: 'Ed25519' };
    else if (r.chance(0.3)) algorithm = { name: 'RSA-PSS', hash, saltLength: r.pick([0, 20, Number(hash.slice(4)) / 8]) };
    else algorithm = { name: 'RSASSA-PKCS1-v1_5', hash };
    features.push(`sig:x509-generator/${algorithm.name}${'hash' in algorithm ? '-' + algorithm.hash : ''}`);
    const keys = await this.pool.importFor(key, algorithm);
    const request = await x509.Pkcs10CertificateRequestGenerator.create(
      {
        name: new x509.Name(buildName(rdns)),
        keys: keys as never,
        signingAlgorithm: algorithm as never,
        extensions: extensionList.map((e) => new x509.Extension(e.oid, e.critical, e.value)),
        attributes: attributes.map((a) => new x509.Attribute(a.type, a.values)),
      },
      webcrypto as never,
    );
    return Buffer.from(request.rawData);
  }
}
