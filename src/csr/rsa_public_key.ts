import { DerError, readDer, TAG } from '../der';
import { CsrParseError } from './errors';

// CA/Browser Forum BR 6.1.6 and Boulder's goodkey: the bounds on an RSA key any CA should hold,
// whatever the RA's policy asks for on top. Verifying under a 100,000-bit modulus or exponent is
// also seconds of CPU for one request, so the bounds come before any signature is checked.
const MIN_MODULUS_BITS = 1024;
const MAX_MODULUS_BITS = 16384;
const MAX_EXPONENT_BITS = 256;
const MAX_EXPONENT = 2n ** BigInt(MAX_EXPONENT_BITS) - 1n;
// Boulder goodkey: a modulus with a factor this small is no RSA key (and trivially factored).
const SMALL_PRIMES: readonly bigint[] = (() => {
  const primes: bigint[] = [];
  for (let n = 3; n < 1000; n += 2) if (primes.every((p) => BigInt(n) % p !== 0n)) primes.push(BigInt(n));
  return primes;
})();

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
  let modulus: bigint;
  let exponent: bigint;
  try {
    const fields = readDer(subjectPublicKey).expect(TAG.SEQUENCE, 'RSAPublicKey').children();
    if (fields.length !== 2) throw new DerError('RSAPublicKey is not a modulus and an exponent');
    // Sizes from the octet counts first: a BigInt of a megabyte-long INTEGER is itself slow to build.
    const [modulusOctets, exponentOctets] = fields.map((field) => field.content.length);
    if (modulusOctets > MAX_MODULUS_BITS / 8 + 1) throw outOfBounds(`modulus of more than ${MAX_MODULUS_BITS} bits`);
    if (exponentOctets > MAX_EXPONENT_BITS / 8 + 1) throw outOfBounds(`public exponent of more than ${MAX_EXPONENT_BITS} bits`);
    [modulus, exponent] = fields.map((field) => field.unsignedInteger());
  } catch (error) {
    if (error instanceof DerError) throw new CsrParseError("the CSR's RSA public key is not a DER RSAPublicKey (RFC 8017 A.1.1)");
    throw error;
  }
  const bits = modulus.toString(2).length;
  if (bits < MIN_MODULUS_BITS || bits > MAX_MODULUS_BITS) throw outOfBounds(`modulus of ${bits} bits`);
  if ((modulus & 1n) === 0n || SMALL_PRIMES.some((prime) => modulus % prime === 0n)) {
    throw new CsrParseError("the CSR's RSA modulus has a small factor, so it is no RSA key");
  }
  // BR 6.1.6: the public exponent is odd and at least 3; at most 2^256 - 1.
  if (exponent < 3n || exponent > MAX_EXPONENT || (exponent & 1n) === 0n || exponent >= modulus) {
    throw new CsrParseError(`the CSR's RSA public exponent ${exponent > MAX_EXPONENT ? 'of more than 256 bits' : exponent} is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)`);
  }
  return { bits, exponent };
}

const outOfBounds = (what: string) =>
  new CsrParseError(`the CSR's RSA public key has a ${what}; Mayfly reads moduli of ${MIN_MODULUS_BITS} to ${MAX_MODULUS_BITS} bits and exponents to 2^256 - 1`);
