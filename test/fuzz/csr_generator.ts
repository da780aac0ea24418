// Structure-aware requests: a subject, a key, attributes and extensions chosen at random from
// dictionaries of names and encodings that matter to the default policy, written with Mayfly's DER
// writer and signed by a corpus key, so most of them reach the parser and every validator.
import { createPublicKey, ECDH } from 'node:crypto';
import { contextTag, encode, encodeBoolean, encodeNamedBits, encodeOctetString, encodeOid, encodeUnsignedInteger, sequence, TAG } from '../../src/der';
import { signedCsr, type SigningKey } from './csr_builder';
import type { Prng } from './prng';
import { strictChildren, strictRoot, tlv } from './tlv';

/** Names the default policy allows (as a CN or a dNSName) and names it must refuse, side by side. */
export const NAMES = {
  allowed: [
    'svc.mayfly.test', 'a.mayfly.test', 'SVC.MAYFLY.TEST', 'svc.mayfly.test.', 'x-y.mayfly.test', '_acme.mayfly.test',
    'a.b.c.d.mayfly.test', 'xn--bcher-kva.mayfly.test', `${'l'.repeat(63)}.mayfly.test`, '127.0.0.1.mayfly.test', '0.mayfly.test',
    `${'a.'.repeat(120)}mayfly.test`, 'Mixed.Case.mayfly.TEST',
  ],
  refused: [
    'mayfly.test', '.mayfly.test', 'evil.com', 'svc.mayfly.test.evil.com', 'evilmayfly.test', 'svc.mayfly.tes', 'svc.mayfly.test..',
    'svc..mayfly.test', '*.mayfly.test', 'a*.mayfly.test', 'svc.*.mayfly.test', `${'l'.repeat(64)}.mayfly.test`, `${'a.'.repeat(121)}mayfly.test`,
    'svc.mayfly.test\u0000.evil.com', 'evil.com\u0000.mayfly.test', 'svc.mayfly.test ', ' svc.mayfly.test', 'svc mayfly.test', 'svç.mayfly.test',
    'svc.mayfly.test\n', '', '.', 'svc.mayfly.test/evil', 'svc@mayfly.test', 'svc.mayfly.test:443', 'ｓｖｃ.mayfly.test', 'svc\u3002mayfly.test',
    'svc.mayfly\uff0etest', 'svc.mayfly.test\u200b', 'mayfly.test.', 'MAYFLY.TEST', 'localhost', 'svc.mayfly.test%00', 'svc.mayfly.test\\',
  ],
  /** IP literals: as a CN, those in 127.0.0.0/8 pass; as a dNSName, none may. */
  addresses: [
    '127.0.0.1', '127.255.255.254', '127.0.0.0', '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:127.1.2.3', '0:0:0:0:0:ffff:127.0.0.1',
    '128.0.0.1', '10.0.0.1', '126.255.255.255', '::1', '::', '127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '::127.0.0.1',
    'fe80::1%lo', '127.0.0.1/8', '127.000.000.001', '[::1]', '::ffff:128.0.0.1', '::ffff:0x7f.0.0.1', '1.2.3.4',
  ],
} as const;

const ODD_CHARACTERS = ['\u0000', ' ', '.', '*', '\n', '\t', 'é', 'ı', '\u212a', '\uff0e', '%', '/', '\\', '@', ':', '_', '-', 'İ', '\u00ad', 'A', '\u007f', '\ufeff'];

/** A name to put in a CN or dNSName: from the dictionaries, built from labels, or edited. */
export function randomName(rng: Prng): string {
  const roll = rng.below(100);
  if (roll < 30) return rng.pick(NAMES.allowed);
  if (roll < 50) return rng.pick(NAMES.refused);
  if (roll < 62) return rng.pick(NAMES.addresses);
  if (roll < 85) {
    const labels = Array.from({ length: rng.int(0, 4) }, () => rng.pick(['svc', 'a', 'xn--bcher-kva', '*', '_acme', '-x', 'x-', 'A', 'l'.repeat(rng.int(1, 70)), '', '127', '0', 'mayfly', 'test', 'evil']));
    const suffix = rng.pick(['.mayfly.test', '.mayfly.test', '.mayfly.test.', '.MAYFLY.TEST', 'mayfly.test', '.mayfly.test.evil.com', '.evil.com', '', '.mayfly.test..', '.mayflyxtest', '.mayfly.tes', '.test']);
    return labels.join('.') + suffix;
  }
  const base = [...rng.pick(NAMES.allowed)];
  for (let edits = rng.int(1, 3); edits > 0; edits--) {
    const at = rng.below(base.length + 1);
    const op = rng.below(4);
    if (op === 0) base.splice(at, 0, rng.pick(ODD_CHARACTERS));
    else if (op === 1) base.splice(at, 1);
    else if (op === 2 && base[at]) base[at] = base[at] === base[at].toUpperCase() ? base[at].toLowerCase() : base[at].toUpperCase();
    else base.splice(at, 0, base[at] ?? '.');
  }
  return base.join('');
}

const STRING_TAGS = [TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING, TAG.T61_STRING, TAG.BMP_STRING, TAG.UNIVERSAL_STRING, TAG.VISIBLE_STRING] as const;

/** A character string of `tag` holding `text`, encoded as that type encodes (or not, for the odd tags). */
function stringValue(tag: number, text: string): Buffer {
  let content: Buffer;
  if (tag === TAG.BMP_STRING) content = Buffer.from(text, 'utf16le').swap16();
  else if (tag === TAG.UNIVERSAL_STRING) {
    const codes = [...text].map((c) => c.codePointAt(0)!);
    content = Buffer.alloc(codes.length * 4);
    codes.forEach((code, i) => content.writeUInt32BE(code, i * 4));
  } else if (tag === TAG.UTF8_STRING) content = Buffer.from(text, 'utf8');
  else content = Buffer.from(text, 'latin1');
  return tlv(tag, content);
}

function attributeValue(rng: Prng, text: string): Buffer {
  const roll = rng.below(100);
  if (roll < 70) return stringValue(TAG.UTF8_STRING, text);
  if (roll < 95) return stringValue(rng.pick(STRING_TAGS), text);
  // Not a string at all, or a string with bytes its type forbids.
  return rng.pick([
    tlv(TAG.OCTET_STRING, Buffer.from(text, 'utf8')),
    tlv(TAG.INTEGER, Buffer.of(1)),
    tlv(0x05),
    tlv(TAG.SEQUENCE, stringValue(TAG.UTF8_STRING, text)),
    tlv(TAG.UTF8_STRING, Buffer.of(0xc0, 0x80)),
    tlv(TAG.UTF8_STRING, Buffer.of(0xed, 0xa0, 0x80)),
    tlv(TAG.BMP_STRING, Buffer.from('abc', 'latin1')),
    tlv(TAG.UNIVERSAL_STRING, Buffer.of(0, 0x11, 0, 0)),
    tlv(TAG.PRINTABLE_STRING, Buffer.of(0xff, 0xfe)),
  ]);
}

const atv = (oid: string, value: Uint8Array): Buffer => Buffer.from(sequence(encodeOid(oid), value));
const CN = '2.5.4.3';

/** A subject Name: mostly one CN, sometimes none, two, multi-valued, empty RDNs, or odd attributes. */
export function randomSubject(rng: Prng, cn: () => string): Buffer {
  const rdn = (...attributes: Uint8Array[]) => encode(TAG.SET, ...attributes);
  const cnRdn = () => rdn(atv(CN, attributeValue(rng, cn())));
  const pattern = rng.weighted<string>([[60, 'cn'], [10, 'cn+o'], [5, 'empty'], [4, 'o'], [5, 'two-cn'], [4, 'multi-valued'], [3, 'empty-rdn'], [3, 'email'], [3, 'many'], [3, 'cn-elsewhere']]);
  switch (pattern) {
    case 'cn':
      return Buffer.from(sequence(cnRdn()));
    case 'cn+o':
      return Buffer.from(sequence(rdn(atv('2.5.4.6', stringValue(TAG.PRINTABLE_STRING, 'NZ'))), rdn(atv('2.5.4.10', attributeValue(rng, 'Acme'))), cnRdn()));
    case 'empty':
      return Buffer.from(sequence());
    case 'o':
      return Buffer.from(sequence(rdn(atv('2.5.4.10', attributeValue(rng, 'Acme')))));
    case 'two-cn':
      return Buffer.from(sequence(cnRdn(), cnRdn()));
    case 'multi-valued':
      return Buffer.from(sequence(rdn(atv(CN, attributeValue(rng, cn())), atv(CN, attributeValue(rng, cn())))));
    case 'empty-rdn':
      return Buffer.from(sequence(rdn(), ...(rng.chance(0.5) ? [cnRdn()] : [])));
    case 'email':
      return Buffer.from(sequence(cnRdn(), rdn(atv('1.2.840.113549.1.9.1', stringValue(TAG.IA5_STRING, `ops@${cn()}`)))));
    case 'many':
      return Buffer.from(sequence(...Array.from({ length: rng.int(2, 40) }, () => rdn(atv(rng.pick(['2.5.4.11', '2.5.4.10', '2.5.4.7', '0.9.2342.19200300.100.1.25']), attributeValue(rng, cn())))), cnRdn()));
    default: // a CN-like value under another type, and the real CN refused or allowed
      return Buffer.from(sequence(rdn(atv(rng.pick(['2.5.4.4', '2.5.4.42', '2.5.4.65', '2.5.4.3.0', '1.2.3.4']), attributeValue(rng, cn()))), ...(rng.chance(0.5) ? [cnRdn()] : [])));
  }
}

// ---- extensions ----

/** RFC 5280 4.2.1.6 GeneralName of some kind. */
function generalName(rng: Prng): Buffer {
  const kind = rng.weighted<string>([[70, 'dns'], [8, 'ip'], [4, 'email'], [4, 'uri'], [3, 'other'], [3, 'directory'], [2, 'registered'], [2, 'dns-constructed'], [2, 'odd-tag'], [2, 'dns-bytes']]);
  switch (kind) {
    case 'dns':
      return tlv(contextTag(2, false), Buffer.from(randomName(rng), rng.chance(0.8) ? 'latin1' : 'utf8'));
    case 'ip':
      return tlv(contextTag(7, false), rng.pick([Buffer.of(127, 0, 0, 1), Buffer.of(10, 0, 0, 1), Buffer.alloc(16), Buffer.from('00000000000000000000ffff7f000001', 'hex'), Buffer.of(127, 0, 0), Buffer.alloc(0), Buffer.alloc(5, 127), Buffer.alloc(32, 1)]));
    case 'email':
      return tlv(contextTag(1, false), Buffer.from(`ops@${randomName(rng)}`, 'latin1'));
    case 'uri':
      return tlv(contextTag(6, false), Buffer.from(`https://${randomName(rng)}/`, 'latin1'));
    case 'other':
      return tlv(contextTag(0, true), encodeOid('1.3.6.1.4.1.311.20.2.3'), tlv(contextTag(0, true), stringValue(TAG.UTF8_STRING, randomName(rng))));
    case 'directory':
      return tlv(contextTag(4, true), randomSubject(rng, () => randomName(rng)));
    case 'registered':
      return tlv(contextTag(8, false), Buffer.from(encodeOid('1.2.3.4')).subarray(2));
    case 'dns-constructed':
      return tlv(contextTag(2, true), stringValue(TAG.IA5_STRING, randomName(rng)));
    case 'odd-tag':
      return tlv(rng.pick([0x89, 0x8a, 0x8f, 0x02, 0x16, 0x0c, 0x30, 0xa7]), Buffer.from(randomName(rng), 'latin1'));
    default:
      return tlv(contextTag(2, false), rng.bytes(rng.int(0, 24)));
  }
}

const OIDS = {
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  extensionRequest: '1.2.840.113549.1.9.14',
};

function basicConstraintsValue(rng: Prng): Buffer {
  return Buffer.from(rng.pick([
    () => sequence(),
    () => sequence(encodeBoolean(false)),
    () => sequence(encodeBoolean(true)),
    () => sequence(encodeBoolean(true), encodeUnsignedInteger(Uint8Array.of(0))),
    () => sequence(encodeUnsignedInteger(Uint8Array.of(0))),
    () => sequence(encodeBoolean(false), encodeUnsignedInteger(Uint8Array.of(3))),
    () => sequence(encodeUnsignedInteger(Uint8Array.of(0x7f, 0xff, 0xff, 0xff))),
    () => sequence(tlv(TAG.BOOLEAN, Buffer.of(1))),
    () => sequence(tlv(TAG.INTEGER, Buffer.of(0xff))),
    () => sequence(tlv(TAG.INTEGER, Buffer.alloc(9, 1))),
    () => sequence(encodeUnsignedInteger(Uint8Array.of(1)), encodeBoolean(true)),
    () => sequence(tlv(TAG.OCTET_STRING, Buffer.of(0xff))),
    () => sequence(encodeBoolean(true), encodeBoolean(false)),
    () => encodeBoolean(true),
    () => rng.bytes(rng.int(0, 6)),
  ])());
}

function keyUsageValue(rng: Prng): Buffer {
  if (rng.chance(0.6)) {
    const bits = [0, 1, 2, 3, 4, 5, 6, 7, 8].filter(() => rng.chance(0.3));
    return Buffer.from(encodeNamedBits(bits));
  }
  return rng.pick([
    Buffer.from('03020780', 'hex'), // digitalSignature
    Buffer.from('03020204', 'hex'), // keyCertSign, 2 unused bits
    Buffer.from('03020004', 'hex'), // keyCertSign, no unused bits
    Buffer.from('03020102', 'hex'), // cRLSign with the unused bit count one
    Buffer.from('0303070680', 'hex'), // keyCertSign, cRLSign, decipherOnly
    Buffer.from('030100', 'hex'), // no bits
    Buffer.from('03020305', 'hex'), // unused bits not zero
    Buffer.from('0302088f', 'hex'), // unused-bit count over 7
    Buffer.from('030480000004', 'hex'), // a long bit string
    Buffer.from('03020006', 'hex'), // keyCertSign and cRLSign
    Buffer.from('0400', 'hex'), // not a BIT STRING
  ]);
}

function extKeyUsageValue(rng: Prng): Buffer {
  const purposes = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.9', '2.5.29.37.0', '1.3.6.1.4.1.311.20.2.2', '1.2.3'];
  return Buffer.from(sequence(...Array.from({ length: rng.int(0, 4) }, () => encodeOid(rng.pick(purposes)))));
}

/** An OBJECT IDENTIFIER TLV, sometimes enormous: very long arcs, thousands of arcs, non-minimal arcs. */
export function oddOid(rng: Prng): Buffer {
  const roll = rng.below(8);
  if (roll === 0) return tlv(TAG.OID, Buffer.concat([Buffer.of(0x2a), Buffer.alloc(rng.int(8, 2000), 0xff), Buffer.of(0x7f)])); // one huge arc
  if (roll === 1) return tlv(TAG.OID, Buffer.concat([Buffer.of(0x2b), Buffer.alloc(rng.int(100, 20000), 0x01)])); // many arcs
  if (roll === 2) return tlv(TAG.OID, Buffer.of(0x2a, 0x80, 0x01)); // non-minimal arc
  if (roll === 3) return tlv(TAG.OID, Buffer.of(0x2a, 0x86)); // unterminated arc
  if (roll === 4) return tlv(TAG.OID, Buffer.alloc(0)); // empty
  if (roll === 5) return tlv(TAG.OID, Buffer.from('8180808080808080807f', 'hex')); // first arc past 2^53
  if (roll === 6) return tlv(TAG.OID, Buffer.from([0x55, 0x1d, 0x11, 0x00])); // subjectAltName with a trailing arc 0
  return Buffer.from(encodeOid(`1.3.6.1.4.1.${rng.int(0, 99999)}.${rng.int(0, 2 ** 31)}`));
}

/** A value of `depth` nested SEQUENCEs around `inner`. */
export function nested(depth: number, inner: Buffer = Buffer.alloc(0), tag: number = TAG.SEQUENCE): Buffer {
  let value = inner;
  for (let i = 0; i < depth; i++) value = tlv(tag, value);
  return value;
}

function unknownExtensionValue(rng: Prng): Buffer {
  return rng.pick([
    () => tlv(0x05),
    () => rng.bytes(rng.size(4000)),
    () => nested(rng.int(1, 800)),
    () => nested(rng.int(1, 400), Buffer.alloc(0), rng.pick([TAG.SEQUENCE, TAG.SET, 0xa0])),
    () => tlv(TAG.UTF8_STRING, Buffer.from(randomName(rng))),
    () => Buffer.alloc(rng.int(1000, 40000), 0x41),
  ])();
}

/** One Extension, mostly well formed. */
function extension(rng: Prng, oid: Uint8Array, value: Buffer, critical?: boolean): Buffer {
  const roll = rng.below(100);
  if (roll < 85) return Buffer.from(critical ? sequence(oid, encodeBoolean(true), encodeOctetString(value)) : sequence(oid, encodeOctetString(value)));
  if (roll < 90) return Buffer.from(sequence(oid, encodeBoolean(false), encodeOctetString(value))); // DEFAULT written out
  if (roll < 93) return Buffer.from(sequence(oid, tlv(TAG.BOOLEAN, Buffer.of(1)), encodeOctetString(value))); // not a DER BOOLEAN
  if (roll < 95) return Buffer.from(sequence(oid, encodeOctetString(value), encodeBoolean(true))); // fields out of order
  if (roll < 97) return Buffer.from(sequence(oid, tlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(0), value])))); // extnValue of the wrong type
  if (roll < 98) return Buffer.from(sequence(oid)); // no extnValue
  return Buffer.from(sequence(oid, encodeBoolean(true), encodeOctetString(value), tlv(0x05))); // a fourth field
}

export interface ExtensionsChoice {
  readonly extensions: Buffer[];
  readonly description: string[];
}

/** The requested extensions: usually a SAN, sometimes constraints, usages, unknown ones, duplicates. */
export function randomExtensions(rng: Prng, sanName: () => string): ExtensionsChoice {
  const extensions: Buffer[] = [];
  const description: string[] = [];
  const add = (what: string, der: Buffer) => {
    extensions.push(der);
    description.push(what);
  };
  if (rng.chance(0.8)) {
    const names = rng.chance(0.85)
      ? Array.from({ length: rng.weighted([[5, 0], [50, 1], [30, 2], [10, 5], [2, 60]]) }, () => (rng.chance(0.85) ? tlv(contextTag(2, false), Buffer.from(sanName(), 'latin1')) : generalName(rng)))
      : Array.from({ length: rng.int(0, 4) }, () => generalName(rng));
    add('subjectAltName', extension(rng, encodeOid(OIDS.subjectAltName), Buffer.from(sequence(...names)), rng.chance(0.1)));
  }
  if (rng.chance(0.15)) add('basicConstraints', extension(rng, encodeOid(OIDS.basicConstraints), basicConstraintsValue(rng), rng.chance(0.5)));
  if (rng.chance(0.15)) add('keyUsage', extension(rng, encodeOid(OIDS.keyUsage), keyUsageValue(rng), rng.chance(0.5)));
  if (rng.chance(0.1)) add('extKeyUsage', extension(rng, encodeOid(OIDS.extKeyUsage), extKeyUsageValue(rng), rng.chance(0.2)));
  if (rng.chance(0.1)) add('unknown', extension(rng, rng.chance(0.7) ? encodeOid(`1.3.6.1.4.1.${rng.int(1, 60000)}.1`) : oddOid(rng), unknownExtensionValue(rng), rng.chance(0.3)));
  if (rng.chance(0.04)) add('subjectAltName (malformed)', extension(rng, encodeOid(OIDS.subjectAltName), rng.pick([rng.bytes(rng.int(0, 30)), nested(rng.int(2, 300)), Buffer.from(sequence(tlv(contextTag(2, false), Buffer.from('svc.mayfly.test')))).subarray(0, 5)])));
  // Duplicates: the same extension twice, or a harmless copy followed (or preceded) by a harmful one.
  if (extensions.length > 0 && rng.chance(0.12)) {
    const i = rng.below(extensions.length);
    extensions.splice(rng.below(extensions.length + 1), 0, extensions[i]);
    description.push(`duplicate of ${description[i]}`);
  }
  if (rng.chance(0.08)) {
    const [harmless, harmful] = rng.pick([
      [Buffer.from(sequence(encodeOid(OIDS.basicConstraints), encodeOctetString(sequence()))), Buffer.from(sequence(encodeOid(OIDS.basicConstraints), encodeBoolean(true), encodeOctetString(sequence(encodeBoolean(true)))))],
      [Buffer.from(sequence(encodeOid(OIDS.keyUsage), encodeOctetString(encodeNamedBits([0])))), Buffer.from(sequence(encodeOid(OIDS.keyUsage), encodeOctetString(encodeNamedBits([0, 5, 6]))))],
      [Buffer.from(sequence(encodeOid(OIDS.subjectAltName), encodeOctetString(sequence(tlv(contextTag(2, false), Buffer.from('ok.mayfly.test')))))), Buffer.from(sequence(encodeOid(OIDS.subjectAltName), encodeOctetString(sequence(tlv(contextTag(2, false), Buffer.from('evil.example.com'))))))],
      [Buffer.from(sequence(encodeOid(OIDS.basicConstraints), encodeOctetString(sequence()))), Buffer.from(sequence(encodeOid(OIDS.basicConstraints), encodeOctetString(sequence(encodeUnsignedInteger(Uint8Array.of(0))))))],
    ] as const);
    const harmfulFirst = rng.chance(0.3);
    extensions.push(...(harmfulFirst ? [harmful, harmless] : [harmless, harmful]));
    description.push(harmfulFirst ? 'harmful then harmless duplicate' : 'harmless then harmful duplicate');
  }
  return { extensions, description };
}

const attribute = (type: Uint8Array, ...values: Uint8Array[]): Buffer => Buffer.from(sequence(type, encode(TAG.SET, ...values)));

/** The attributes field around the extensions: one extensionRequest, split ones, legacy, odd, or none. */
export function attributesField(rng: Prng, extensions: readonly Buffer[]): { der: Buffer; description: string } {
  const request = (exts: readonly Buffer[]) => attribute(encodeOid(OIDS.extensionRequest), sequence(...exts));
  const wrap = (...attrs: Uint8Array[]) => Buffer.from(encode(contextTag(0, true), ...attrs));
  const half = Math.ceil(extensions.length / 2);
  const variant = rng.weighted<string>([[80, 'one'], [4, 'two-attributes'], [3, 'two-values'], [3, 'challenge'], [2, 'ms-legacy'], [2, 'empty-set'], [2, 'none'], [2, 'unknown'], [1, 'primitive-tag'], [1, 'set-tag']]);
  switch (variant) {
    case 'one':
      return { der: extensions.length > 0 || rng.chance(0.5) ? wrap(request(extensions)) : wrap(), description: 'extensionRequest' };
    case 'two-attributes':
      return { der: wrap(request(extensions.slice(0, half)), request(extensions.slice(half))), description: 'two extensionRequest attributes' };
    case 'two-values':
      return { der: wrap(Buffer.from(sequence(encodeOid(OIDS.extensionRequest), encode(TAG.SET, sequence(...extensions.slice(0, half)), sequence(...extensions.slice(half)))))), description: 'two extensionRequest values' };
    case 'challenge':
      return { der: wrap(attribute(encodeOid('1.2.840.113549.1.9.7'), stringValue(TAG.PRINTABLE_STRING, 'secret')), request(extensions)), description: 'challengePassword + extensionRequest' };
    case 'ms-legacy':
      return { der: wrap(attribute(encodeOid('1.3.6.1.4.1.311.2.1.14'), sequence(...extensions))), description: 'extensions in the Microsoft legacy attribute' };
    case 'empty-set':
      return { der: wrap(Buffer.from(sequence(encodeOid(OIDS.extensionRequest), encode(TAG.SET))), request(extensions)), description: 'an extensionRequest with no values, then one' };
    case 'none':
      return { der: Buffer.alloc(0), description: 'no attributes field' };
    case 'unknown':
      return { der: wrap(attribute(oddOid(rng), tlv(0x05)), request(extensions)), description: 'an odd attribute + extensionRequest' };
    case 'primitive-tag':
      return { der: tlv(contextTag(0, false), request(extensions)), description: 'attributes with a primitive [0] tag' };
    default:
      return { der: tlv(TAG.SET, request(extensions)), description: 'attributes tagged SET' };
  }
}

/** The key to claim: the signer's own SPKI, its compressed form, or another key's. */
function spkiFor(rng: Prng, key: SigningKey, others: readonly SigningKey[]): { spki: Buffer; description: string } {
  if (key.type === 'ec' && rng.chance(0.05)) {
    // The same public key with a compressed point.
    const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
    const curve = jwk.crv === 'P-256' ? 'prime256v1' : jwk.crv === 'P-384' ? 'secp384r1' : jwk.crv === 'P-521' ? 'secp521r1' : 'secp256k1';
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const compressed = ECDH.convertKey(point, curve, undefined, undefined, 'compressed') as Buffer;
    const algorithm = strictChildren(strictRoot(key.spki))[0].encoded;
    return { spki: tlv(TAG.SEQUENCE, algorithm, tlv(0x03, Buffer.of(0), compressed)), description: 'compressed EC point' };
  }
  if (rng.chance(0.03)) return { spki: rng.pick(others).spki, description: "another key's SPKI" };
  return { spki: key.spki, description: key.name };
}

const VERSIONS = [Buffer.from('020100', 'hex'), Buffer.from('020101', 'hex'), Buffer.from('020102', 'hex'), Buffer.from('0201ff', 'hex'), Buffer.from('02020000', 'hex'), Buffer.from('02020100', 'hex'), Buffer.from('0200', 'hex'), Buffer.from('0a0100', 'hex'), Buffer.from('0209010000000000000000', 'hex')];

export interface GeneratedCsr {
  readonly der: Buffer;
  /** The certificationRequestInfo that was signed, for tree mutations and signing again. */
  readonly info: Buffer;
  readonly key: SigningKey;
  readonly description: string;
}

/** A random, signed, structure-aware CSR. */
export function generateCsr(rng: Prng, keys: { readonly good: readonly SigningKey[]; readonly bad: readonly SigningKey[] }): GeneratedCsr {
  const key = rng.chance(0.9) ? rng.pick(keys.good) : rng.pick(keys.bad);
  // Most requests name allowed names, so that the refusals that remain say something.
  const allowedBias = rng.chance(0.5);
  const name = () => (allowedBias && rng.chance(0.8) ? rng.pick(NAMES.allowed) : randomName(rng));
  const subject = randomSubject(rng, name);
  const extensions = randomExtensions(rng, name);
  const attributes = attributesField(rng, extensions.extensions);
  const spki = spkiFor(rng, key, [...keys.good, ...keys.bad]);
  const version = rng.chance(0.97) ? VERSIONS[0] : rng.pick(VERSIONS);
  const info = Buffer.from(sequence(version, subject, spki.spki, attributes.der));
  const signed = signedCsr(rng, key, info);
  return { der: signed.der, info, key, description: `key ${spki.description}; ${extensions.description.join(', ') || 'no extensions'}; ${attributes.description}; ${signed.description}` };
}
