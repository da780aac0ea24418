import { constants, verify, type KeyObject } from 'node:crypto';
import { contextTag, TAG, type DerNode } from '../der';

/** How Node verifies one signature algorithm: the digest (null for EdDSA) and, for PSS, the padding. */
interface VerifyMethod {
  readonly name: string;
  readonly digest: string | null;
  readonly pss?: true;
}

// RFC 3279, RFC 4055, RFC 5758, RFC 8410 signature algorithm identifiers.
const SIGNATURE_ALGORITHMS: Readonly<Record<string, VerifyMethod>> = {
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', digest: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', digest: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', digest: 'sha512' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', digest: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', digest: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', digest: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', digest: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', digest: null, pss: true },
  '1.3.101.112': { name: 'Ed25519', digest: null },
  '1.3.101.113': { name: 'Ed448', digest: null },
};

const PSS_DIGESTS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** A CSR's signature algorithm, with the digest it uses (for RSASSA-PSS, from its parameters). */
export interface SignatureAlgorithm {
  readonly oid: string;
  readonly name: string;
  /** Node's digest name; null for EdDSA, which hashes internally; undefined when unknown. */
  readonly digest: string | null | undefined;
  readonly saltLength?: number;
}

export function readSignatureAlgorithm(oid: string, parameters?: DerNode): SignatureAlgorithm {
  const method = SIGNATURE_ALGORITHMS[oid];
  if (!method) return { oid, name: oid, digest: undefined };
  if (!method.pss) return { oid, name: method.name, digest: method.digest };
  try {
    const { digest, saltLength } = pssParameters(parameters);
    return { oid, name: `${method.name} (${digest ?? 'unknown digest'})`, digest, saltLength };
  } catch {
    return { oid, name: method.name, digest: undefined };
  }
}

/**
 * Checks a signature made by `key` over `signed`. An unknown algorithm, a key that does not fit
 * it, or a malformed signature all verify as false.
 */
export function verifySignature(algorithm: SignatureAlgorithm, key: KeyObject, signed: Uint8Array, signature: Uint8Array): boolean {
  if (algorithm.digest === undefined) return false;
  try {
    if (algorithm.saltLength !== undefined) {
      return verify(algorithm.digest, signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength }, signature);
    }
    return verify(algorithm.digest, signed, key, signature);
  } catch {
    return false;
  }
}

/** RFC 4055 3.1 RSASSA-PSS-params: hashAlgorithm [0] (default SHA-1), saltLength [2] (default 20). */
function pssParameters(parameters: DerNode | undefined): { digest: string | undefined; saltLength: number } {
  let digest: string | undefined = 'sha1';
  let saltLength = 20;
  for (const field of parameters?.expect(TAG.SEQUENCE, 'RSASSA-PSS parameters').children() ?? []) {
    if (field.tag === contextTag(0, true)) digest = PSS_DIGESTS[field.inner().children()[0].oid()];
    else if (field.tag === contextTag(2, true)) saltLength = field.inner().smallInteger();
  }
  return { digest, saltLength };
}
