import type { KeyObject } from 'node:crypto';
import { encode, encodeOid, sequence, TAG } from '../der';
import { SignerConfigError } from './signer';

/** How a CA key signs: Node's digest name and the AlgorithmIdentifier that names the result. */
export interface SignatureScheme {
  /** Node's digest for crypto.sign; null for EdDSA, which hashes internally. */
  readonly digest: string | null;
  readonly algorithmIdentifier: Uint8Array;
  /** e.g. "EC P-256", "RSA 2048", "Ed25519" */
  readonly keyDescription: string;
}

const NULL = encode(TAG.NULL);

// RFC 5758 3.2: ECDSA identifiers have absent parameters. RFC 4055 5: RSA PKCS#1 v1.5 has NULL.
// RFC 8410 3: Ed25519 has absent parameters.
const EC_SCHEMES: Readonly<Record<string, { digest: string; oid: string; name: string }>> = {
  prime256v1: { digest: 'sha256', oid: '1.2.840.10045.4.3.2', name: 'P-256' },
  secp384r1: { digest: 'sha384', oid: '1.2.840.10045.4.3.3', name: 'P-384' },
  secp521r1: { digest: 'sha512', oid: '1.2.840.10045.4.3.4', name: 'P-521' },
};
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ED25519 = '1.3.101.112';

/** The signature scheme a CA key of this type uses. */
export function signatureSchemeFor(key: KeyObject): SignatureScheme {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const scheme = EC_SCHEMES[details.namedCurve ?? ''];
      if (!scheme) throw new SignerConfigError(`EC curve ${details.namedCurve} is not supported for a CA key; use P-256 or P-384`);
      return { digest: scheme.digest, algorithmIdentifier: sequence(encodeOid(scheme.oid)), keyDescription: `EC ${scheme.name}` };
    }
    case 'rsa':
      if ((details.modulusLength ?? 0) < 2048) throw new SignerConfigError(`an RSA CA key must have at least 2048 bits, this one has ${details.modulusLength}`);
      return { digest: 'sha256', algorithmIdentifier: sequence(encodeOid(SHA256_WITH_RSA), NULL), keyDescription: `RSA ${details.modulusLength}` };
    case 'ed25519':
      return { digest: null, algorithmIdentifier: sequence(encodeOid(ED25519)), keyDescription: 'Ed25519' };
    default:
      throw new SignerConfigError(`a ${key.asymmetricKeyType} key cannot be a CA key; use EC P-256/P-384, RSA 2048–4096 or Ed25519`);
  }
}
