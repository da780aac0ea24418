import { CsrParseError } from './errors';

/** A short-Weierstrass curve y² = x³ + ax + b over GF(p), as SEC 2 2.4 and FIPS 186-4 D.1.2 give it. */
export interface WeierstrassCurve {
  /** The name a JWK (RFC 7518 6.2.1.1) and the audit record use. */
  readonly name: string;
  readonly bits: number;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
}

/** RFC 5480 2.1.1.1 named curves (and SEC 2's secp256k1), by OID. Every p here is 3 mod 4. */
export const NAMED_CURVES: Readonly<Record<string, WeierstrassCurve>> = {
  '1.2.840.10045.3.1.7': {
    name: 'P-256',
    bits: 256,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    a: -3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  '1.3.132.0.34': {
    name: 'P-384',
    bits: 384,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    a: -3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  '1.3.132.0.35': {
    name: 'P-521',
    bits: 521,
    p: 2n ** 521n - 1n,
    a: -3n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256, p: 2n ** 256n - 2n ** 32n - 977n, a: 0n, b: 7n },
};

const mod = (value: bigint, p: bigint): bigint => ((value % p) + p) % p;

function modPow(base: bigint, exponent: bigint, p: bigint): bigint {
  let result = 1n;
  for (let b = mod(base, p), e = exponent; e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) result = (result * b) % p;
  return result;
}

const toBigInt = (octets: Uint8Array): bigint => (octets.length === 0 ? 0n : BigInt(`0x${Buffer.from(octets).toString('hex')}`));

/** An unsigned integer as exactly `length` big-endian octets (SEC 1 2.3.5 field element). */
export const fieldOctets = (value: bigint, length: number): Buffer => Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');

/**
 * SEC 1 2.3.4: an ECPoint octet string → the affine point it names, which must be on the curve.
 * The point at infinity (a lone 0x00) names no key. Hybrid forms (0x06/0x07) repeat y's parity in
 * the prefix, which RFC 5480 2.2 does not allow. A compressed point (0x02/0x03) is read by solving
 * for y, so the certificate can carry the one uncompressed form every client reads.
 */
export function readEcPoint(curve: WeierstrassCurve, point: Uint8Array): { x: bigint; y: bigint } {
  const length = Math.ceil(curve.bits / 8);
  const refuse = (why: string) => new CsrParseError(`the CSR's ${curve.name} public key ${why}`);
  if (point.length === 0) throw refuse('is empty');
  const prefix = point[0];
  if (prefix === 0x00) throw refuse('is the point at infinity (RFC 5480 2.2)');
  if (prefix === 0x06 || prefix === 0x07) throw refuse('uses the hybrid point form, which RFC 5480 2.2 does not allow');
  const compressed = prefix === 0x02 || prefix === 0x03;
  if (!compressed && prefix !== 0x04) throw refuse(`has unknown point form 0x${prefix.toString(16).padStart(2, '0')}`);
  const expected = compressed ? 1 + length : 1 + 2 * length;
  if (point.length !== expected) throw refuse(`point is ${point.length} octets; its form takes ${expected}`);
  const x = toBigInt(point.subarray(1, 1 + length));
  if (x >= curve.p) throw refuse('has an x coordinate outside the field (SEC 1 2.3.4)');
  const right = mod(x * x * x + curve.a * x + curve.b, curve.p);
  if (compressed) {
    // p ≡ 3 (mod 4): a square root of c is c^((p+1)/4), when c is a square at all.
    const root = modPow(right, (curve.p + 1n) / 4n, curve.p);
    if ((root * root) % curve.p !== right) throw refuse('is not a point on the curve');
    const y = (root & 1n) === BigInt(prefix & 1) ? root : mod(-root, curve.p);
    return { x, y };
  }
  const y = toBigInt(point.subarray(1 + length));
  if (y >= curve.p) throw refuse('has a y coordinate outside the field (SEC 1 2.3.4)');
  if ((y * y) % curve.p !== right) throw refuse('is not a point on the curve');
  return { x, y };
}
