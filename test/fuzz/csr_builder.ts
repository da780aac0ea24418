// Builds PKCS#10 requests with Mayfly's own DER writer (src/der.ts), signed with node:crypto by the
// corpus keys: the codec's output becomes the fuzzer's input, and a request whose contents were
// mutated can be signed again so that it gets past the signature check into parsing and policy.
import { constants, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { contextTag, encode, encodeBitString, encodeOid, encodeUnsignedInteger, sequence, TAG } from '../../src/der';
import type { Prng } from './prng';

/** A corpus key: what it is, and how to sign with it. */
export interface SigningKey {
  readonly name: string;
  readonly type: 'ec' | 'rsa' | 'rsa-pss' | 'ed25519' | 'ed448';
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Buffer;
}

export function signingKey(name: string, pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const type = privateKey.asymmetricKeyType as SigningKey['type'];
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { name, type, privateKey, spki };
}

const NULL = (): Uint8Array => encode(TAG.NULL);
const HASH_OIDS: Readonly<Record<string, string>> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};
const ECDSA_OIDS: Readonly<Record<string, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha224: '1.2.840.10045.4.3.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const RSA_OIDS: Readonly<Record<string, string>> = {
  md5: '1.2.840.113549.1.1.4',
  sha1: '1.2.840.113549.1.1.5',
  sha224: '1.2.840.113549.1.1.14',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};

/** A signature: the AlgorithmIdentifier to announce and the signature value. */
export interface Signed {
  readonly algorithm: Uint8Array;
  readonly signature: Uint8Array;
  readonly description: string;
}

/** RFC 4055 3.1 RSASSA-PSS-params with a hash, MGF1 over the same hash, and a salt length. */
function pssAlgorithm(hash: string, saltLength: number): Uint8Array {
  const hashAlgorithm = sequence(encodeOid(HASH_OIDS[hash]));
  return sequence(
    encodeOid('1.2.840.113549.1.1.10'),
    sequence(
      encode(contextTag(0, true), hashAlgorithm),
      encode(contextTag(1, true), sequence(encodeOid('1.2.840.113549.1.1.8'), hashAlgorithm)),
      encode(contextTag(2, true), encodeUnsignedInteger(Uint8Array.of(saltLength))),
    ),
  );
}

/** Bytes of a hash, and of its PKCS#1 v1.5 DigestInfo (which needs 11 more bytes of padding in the modulus). */
const HASH_BYTES = { sha1: 20, sha256: 32, sha384: 48 };
const DIGEST_INFO_BYTES = { md5: 34, sha1: 35, sha224: 47, sha256: 51, sha384: 67, sha512: 83 };

/**
 * Signs `info` with `key`, mostly the way a normal client would; sometimes with an older digest, an
 * announced algorithm that does not match the one used, or a signature that is not over `info`.
 */
export function signInfo(rng: Prng, key: SigningKey, info: Uint8Array): Signed {
  const variant = rng.weighted<'normal' | 'digest' | 'mismatch' | 'wrong-bytes'>([[80, 'normal'], [12, 'digest'], [5, 'mismatch'], [3, 'wrong-bytes']]);
  const signed = variant === 'wrong-bytes' ? Buffer.concat([Buffer.from(info), Buffer.of(0)]) : info;
  switch (key.type) {
    case 'ed25519':
    case 'ed448': {
      const oid = key.type === 'ed25519' ? '1.3.101.112' : '1.3.101.113';
      const announced = variant === 'mismatch' ? (key.type === 'ed25519' ? '1.3.101.113' : '1.3.101.112') : oid;
      return { algorithm: sequence(encodeOid(announced)), signature: sign(null, signed, key.privateKey), description: `${key.type} ${variant}` };
    }
    case 'ec': {
      const hash = variant === 'digest' ? rng.pick(['sha1', 'sha224', 'sha384', 'sha512']) : 'sha256';
      if (variant === 'mismatch' && rng.chance(0.5)) {
        // An RSA algorithm announced over an ECDSA signature: the key type and the algorithm disagree.
        return { algorithm: sequence(encodeOid(RSA_OIDS[hash]), NULL()), signature: sign(hash, signed, key.privateKey), description: `ecdsa ${hash} announced as RSA` };
      }
      const announced = variant === 'mismatch' ? rng.pick(Object.keys(ECDSA_OIDS).filter((h) => h !== hash)) : hash;
      const withNull = rng.chance(0.03);
      const algorithm = withNull ? sequence(encodeOid(ECDSA_OIDS[announced]), NULL()) : sequence(encodeOid(ECDSA_OIDS[announced]));
      const dsaEncoding = rng.chance(0.02) ? 'ieee-p1363' : 'der';
      return { algorithm, signature: sign(hash, signed, { key: key.privateKey, dsaEncoding }), description: `ecdsa ${hash} as ${announced}${withNull ? ' +NULL' : ''} ${dsaEncoding} ${variant}` };
    }
    case 'rsa':
    case 'rsa-pss': {
      // The tiny-RSA mutants' 512-bit key holds neither a SHA-384 or SHA-512 DigestInfo nor PSS with
      // SHA-384 or a 32-byte salt: OpenSSL refuses to make those signatures ("digest too big").
      const modulusBytes = (key.privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
      const pssFits = (hash: keyof typeof HASH_BYTES, saltLength: number) => HASH_BYTES[hash] + saltLength + 2 <= modulusBytes;
      if (key.type === 'rsa-pss' || (variant === 'digest' && rng.chance(0.4))) {
        const hash = rng.pick((['sha256', 'sha384', 'sha1'] as const).filter((h) => pssFits(h, 0)));
        const saltLength = rng.pick([20, 32, 0].filter((salt) => pssFits(hash, salt)));
        const signature = sign(hash, signed, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
        const announced = variant === 'mismatch' ? pssAlgorithm(hash === 'sha256' ? 'sha384' : 'sha256', saltLength) : pssAlgorithm(hash, saltLength);
        return { algorithm: announced, signature, description: `rsa-pss ${hash} salt ${saltLength} ${variant}` };
      }
      const hash = variant === 'digest' ? rng.pick((['md5', 'sha1', 'sha224', 'sha384', 'sha512'] as const).filter((h) => DIGEST_INFO_BYTES[h] + 11 <= modulusBytes)) : 'sha256';
      if (variant === 'mismatch' && rng.chance(0.5)) {
        // An ECDSA algorithm announced over an RSA signature.
        return { algorithm: sequence(encodeOid(ECDSA_OIDS[hash === 'md5' ? 'sha256' : hash])), signature: sign(hash === 'md5' ? 'sha256' : hash, signed, key.privateKey), description: `rsa announced as ECDSA` };
      }
      const announced = variant === 'mismatch' ? rng.pick(Object.keys(RSA_OIDS).filter((h) => h !== hash)) : hash;
      const withoutNull = rng.chance(0.05);
      const algorithm = withoutNull ? sequence(encodeOid(RSA_OIDS[announced])) : sequence(encodeOid(RSA_OIDS[announced]), NULL());
      return { algorithm, signature: sign(hash, signed, key.privateKey), description: `rsa ${hash} as ${announced}${withoutNull ? ' -NULL' : ''} ${variant}` };
    }
  }
}

/** RFC 2986 4: CertificationRequest from its info, signed. */
export function assembleCsr(info: Uint8Array, signed: Signed): Buffer {
  return Buffer.from(sequence(info, signed.algorithm, encodeBitString(signed.signature)));
}

/** Signs `info` with `key` and wraps it, in one step. */
export function signedCsr(rng: Prng, key: SigningKey, info: Uint8Array): { der: Buffer; description: string } {
  const signed = signInfo(rng, key, info);
  return { der: assembleCsr(info, signed), description: signed.description };
}
