// SubjectPublicKeyInfo mutants for the key-encoding fuzz: every way a client can write, or miswrite,
// a public key (curve OIDs, point forms, lengths, infinity, off-curve points, coordinates >= p, RSA
// moduli and exponents, Edwards lengths and small-order points, other algorithms, parameters), each
// in a request signed by the corpus key it was made from, so a mutant that is still that key gets
// past the signature check. Forgeable keys (RSA e = 1, the Ed25519 identity) carry their forgery.
import { constants, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { certificationRequest, ed25519IdentityRequest, exponentOneRequest, pointForms, requestInfo } from '../helpers/public_keys';
import { signingKey, signInfo, type SigningKey } from './csr_builder';
import { mutateBytes } from './mutators';
import type { Prng } from './prng';
import { oidText, strictChildren, strictRoot, tlv } from './tlv';

export interface KeyMutant {
  /** The mutation's kind, for the statistics. */
  readonly family: string;
  readonly description: string;
  readonly der: Buffer;
  /** The SubjectPublicKeyInfo the request carries. */
  readonly spki: Buffer;
  /** The DNS name (and CN) the request asks for. */
  readonly name: string;
  /** The key that signed it, when one did (a forgery has none). */
  readonly signer?: SigningKey;
  /** A mutant every RA must refuse, whatever its validators (a forgery, infinity, a hybrid point). */
  readonly mustRefuse: boolean;
}

const NAMES = ['svc.mayfly.test', 'api.mayfly.test', 'k.mayfly.test', 'x.y.mayfly.test'];

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const OID = {
  ecPublicKey: hex('06072a8648ce3d0201'),
  rsaEncryption: hex('06092a864886f70d010101'),
  rsassaPss: hex('06092a864886f70d01010a'),
  ed25519: hex('06032b6570'),
  ed448: hex('06032b6571'),
  x25519: hex('06032b656e'),
  x448: hex('06032b656f'),
  dsa: hex('06072a8648ce380401'),
  dh: hex('06072a8648ce3e0201'),
  unknown: hex('06032a0304'),
};
const CURVE_OIDS: Readonly<Record<string, Buffer>> = {
  'P-256': hex('06082a8648ce3d030107'),
  'P-384': hex('06052b81040022'),
  'P-521': hex('06052b81040023'),
  secp256k1: hex('06052b8104000a'),
  brainpoolP256r1: hex('06092b2403030208010107'),
  unknown: hex('06082a8648ce3d0301ff'),
};
const FIELD_PRIMES: Readonly<Record<string, bigint>> = {
  'P-256': 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  'P-384': 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
  'P-521': 2n ** 521n - 1n,
  secp256k1: 2n ** 256n - 2n ** 32n - 977n,
};
const NULL = hex('0500');

const spkiOf = (algorithm: Buffer, key: Uint8Array, unusedBits = 0): Buffer => tlv(0x30, algorithm, tlv(0x03, Buffer.of(unusedBits), key));
const bigintOf = (octets: Uint8Array): bigint => (octets.length === 0 ? 0n : BigInt(`0x${Buffer.from(octets).toString('hex')}`));
const octetsOf = (value: bigint, length: number): Buffer => Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex').subarray(-length);
function integer(value: bigint): Buffer {
  if (value < 0n) return tlv(0x02, Buffer.of(0x80 | Number(-value & 0x7fn)));
  let text = value.toString(16);
  if (text.length % 2) text = `0${text}`;
  const octets = Buffer.from(text, 'hex');
  return tlv(0x02, octets[0] & 0x80 ? Buffer.concat([Buffer.of(0), octets]) : octets);
}

/** A corpus key and the facts of its public key the variants are made from, worked out once. */
export interface CorpusKey {
  readonly key: SigningKey;
  /** EC: the JWK curve name, and the point in its three forms. */
  readonly curve?: string;
  readonly forms?: ReturnType<typeof pointForms>;
  /** RSA: modulus and exponent. */
  readonly n?: bigint;
  readonly e?: bigint;
  /** The subjectPublicKey BIT STRING's contents. */
  readonly raw: Buffer;
}

/** The corpus keys by kind, and a 512-bit RSA key made at start. */
export interface KeyCorpus {
  readonly ec: readonly CorpusKey[];
  readonly rsa: readonly CorpusKey[];
  readonly rsaPss: readonly CorpusKey[];
  readonly edwards: readonly CorpusKey[];
  readonly tinyRsa: CorpusKey;
}

function corpusKey(key: SigningKey): CorpusKey {
  const publicKey = createPublicKey(key.privateKey);
  const raw = Buffer.from(strictChildren(strictRoot(key.spki))[1].content.subarray(1));
  if (key.type !== 'ec' && key.type !== 'rsa') return { key, raw };
  const jwk = publicKey.export({ format: 'jwk' });
  if (key.type === 'ec') return { key, curve: jwk.crv!, forms: pointForms(publicKey), raw };
  return { key, n: bigintOf(Buffer.from(jwk.n!, 'base64url')), e: bigintOf(Buffer.from(jwk.e!, 'base64url')), raw };
}

export function keyCorpus(pems: Readonly<Record<string, string>>): KeyCorpus {
  const keys = Object.entries(pems).map(([name, pem]) => corpusKey(signingKey(name, pem)));
  const tiny = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return {
    ec: keys.filter(({ key }) => key.type === 'ec'),
    rsa: keys.filter(({ key }) => key.type === 'rsa'),
    rsaPss: keys.filter(({ key }) => key.type === 'rsa-pss'),
    edwards: keys.filter(({ key }) => key.type === 'ed25519' || key.type === 'ed448'),
    tinyRsa: corpusKey(signingKey('rsa512', tiny)),
  };
}

/**
 * Signs `info` as a client would (ECDSA or PKCS#1 v1.5 with SHA-256, EdDSA), or, for an RSA-PSS key
 * and now and then for the others, the fuzzer's signer with its digests and deliberate mismatches.
 * Signatures are kept by info: the same mutant again costs no second signature. A mutant that
 * cannot be the signer's key (another modulus, exponent or point) can pass no signature check, so it
 * carries the key's signature of another request rather than a fresh one nobody could use.
 */
export class RequestSigner {
  private readonly signatures = new Map<string, { algorithm: Uint8Array; signature: Uint8Array }>();

  request(rng: Prng, key: SigningKey, info: Buffer, fresh: boolean): Buffer {
    const signedInfo = fresh ? info : requestInfo(key.spki);
    const cacheKey = `${key.name}\u0000${signedInfo.toString('base64')}`;
    let signed = this.signatures.get(cacheKey);
    if (!signed) {
      signed = key.type === 'rsa-pss' || rng.chance(0.05) ? signInfo(rng, key, signedInfo) : plainSignature(key.privateKey, key.type, signedInfo);
      if (this.signatures.size > 50_000) this.signatures.clear();
      this.signatures.set(cacheKey, signed);
    }
    return certificationRequest(info, signed.algorithm, signed.signature);
  }
}

/** Families whose key is never the signer's: a fresh signature would verify for none of them. */
const OTHER_KEYS = new Set(['rsa-exponent', 'rsa-modulus', 'ed-small-order', 'other-algorithm', 'ec-off-curve', 'ec-infinity']);

/** Cheap keys (P-256, RSA-2048, Ed25519) four times as often as slow ones (P-521 signs in 2 ms). */
const byCost = (rng: Prng, keys: readonly CorpusKey[]): CorpusKey =>
  rng.weighted(keys.map((entry) => [/p256|rsa2048$|ed25519/.test(entry.key.name) ? 4 : 1, entry] as const));

function plainSignature(privateKey: KeyObject, type: SigningKey['type'], info: Buffer): { algorithm: Uint8Array; signature: Uint8Array } {
  if (type === 'ed25519' || type === 'ed448') return { algorithm: tlv(0x30, type === 'ed25519' ? OID.ed25519 : OID.ed448), signature: sign(null, info, privateKey) };
  if (type === 'ec') return { algorithm: tlv(0x30, hex('06082a8648ce3d040302')), signature: sign('sha256', info, privateKey) };
  return { algorithm: tlv(0x30, hex('06092a864886f70d01010b'), NULL), signature: sign('sha256', info, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }) };
}

interface Spki {
  readonly family: string;
  readonly description: string;
  readonly spki: Buffer;
  readonly mustRefuse: boolean;
}

const variant = (family: string, description: string, spki: Buffer, mustRefuse: boolean): Spki => ({ family, description, spki, mustRefuse });

/** EC: point forms, lengths, infinity, off-curve points, coordinates >= p, curves and parameters. */
function ecVariant(rng: Prng, { key, curve: jwkCurve, forms }: CorpusKey): Spki {
  const curve = jwkCurve!;
  const algorithm = tlv(0x30, OID.ecPublicKey, CURVE_OIDS[curve]);
  const { uncompressed, compressed, hybrid } = forms!;
  const length = (uncompressed.length - 1) / 2;
  const [x, y] = [uncompressed.subarray(1, 1 + length), uncompressed.subarray(1 + length)];
  const p = FIELD_PRIMES[curve];
  const kind = rng.weighted<string>([
    [14, 'uncompressed'], [10, 'compressed'], [3, 'compressed-other-parity'], [8, 'hybrid'], [4, 'hybrid-wrong-parity'], [8, 'infinity'],
    [5, 'prefix'], [6, 'length'], [6, 'off-curve'], [5, 'coordinate-plus-p'], [3, 'coordinate-max'], [7, 'curve-swap'], [6, 'parameters'],
  ]);
  switch (kind) {
    case 'uncompressed':
      return variant('ec-uncompressed', `${curve} uncompressed`, key.spki, false);
    case 'compressed':
      return variant('ec-compressed', `${curve} compressed`, spkiOf(algorithm, compressed), false);
    case 'compressed-other-parity':
      return variant('ec-compressed', `${curve} compressed, other parity (the negated point)`, spkiOf(algorithm, Buffer.concat([Buffer.of(compressed[0] ^ 1), x])), false);
    case 'hybrid':
      return variant('ec-hybrid', `${curve} hybrid`, spkiOf(algorithm, hybrid), true);
    case 'hybrid-wrong-parity':
      return variant('ec-hybrid', `${curve} hybrid, wrong parity`, spkiOf(algorithm, Buffer.concat([Buffer.of(hybrid[0] ^ 1), x, y])), true);
    case 'infinity': {
      const point = rng.pick([Buffer.of(0), Buffer.of(0, 0), Buffer.alloc(uncompressed.length), Buffer.concat([Buffer.of(4), Buffer.alloc(2 * length)])]);
      const on = rng.pick(Object.keys(FIELD_PRIMES));
      return variant('ec-infinity', `infinity-like ${point.subarray(0, 2).toString('hex')}… (${point.length} octets) on ${on}`, spkiOf(tlv(0x30, OID.ecPublicKey, CURVE_OIDS[on]), point), true);
    }
    case 'prefix': {
      const prefix = rng.pick([0x00, 0x01, 0x05, 0x08, 0x40, 0x84, 0xff]);
      return variant('ec-prefix', `${curve} prefix 0x${prefix.toString(16)}`, spkiOf(algorithm, Buffer.concat([Buffer.of(prefix), x, y])), true);
    }
    case 'length': {
      const base = rng.chance(0.5) ? uncompressed : compressed;
      const cut = rng.int(1, 3);
      const point = rng.chance(0.5) ? base.subarray(0, base.length - cut) : Buffer.concat([base, rng.bytes(cut)]);
      return variant('ec-length', `${curve} point of ${point.length} octets (form ${base[0]})`, spkiOf(algorithm, point), true);
    }
    case 'off-curve': {
      const point = Buffer.from(uncompressed);
      point[rng.int(1, point.length - 1)] ^= 1 << rng.below(8);
      return variant('ec-off-curve', `${curve} with one bit flipped`, spkiOf(algorithm, point), true);
    }
    case 'coordinate-plus-p': {
      // The same point mod p, written with a coordinate >= p where the octets have room for it.
      const which = rng.chance(0.5) ? 'x' : 'y';
      const value = bigintOf(which === 'x' ? x : y) + p;
      const fits = value < 2n ** BigInt(8 * length);
      const coordinate = fits ? octetsOf(value, length) : octetsOf(p + BigInt(rng.int(0, 5)) < 2n ** BigInt(8 * length) ? p + BigInt(rng.int(0, 5)) : p, length);
      const point = which === 'x' ? Buffer.concat([Buffer.of(4), coordinate, y]) : Buffer.concat([Buffer.of(4), x, coordinate]);
      return variant('ec-coordinate', `${curve} ${which} ${fits ? '+ p' : '>= p'}`, spkiOf(algorithm, point), true);
    }
    case 'coordinate-max':
      return variant('ec-coordinate', `${curve} x = 2^n - 1`, spkiOf(algorithm, Buffer.concat([Buffer.of(4), Buffer.alloc(length, 0xff), y])), true);
    case 'curve-swap': {
      const other = rng.pick(Object.keys(CURVE_OIDS).filter((name) => name !== curve));
      return variant('ec-curve-swap', `${curve} point labelled ${other}`, spkiOf(tlv(0x30, OID.ecPublicKey, CURVE_OIDS[other]), rng.chance(0.5) ? uncompressed : compressed), true);
    }
    default: {
      const parameters = rng.pick([
        ['absent', Buffer.alloc(0)],
        ['NULL (implicitCurve)', NULL],
        ['specifiedCurve', tlv(0x30, hex('020101'), tlv(0x30, hex('06072a8648ce3d0101'), integer(p)))],
        ['an OID and NULL', Buffer.concat([CURVE_OIDS[curve], NULL])],
        ['a curve OID as a string', tlv(0x0c, Buffer.from('P-256'))],
      ] as const);
      return variant('ec-parameters', `${curve} with parameters ${parameters[0]}`, spkiOf(tlv(0x30, OID.ecPublicKey, parameters[1]), uncompressed), true);
    }
  }
}

/** RSA: exponents (1, even, huge), moduli (even, tiny, huge, with small factors), parameters, structure. */
function rsaVariant(rng: Prng, { key, n: modulusOf, e: exponentOf }: CorpusKey, tiny: SigningKey): Spki {
  const [n, e] = [modulusOf!, exponentOf!];
  const rsaKey = (modulus: bigint, exponent: bigint, parameters: Buffer = NULL, oid = OID.rsaEncryption) =>
    spkiOf(tlv(0x30, oid, parameters), tlv(0x30, integer(modulus), integer(exponent)));
  const kind = rng.weighted<string>([[20, 'valid'], [10, 'exponent'], [10, 'modulus'], [6, 'parameters'], [4, 'structure'], [4, 'tiny']]);
  switch (kind) {
    case 'valid':
      return variant('rsa-valid', `${key.name} as generated`, key.spki, false);
    case 'exponent': {
      const exponent = rng.pick([0n, 1n, 2n, 3n, 5n, 17n, 65535n, 65536n, 65539n, 2n ** 32n + 1n, 2n ** 255n + 1n, 2n ** 256n - 1n, 2n ** 256n + 1n, 2n ** 1024n + 1n, n, n + 2n, -1n]);
      // Only the key's own e is the key; any other fails the signature, or is refused before it.
      return variant('rsa-exponent', `${key.name} with e = ${exponent > 2n ** 64n ? `2^${exponent.toString(2).length - 1}+…` : exponent}`, rsaKey(n, exponent), false);
    }
    case 'modulus': {
      const [what, modulus] = rng.pick<readonly [string, bigint]>([
        ['n + 1 (even)', n + 1n], ['3n', 3n * n], ['n * 997', 997n * n], ['0', 0n], ['1', 1n], ['-n', -1n],
        ['2^16392 + 1', 2n ** 16391n + 1n], ['2^16383 + 1', 2n ** 16383n + 1n], ['2^40000 + 1', 2n ** 40000n + 1n], ['2^1023 + 1', 2n ** 1023n + 1n],
        ['n with its top bit cleared', n ^ (1n << BigInt(n.toString(2).length - 1))],
      ]);
      return variant('rsa-modulus', `${key.name} with modulus ${what}`, rsaKey(modulus, e), false);
    }
    case 'parameters': {
      const [what, parameters, oid] = rng.pick<readonly [string, Buffer, Buffer]>([
        ['absent', Buffer.alloc(0), OID.rsaEncryption], ['an OID', OID.unknown, OID.rsaEncryption], ['a SEQUENCE', tlv(0x30), OID.rsaEncryption],
        ['labelled RSASSA-PSS', Buffer.alloc(0), OID.rsassaPss], ['labelled DSA', NULL, OID.dsa], ['labelled id-ecPublicKey', CURVE_OIDS['P-256'], OID.ecPublicKey],
      ]);
      return variant('rsa-parameters', `${key.name} with parameters ${what}`, rsaKey(n, e, parameters, oid), false);
    }
    case 'structure': {
      const [what, body] = rng.pick<readonly [string, Buffer]>([
        ['a third INTEGER', tlv(0x30, integer(n), integer(e), integer(1n))],
        ['no exponent', tlv(0x30, integer(n))],
        ['a SET', tlv(0x31, integer(n), integer(e))],
        ['trailing octets', Buffer.concat([tlv(0x30, integer(n), integer(e)), Buffer.of(0)])],
        ['a non-minimal modulus', tlv(0x30, tlv(0x02, Buffer.concat([Buffer.of(0, 0), octetsOf(n, Math.ceil(n.toString(16).length / 2))])), integer(e))],
      ]);
      return variant('rsa-structure', `${key.name} RSAPublicKey with ${what}`, spkiOf(tlv(0x30, OID.rsaEncryption, NULL), body), true);
    }
    default:
      return variant('rsa-tiny', '512-bit RSA, correctly signed', tiny.spki, true);
  }
}

/** Ed25519/Ed448: lengths, small-order and non-canonical points, parameters, OIDs of other algorithms. */
function edwardsVariant(rng: Prng, { key, raw }: CorpusKey): Spki {
  const oid = key.type === 'ed25519' ? OID.ed25519 : OID.ed448;
  const kind = rng.weighted<string>([[20, 'valid'], [8, 'length'], [8, 'small-order'], [5, 'non-canonical'], [4, 'parameters'], [6, 'oid']]);
  switch (kind) {
    case 'valid':
      return variant('ed-valid', `${key.type} as generated`, key.spki, false);
    case 'length': {
      const length = rng.pick([0, 1, 31, 33, 56, 57, 58, 64, 114]);
      return variant('ed-length', `${key.type} key of ${length} octets`, spkiOf(tlv(0x30, oid), Buffer.concat([raw, rng.bytes(64)]).subarray(0, length)), length !== raw.length);
    }
    case 'small-order': {
      const point =
        key.type === 'ed25519'
          ? rng.pick(['0100000000000000000000000000000000000000000000000000000000000000', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '0000000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000080', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'])
          : rng.pick([`01${'00'.repeat(56)}`, `${'00'.repeat(57)}`, `fe${'ff'.repeat(27)}fe${'ff'.repeat(27)}00`]);
      return variant('ed-small-order', `${key.type} point ${point.slice(0, 8)}…`, spkiOf(tlv(0x30, oid), hex(point)), true);
    }
    case 'non-canonical': {
      const point = key.type === 'ed25519' ? rng.pick([`ed${'ff'.repeat(30)}7f`, `ee${'ff'.repeat(30)}7f`, `ff${'ff'.repeat(31)}`]) : `${raw.subarray(0, 56).toString('hex')}${rng.pick(['01', '7f', 'ff'])}`;
      return variant('ed-non-canonical', `${key.type} non-canonical ${point.slice(0, 8)}…`, spkiOf(tlv(0x30, oid), hex(point)), true);
    }
    case 'parameters':
      return variant('ed-parameters', `${key.type} with parameters`, spkiOf(tlv(0x30, oid, rng.pick([NULL, OID.unknown])), raw), true);
    default: {
      const [name, other] = rng.pick<readonly [string, Buffer]>([['X25519', OID.x25519], ['X448', OID.x448], ['the other EdDSA curve', key.type === 'ed25519' ? OID.ed448 : OID.ed25519]]);
      return variant('ed-oid', `${key.type} key labelled ${name}`, spkiOf(tlv(0x30, other), raw), true);
    }
  }
}

/** Algorithms that cannot sign a request, and structural faults of the SubjectPublicKeyInfo itself. */
function otherVariant(rng: Prng, { key }: CorpusKey): Spki {
  const [algorithm, bitString] = strictChildren(strictRoot(key.spki));
  const kind = rng.weighted<string>([[5, 'algorithm'], [3, 'unused-bits'], [2, 'extra'], [2, 'algorithm-extra'], [1, 'empty']]);
  switch (kind) {
    case 'algorithm': {
      const [name, identifier, length] = rng.pick<readonly [string, Buffer, number]>([
        ['X25519', tlv(0x30, OID.x25519), 32], ['X448', tlv(0x30, OID.x448), 56],
        ['DSA', tlv(0x30, OID.dsa, tlv(0x30, integer(2n ** 1023n + 1155n), integer(2n ** 159n + 7n), integer(2n))), 130],
        ['DH', tlv(0x30, OID.dh, tlv(0x30, integer(2n ** 1023n + 1155n), integer(2n))), 130], ['an unknown OID', tlv(0x30, OID.unknown), 32],
      ]);
      const body = name === 'DSA' || name === 'DH' ? integer(bigintOf(rng.bytes(length - 2))) : rng.bytes(length);
      return variant('other-algorithm', name, spkiOf(identifier, body), true);
    }
    case 'unused-bits':
      return variant('spki-structure', `${key.name} BIT STRING with unused bits`, spkiOf(algorithm.encoded, bitString.content.subarray(1), rng.int(1, 7)), true);
    case 'extra':
      return variant('spki-structure', `${key.name} with a third element`, tlv(0x30, algorithm.encoded, bitString.encoded, NULL), true);
    case 'algorithm-extra':
      return variant('spki-structure', `${key.name} AlgorithmIdentifier with a third element`, tlv(0x30, tlv(0x30, ...strictChildren(algorithm).map((c) => c.encoded), NULL, NULL), bitString.encoded), true);
    default:
      return variant('spki-structure', `${key.name} with an empty BIT STRING`, tlv(0x30, algorithm.encoded, tlv(0x03)), true);
  }
}

/** One mutant: a structured variant of one corpus key, sometimes with blind byte edits on top. */
export function keyMutant(rng: Prng, corpus: KeyCorpus, signer: RequestSigner): KeyMutant {
  const name = rng.pick(NAMES);
  if (rng.chance(0.03)) {
    const der = rng.chance(0.5) ? exponentOneRequest(rng.pick(corpus.rsa).n!, name) : ed25519IdentityRequest(name);
    const spki = strictChildren(strictChildren(strictRoot(der))[0])[2].encoded;
    return { family: 'forgery', description: spki.length > 100 ? 'RSA e = 1, "signed" with the padded digest' : 'Ed25519 identity, R = identity, S = 0', der, spki, name, mustRefuse: true };
  }
  const kind = rng.weighted<string>([[40, 'ec'], [18, 'rsa'], [4, 'rsa-pss'], [18, 'edwards'], [8, 'other'], [12, 'blind']]);
  let source: CorpusKey;
  let chosen: Spki;
  switch (kind) {
    case 'ec':
      source = byCost(rng, corpus.ec);
      chosen = ecVariant(rng, source);
      break;
    case 'rsa':
      source = byCost(rng, corpus.rsa);
      chosen = rsaVariant(rng, source, corpus.tinyRsa.key);
      if (chosen.family === 'rsa-tiny') source = corpus.tinyRsa;
      break;
    case 'rsa-pss':
      source = rng.pick(corpus.rsaPss);
      chosen = variant('rsa-pss', `${source.key.name} as generated`, source.key.spki, false);
      break;
    case 'edwards':
      source = rng.pick(corpus.edwards);
      chosen = edwardsVariant(rng, source);
      break;
    case 'other':
      source = byCost(rng, [...corpus.ec, ...corpus.edwards]);
      chosen = otherVariant(rng, source);
      break;
    default: {
      // Blind edits of a whole, valid SPKI: what the structured variants did not think of.
      source = byCost(rng, [...corpus.ec, ...corpus.ec, ...corpus.edwards, corpus.rsa[0]]);
      const mutation = mutateBytes(rng, source.key.spki, [rng.pick(corpus.ec).key.spki, rng.pick(corpus.edwards).key.spki]);
      chosen = variant('spki-blind', `${source.key.name}: ${mutation.description}`, mutation.bytes, false);
    }
  }
  const der = signer.request(rng, source.key, requestInfo(chosen.spki, name), !OTHER_KEYS.has(chosen.family));
  return { ...chosen, der, name, signer: source.key };
}

/** The curve or algorithm OID of an SPKI, for reports; never throws. */
export function describeSpki(spki: Buffer): string {
  try {
    const [algorithm] = strictChildren(strictRoot(spki));
    return strictChildren(algorithm).map((child) => (child.tag === 0x06 ? oidText(child) : `tag ${child.tag}`)).join(' ');
  } catch {
    return 'not DER';
  }
}
