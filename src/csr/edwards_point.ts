import { CsrParseError } from './errors';

/** An RFC 8032 curve: its key length and the y coordinates of its points of small order. */
interface EdwardsCurve {
  readonly name: string;
  readonly octets: number;
  readonly p: bigint;
  readonly smallOrderY: readonly bigint[];
}

const P25519 = 2n ** 255n - 19n;
const P448 = 2n ** 448n - 2n ** 224n - 1n;
// y of the points of order 8 on edwards25519 (the others are y = 1, -1 and 0).
const Y_ORDER_8 = 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n;

/** RFC 8410 3 algorithm OIDs. */
export const EDWARDS_CURVES: Readonly<Record<string, EdwardsCurve>> = {
  '1.3.101.112': { name: 'Ed25519', octets: 32, p: P25519, smallOrderY: [0n, 1n, P25519 - 1n, Y_ORDER_8, P25519 - Y_ORDER_8] },
  '1.3.101.113': { name: 'Ed448', octets: 57, p: P448, smallOrderY: [0n, 1n, P448 - 1n] },
};

/**
 * RFC 8032 5.1.3 / 5.2.3: a public key is y, little-endian, with x's sign in the top bit. A point of
 * small order proves nothing: under the identity point (y = 1) the signature R = identity, S = 0
 * verifies for every message in OpenSSL, so such a key would pass proof of possession with no
 * private key at all. A y of p or more is not the canonical encoding (RFC 8032 5.1.3 step 1).
 */
export function checkEdwardsPoint(curve: EdwardsCurve, point: Uint8Array): void {
  if (point.length !== curve.octets) throw new CsrParseError(`the CSR's ${curve.name} public key is ${point.length} octets; RFC 8410 gives ${curve.octets}`);
  // RFC 8032 5.1.2: Ed25519 keeps x's sign in bit 255. 5.2.2: Ed448 in a last octet of its own.
  const yOctets = Buffer.from(point.subarray(0, curve.octets === 57 ? 56 : 32));
  const last = point[point.length - 1];
  if (curve.octets === 57 && (last & 0x7f) !== 0) throw new CsrParseError(`the CSR's ${curve.name} public key is not a canonical point encoding (RFC 8032 5.2.3)`);
  if (curve.octets === 32) yOctets[31] = last & 0x7f;
  const y = BigInt(`0x${yOctets.reverse().toString('hex')}`);
  if (y >= curve.p) throw new CsrParseError(`the CSR's ${curve.name} public key is not a canonical point encoding (RFC 8032 5.1.3)`);
  if (curve.smallOrderY.includes(y)) throw new CsrParseError(`the CSR's ${curve.name} public key is a point of small order, which proves possession of nothing`);
}
