import { DerError, readDer, TAG } from '../der';
import { CsrParseError } from './errors';

// CA/Browser Forum BR 6.1.6 and Boulder's goodkey: the bounds on an RSA key any CA should hold,
// whatever the RA's policy asks for on top. Verifying under a 100,000-bit modulus or exponent is
// also seconds of CPU for one request, so the bounds come before any signature is checked.
const MIN_MODULUS_BITS = 1024;
const MAX_MODULUS_BITS = 16384;
const MAX_EXPONENT_BITS = 256;
const MAX_EXPONENT = 2n ** BigInt(MAX_EXPONENT_BITS) - 1n;
// Boulder goodkey: a modulus with a factor this small is no RSA key (and trivially factored). The odd
// primes below 1000 go in groups whose product is below 2^53: one BigInt division by each group,
// then exact arithmetic in doubles, instead of one BigInt division by each of 167 primes.
const PRIME_GROUPS: readonly { readonly product: bigint; readonly primes: readonly number[] }[] = (() => {
  const primes: number[] = [];
  for (let n = 3; n < 1000; n += 2) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const groups: { product: number; primes: number[] }[] = [];
  for (const prime of primes) {
    const last = groups[groups.length - 1];
    if (last && last.product * prime < 2 ** 53) {
      last.product *= prime;
      last.primes.push(prime);
    } else groups.push({ product: prime, primes: [prime] });
  }
  return groups.map(({ product, primes: members }) => ({ product: BigInt(product), primes: members }));
})();

function hasSmallFactor(modulus: Uint8Array): boolean {
  if ((modulus[modulus.length - 1] & 1) === 0) return true;
  const n = BigInt(`0x${Buffer.from(modulus.buffer, modulus.byteOffset, modulus.byteLength).toString('hex')}`);
  return PRIME_GROUPS.some(({ product, primes }) => {
    const remainder = Number(n % product);
    return primes.some((prime) => remainder % prime === 0);
  });
}

/** The bit length of a big-endian unsigned integer. */
function bitLength(octets: Uint8Array): number {
  let start = 0;
  while (start < octets.length && octets[start] === 0) start++;
  return start === octets.length ? 0 : (octets.length - start - 1) * 8 + 32 - Math.clz32(octets[start]);
}

/** An RSA public key's modulus length and exponent. */
export interface RsaPublicKey {
  readonly bits: number;
  readonly exponent: bigint;
}

/**
 * RFC 8017 A.1.1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, held in the
 * subjectPublicKey BIT STRING, checked so the self-signature can prove possession: with e = 1 the
 * "signature" is the padded digest itself, anyone can make it; an even e or modulus is no RSA key.
 */
export function readRsaPublicKey(subjectPublicKey: Uint8Array): RsaPublicKey {
  let modulus: Uint8Array;
  let exponent: bigint;
  try {
    // validate(): both INTEGERs minimally encoded (X.690 8.3.2).
    const fields = readDer(subjectPublicKey).expect(TAG.SEQUENCE, 'RSAPublicKey').validate().children();
    if (fields.length !== 2 || fields.some((field) => field.tag !== TAG.INTEGER)) throw new DerError('RSAPublicKey is not a modulus and an exponent');
    modulus = fields[0].content;
    if ((modulus[0] & 0x80) !== 0) throw new DerError('the modulus is negative');
    // The exponent's size from its octet count first: a BigInt of a megabyte-long INTEGER is slow to build.
    if (fields[1].content.length > MAX_EXPONENT_BITS / 8 + 1) throw outOfBounds(`public exponent of more than ${MAX_EXPONENT_BITS} bits`);
    exponent = fields[1].unsignedInteger();
  } catch (error) {
    if (error instanceof DerError) throw new CsrParseError("the CSR's RSA public key is not a DER RSAPublicKey (RFC 8017 A.1.1)");
    throw error;
  }
  const bits = bitLength(modulus);
  if (bits < MIN_MODULUS_BITS || bits > MAX_MODULUS_BITS) throw outOfBounds(bits > MAX_MODULUS_BITS ? `modulus of more than ${MAX_MODULUS_BITS} bits` : `modulus of ${bits} bits`);
  if (hasSmallFactor(modulus)) throw new CsrParseError("the CSR's RSA modulus has a small factor, so it is no RSA key");
  // BR 6.1.6: the public exponent is odd and at least 3; at most 2^256 - 1 (so below any modulus read here).
  if (exponent < 3n || exponent > MAX_EXPONENT || (exponent & 1n) === 0n) {
    throw new CsrParseError(`the CSR's RSA public exponent ${exponent > MAX_EXPONENT ? 'of more than 256 bits' : exponent} is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)`);
  }
  return { bits, exponent };
}

const outOfBounds = (what: string) =>
  new CsrParseError(`the CSR's RSA public key has a ${what}; Mayfly reads moduli of ${MIN_MODULUS_BITS} to ${MAX_MODULUS_BITS} bits and exponents to 2^256 - 1`);
