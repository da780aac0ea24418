// The native core's ECDSA verify (native/ecdsa_verify.c) against node:crypto, the reference it
// replaces on the signing path: for every curve and digest a CSR may use, valid signatures, every
// byte of a signature changed, and the malformed encodings OpenSSL must refuse (BER lengths, padded
// or negative integers, r or s of 0 or n, trailing bytes), both must answer the same. The CSR
// reader's differential test (test/differential/csr_parse.ts) then compares whole requests.
import { createECDH, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { nativeCore } from '../../src/csr/native_core';
import { NAMED_CURVES } from '../../src/csr/ec_point';
import { parseCertificationRequest } from '../../src/csr/parse';
import { readSignatureAlgorithm } from '../../src/csr/signature';
import { makeCsr } from '../helpers/openssl';
import { tlv } from './support/asn1';

const CURVES = ['P-256', 'P-384', 'P-521', 'secp256k1'] as const;
const DIGESTS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
type Curve = (typeof CURVES)[number];

/** Each curve's group order n (SEC 2 2.4, FIPS 186-4 D.1.2); the high-S case below checks them. */
const ORDER: Record<Curve, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521': 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
};

interface Key {
  readonly curve: Curve;
  readonly privateKey: KeyObject;
  readonly spki: Buffer;
  readonly point: Buffer;
}

function keyOn(curve: Curve): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return { curve, privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }), point };
}

const native = nativeCore!;

function reference(key: Key, digest: string, signed: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(digest, signed, { key: key.spki, format: 'der', type: 'spki', dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** Both verifiers' answers, for one expectation that names the case when they differ. */
function answers(key: Key, digest: (typeof DIGESTS)[number], signed: Uint8Array, signature: Uint8Array) {
  return { native: native.verifyEcdsa(key.curve, key.point, digest, signed, signature), reference: reference(key, digest, signed, signature) };
}

/** The big-endian octets of a non-negative value, none to spare. */
function magnitude(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** DER INTEGER content of a non-negative value: minimal, with a 0x00 before a high bit. */
function integer(value: bigint): Buffer {
  const bytes = magnitude(value);
  return bytes[0] & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
}

const ecdsaSig = (r: Buffer, s: Buffer): Buffer => tlv(0x30, tlv(0x02, r), tlv(0x02, s));

/** a⁻¹ mod n (n prime), by Fermat. */
function inverse(a: bigint, n: bigint): bigint {
  let result = 1n;
  for (let base = a % n, exponent = n - 2n; exponent > 0n; exponent >>= 1n, base = (base * base) % n) if (exponent & 1n) result = (result * base) % n;
  return result;
}

function rs(key: Key, signed: Uint8Array): { r: bigint; s: bigint } {
  const raw = sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  const half = raw.length / 2;
  return { r: BigInt(`0x${raw.subarray(0, half).toString('hex')}`), s: BigInt(`0x${raw.subarray(half).toString('hex')}`) };
}

interface FreshStage {
  readonly parse: typeof parseCertificationRequest;
  readonly core: typeof nativeCore;
  /** Each ECDSA verify the stage asked of the native module: curve, point length and prefix, digest. */
  readonly calls: readonly string[];
}

/**
 * src/csr loaded afresh, in a module registry of its own, with `mayfly-native` exporting what it
 * does but for `exports` (or failing to load with `loadError`) and node:crypto's getFips answering `fips`.
 */
function freshCsrStage(options: { readonly exports?: Partial<typeof native>; readonly loadError?: Error; readonly fips?: number } = {}): FreshStage {
  const calls: string[] = [];
  let loaded!: Omit<FreshStage, 'calls'>;
  jest.isolateModules(() => {
    if (options.fips !== undefined) jest.doMock('node:crypto', () => ({ ...jest.requireActual<typeof import('node:crypto')>('node:crypto'), getFips: () => options.fips }));
    jest.doMock('mayfly-native', () => {
      if (options.loadError) throw options.loadError;
      const verifyEcdsa = (...args: Parameters<typeof native.verifyEcdsa>) => {
        calls.push(`${args[0]} ${args[1].length} octets from 0x0${args[1][0].toString(16)} ${args[2]}`);
        return native.verifyEcdsa(...args);
      };
      return { ...native, verifyEcdsa, ...options.exports };
    });
    try {
      loaded = { parse: require('../../src/csr/parse').parseCertificationRequest, core: require('../../src/csr/native_core').nativeCore };
    } finally {
      jest.dontMock('node:crypto');
      jest.dontMock('mayfly-native');
    }
  });
  return { ...loaded, calls };
}

describe('the native core', () => {
  const keys = Object.fromEntries(CURVES.map((curve) => [curve, keyOn(curve)])) as Record<Curve, Key>;
  const signed = randomBytes(300);

  it('is built by npm ci', () => {
    expect(nativeCore).toBeDefined();
    expect(typeof nativeCore?.verifyEcdsa).toBe('function');
  });

  it('is what the CSR stage verifies EC signatures with, from the uncompressed point, and no other', () => {
    const { parse, calls } = freshCsrStage();
    for (const keyType of ['p256', 'p384', 'rsa2048', 'ed25519'] as const) expect({ keyType, valid: parse(makeCsr({ keyType }).der).signatureValid }).toEqual({ keyType, valid: true });
    expect(calls).toEqual(['P-256 65 octets from 0x04 sha256', 'P-384 97 octets from 0x04 sha256']);
  });

  it('knows every curve the CSR reader takes and every ECDSA digest, so that no CSR goes to it with a name it would throw on', () => {
    expect(Object.values(NAMED_CURVES).map(({ name }) => name).filter((name) => !native.curves.includes(name))).toEqual([]);
    const ecdsaDigests = ['1', '3.1', '3.2', '3.3', '3.4'].map((arc) => readSignatureAlgorithm(`1.2.840.10045.4.${arc}`).digest);
    expect(ecdsaDigests.filter((digest) => !native.digests.includes(digest!))).toEqual([]);
  });

  it('is given only the curves it declares: on one it lacks, node:crypto verifies', () => {
    const { parse, calls } = freshCsrStage({ exports: { curves: ['P-256'] } });
    const { der } = makeCsr({ keyType: 'p384' });
    const changed = Buffer.from(der);
    changed[changed.length - 5] ^= 0x01;
    expect([parse(der).signatureValid, parse(changed).signatureValid, parse(makeCsr({ keyType: 'p256' }).der).signatureValid]).toEqual([true, false, true]);
    expect(calls).toEqual(['P-256 65 octets from 0x04 sha256']);
  });

  describe.each(CURVES)('%s', (curve) => {
    const key = keys[curve];

    it.each(DIGESTS)('agrees with node:crypto on a valid %s signature, and on the data or the key changed', (digest) => {
      const signature = sign(digest, signed, { key: key.privateKey, dsaEncoding: 'der' });
      expect(answers(key, digest, signed, signature)).toEqual({ native: true, reference: true });
      const changed = Buffer.from(signed);
      changed[17] ^= 0x01;
      expect(answers(key, digest, changed, signature)).toEqual({ native: false, reference: false });
      const other = { ...keyOn(curve), privateKey: key.privateKey };
      expect(answers(other, digest, signed, signature)).toEqual({ native: false, reference: false });
      expect(answers(key, digest === 'sha256' ? 'sha384' : 'sha256', signed, signature)).toEqual({ native: false, reference: false });
    });

    it('agrees with node:crypto with every byte of a signature changed', () => {
      const signature = sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'der' });
      const disagreements: string[] = [];
      for (let at = 0; at < signature.length; at++) {
        for (const flip of [0x01, 0x80, 0xff]) {
          const changed = Buffer.from(signature);
          changed[at] ^= flip;
          const { native: mine, reference: theirs } = answers(key, 'sha256', signed, changed);
          if (mine !== theirs) disagreements.push(`byte ${at} ^ 0x${flip.toString(16)}: native ${mine}, node:crypto ${theirs}`);
          if (mine) disagreements.push(`byte ${at} ^ 0x${flip.toString(16)}: accepted`);
        }
      }
      expect(disagreements).toEqual([]);
    });

    it('agrees with node:crypto on malformed and edge-case encodings of (r, s)', () => {
      const { r, s } = rs(key, signed);
      const n = ORDER[curve];
      const valid = ecdsaSig(integer(r), integer(s));
      const cases: Record<string, { signature: Buffer; valid: boolean }> = {
        'the signature as made': { signature: valid, valid: true },
        // ECDSA accepts (r, n - s) too; OpenSSL does not enforce low S, and neither side may differ.
        'high S (n - s)': { signature: ecdsaSig(integer(r), integer(n - s)), valid: true },
        'a trailing byte': { signature: Buffer.concat([valid, Buffer.of(0)]), valid: false },
        'r padded with a 0x00': { signature: ecdsaSig(Buffer.concat([Buffer.of(0), integer(r)]), integer(s)), valid: false },
        'a long-form length of the SEQUENCE (BER)': {
          signature: Buffer.concat([Buffer.of(0x30, 0x81, valid.length - 2), valid.subarray(2)]),
          valid: false,
        },
        // Valid only when r's top bit is clear, which a DER INTEGER needs no 0x00 for.
        'r without its 0x00 (negative when its top bit is set)': { signature: ecdsaSig(magnitude(r), integer(s)), valid: magnitude(r)[0] < 0x80 },
        'r = 0': { signature: ecdsaSig(integer(0n), integer(s)), valid: false },
        's = 0': { signature: ecdsaSig(integer(r), integer(0n)), valid: false },
        'r = n': { signature: ecdsaSig(integer(n), integer(s)), valid: false },
        's = n': { signature: ecdsaSig(integer(r), integer(n)), valid: false },
        'r + n': { signature: ecdsaSig(integer(r + n), integer(s)), valid: false },
        'r and s swapped': { signature: ecdsaSig(integer(s), integer(r)), valid: false },
        'the raw r || s (IEEE P1363), not DER': { signature: sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }), valid: false },
        'truncated by a byte': { signature: valid.subarray(0, valid.length - 1), valid: false },
        'empty': { signature: Buffer.alloc(0), valid: false },
        'an empty SEQUENCE': { signature: Buffer.of(0x30, 0), valid: false },
      };
      for (const [name, { signature, valid: expected }] of Object.entries(cases)) {
        expect({ name, ...answers(key, 'sha256', signed, signature) }).toEqual({ name, native: expected, reference: expected });
      }
    });
  });

  it.each(CURVES)('takes the %s point only uncompressed: compressed, hybrid or with a byte more or less, it answers false', (curve) => {
    const key = keys[curve];
    const signature = sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'der' });
    const field = (key.point.length - 1) / 2;
    const x = key.point.subarray(1, 1 + field);
    const odd = key.point[key.point.length - 1] & 1;
    const forms: Record<string, Buffer> = {
      uncompressed: key.point,
      compressed: Buffer.concat([Buffer.of(0x02 | odd), x]),
      hybrid: Buffer.concat([Buffer.of(0x06 | odd), key.point.subarray(1)]),
      'a byte more': Buffer.concat([key.point, Buffer.of(0)]),
      'x and y each a byte longer': Buffer.concat([Buffer.of(0x04, 0), x, Buffer.of(0), key.point.subarray(1 + field)]),
      'a byte less': key.point.subarray(0, key.point.length - 1),
    };
    // node:crypto takes the compressed and hybrid forms as the same key: the TypeScript side never sends them.
    expect(Object.fromEntries(Object.entries(forms).map(([form, point]) => [form, native.verifyEcdsa(curve, point, 'sha256', signed, signature)]))).toEqual({
      uncompressed: true,
      compressed: false,
      hybrid: false,
      'a byte more': false,
      'x and y each a byte longer': false,
      'a byte less': false,
    });
  });

  it('refuses the point at infinity, with which a signature that no private key made would verify', () => {
    // With Q at infinity, u1·G + u2·Q is u1·G: pick u1, and (r, s) = (x(u1·G), e / u1) verifies for any message.
    const n = ORDER['P-256'];
    const e = BigInt(`0x${createHash('sha256').update(signed).digest('hex')}`) % n;
    const u1 = 123_456_789n;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(u1.toString(16).padStart(64, '0'), 'hex'));
    const r = BigInt(`0x${ecdh.getPublicKey().subarray(1, 33).toString('hex')}`) % n;
    const forged = ecdsaSig(integer(r), integer((e * inverse(u1, n)) % n));
    const infinity = Buffer.of(0x00);
    // node:crypto imports an SPKI holding 0x00 and accepts the forgery: the CSR reader refuses such a key first.
    const algorithm = keys['P-256'].spki.subarray(2, 23); // the SPKI's AlgorithmIdentifier: id-ecPublicKey, P-256
    const spkiAtInfinity = tlv(0x30, algorithm, tlv(0x03, Buffer.of(0), infinity));
    expect(verify('sha256', signed, { key: spkiAtInfinity, format: 'der', type: 'spki', dsaEncoding: 'der' }, forged)).toBe(true);
    expect(native.verifyEcdsa('P-256', infinity, 'sha256', signed, forged)).toBe(false);
  });

  it('answers false for a point that is not on the curve, where node:crypto cannot import the key', () => {
    const key = keys['P-256'];
    const signature = sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'der' });
    const offCurve = Buffer.from(key.point);
    offCurve[64] ^= 0x01;
    expect(native.verifyEcdsa('P-256', offCurve, 'sha256', signed, signature)).toBe(false);
    expect(native.verifyEcdsa('P-256', key.point.subarray(0, 33), 'sha256', signed, signature)).toBe(false);
    expect(native.verifyEcdsa('P-384', key.point, 'sha256', signed, signature)).toBe(false);
  });

  it('refuses arguments of the wrong types or names with a TypeError, not a crash', () => {
    const { point } = keys['P-256'];
    const bytes = Buffer.alloc(8);
    const verifyWith = native.verifyEcdsa as (...args: unknown[]) => boolean;
    // The module's errors come from outside Jest's realm: compared by name and message, not class.
    const thrown = (...args: unknown[]): string => {
      try {
        verifyWith(...args);
        return 'nothing thrown';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    expect(thrown('P-192', point, 'sha256', bytes, bytes)).toBe('TypeError: verifyEcdsa: unknown curve');
    expect(thrown('P-256', point, 'md5', bytes, bytes)).toBe('TypeError: verifyEcdsa: unknown digest');
    expect(thrown('P-256', 'not bytes', 'sha256', bytes, bytes)).toBe('TypeError: verifyEcdsa: the point, the signed bytes and the signature are Uint8Arrays');
    expect(thrown('P-256', point, 'sha256', bytes, new Uint16Array(4))).toBe('TypeError: verifyEcdsa: the point, the signed bytes and the signature are Uint8Arrays');
    expect(thrown('P-256', point, 'sha256', bytes)).toBe('TypeError: verifyEcdsa takes five arguments');
    expect(thrown(256, point, 'sha256', bytes, bytes)).toBe('TypeError: verifyEcdsa: the curve and the digest are strings');
    expect(thrown('P-256-and-then-some', point, 'sha256', bytes, bytes)).toBe('TypeError: verifyEcdsa: unknown curve');
    expect(thrown('P-256\0junk', point, 'sha256', bytes, bytes)).toBe('TypeError: verifyEcdsa: unknown curve');
    expect(thrown('P-256', point, 'sha256\0', bytes, bytes)).toBe('TypeError: verifyEcdsa: unknown digest');
    expect(native.verifyEcdsa('P-256', point, 'sha256', new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });

  it('leaves no OpenSSL error behind for node:crypto to find after a refusal', () => {
    const key = keys['P-256'];
    for (let i = 0; i < 50; i++) expect(native.verifyEcdsa('P-256', key.point, 'sha256', signed, Buffer.of(0x30, 0x81))).toBe(false);
    const offCurve = Buffer.from(key.point);
    offCurve[64] ^= 0x01;
    expect(native.verifyEcdsa('P-256', offCurve, 'sha256', signed, Buffer.of(0x30, 0x81))).toBe(false);
    // node:crypto clears the queue before its own calls, so only the queue itself shows what a refusal left.
    expect(native.openSslErrorPending()).toBe(false);
    const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect(createPrivateKey(pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(verify('sha256', signed, { key: key.spki, format: 'der', type: 'spki' }, sign('sha256', signed, key.privateKey))).toBe(true);
  });

  describe('where npm did not build it (npm ci --ignore-scripts)', () => {
    it('falls back to node:crypto, which verifies the same CSRs alike', () => {
      const { parse, core } = freshCsrStage({ loadError: Object.assign(new Error("Cannot find module './build/Release/mayfly_native.node'"), { code: 'MODULE_NOT_FOUND' }) });
      expect(core).toBeUndefined();
      for (const keyType of ['p256', 'p384'] as const) {
        const { der } = makeCsr({ keyType });
        const changed = Buffer.from(der);
        changed[changed.length - 5] ^= 0x01;
        expect([parse(der).signatureValid, parse(changed).signatureValid]).toEqual([true, false]);
        expect([parseCertificationRequest(der).signatureValid, parseCertificationRequest(changed).signatureValid]).toEqual([true, false]);
      }
    });

    it('does not hide a module that is there and fails to load', () => {
      expect(() => freshCsrStage({ loadError: new Error('undefined symbol: EC_KEY_oct2key') })).toThrow('undefined symbol: EC_KEY_oct2key');
    });
  });

  it('is not used when Node runs in FIPS mode (its EC calls would bypass the FIPS provider): node:crypto verifies', () => {
    // This Node has no FIPS provider to start with (--enable-fips fails): FIPS mode is what getFips reports.
    const loaded = freshCsrStage({ fips: 1 });
    expect(loaded.core).toBeUndefined();
    const { der } = makeCsr({ keyType: 'p256' });
    const changed = Buffer.from(der);
    changed[changed.length - 5] ^= 0x01;
    expect([loaded.parse(der).signatureValid, loaded.parse(changed).signatureValid]).toEqual([true, false]);
    expect(loaded.calls).toEqual([]);
  });

  it.each(['p256', 'p384'] as const)('verifies what OpenSSL signs: a %s CSR from `openssl req` is valid, with its signature changed not', (keyType) => {
    const { der } = makeCsr({ keyType });
    expect(parseCertificationRequest(der).signatureValid).toBe(true);
    const changed = Buffer.from(der);
    changed[changed.length - 5] ^= 0x01;
    expect(parseCertificationRequest(changed).signatureValid).toBe(false);
  });
});
