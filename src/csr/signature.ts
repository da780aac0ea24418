import { constants, verify } from 'node:crypto';
import { contextTag, TAG, type DerNode } from '../der';
import type { SubjectPublicKey } from '../types';
import { nativeCore, nativeVerifies } from './native_core';
import { verificationKey } from './public_key';

/** How Node verifies one signature algorithm: the digest (null for EdDSA), the key types it fits, PSS. */
interface VerifyMethod {
  readonly name: string;
  readonly digest: string | null;
  /** The key types (SubjectPublicKey.type) this algorithm may be used with. */
  readonly keys: readonly string[];
  readonly pss?: true;
}

const EC = ['EC'];
// RFC 4055 1.2: an RSASSA-PSS key (id-RSASSA-PSS) must not sign PKCS#1 v1.5.
const RSA = ['RSA'];

// RFC 3279, RFC 4055, RFC 5758, RFC 8410 signature algorithm identifiers.
const SIGNATURE_ALGORITHMS: Readonly<Record<string, VerifyMethod>> = {
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', digest: 'sha1', keys: EC },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', digest: 'sha224', keys: EC },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', digest: 'sha256', keys: EC },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', digest: 'sha384', keys: EC },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', digest: 'sha512', keys: EC },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', digest: 'md5', keys: RSA },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', digest: 'sha1', keys: RSA },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', digest: 'sha224', keys: RSA },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', digest: 'sha256', keys: RSA },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', digest: 'sha384', keys: RSA },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', digest: 'sha512', keys: RSA },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', digest: null, keys: ['RSA', 'RSA-PSS'], pss: true },
  '1.3.101.112': { name: 'Ed25519', digest: null, keys: ['Ed25519'] },
  '1.3.101.113': { name: 'Ed448', digest: null, keys: ['Ed448'] },
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
  /** The key types the algorithm fits (empty when it cannot be verified). */
  readonly keys: readonly string[];
  readonly saltLength?: number;
  /** Whether the parameters have the form the algorithm's RFC gives them. */
  readonly parametersValid: boolean;
}

const NULL_PARAMETERS = Uint8Array.of(0x05, 0x00);

/**
 * RFC 5758 3.2 (ECDSA) and RFC 8410 3 (EdDSA): parameters absent. RFC 4055 5 (PKCS#1 v1.5): NULL,
 * which some older tools leave out. RSASSA-PSS: a SEQUENCE, read by pssParameters.
 */
function parametersFit(method: VerifyMethod, parameters: DerNode | undefined): boolean {
  if (method.pss) return true; // absent or malformed PSS parameters make the signature invalid instead
  if (method.keys === RSA) return parameters === undefined || Buffer.compare(parameters.encoded, NULL_PARAMETERS) === 0;
  return parameters === undefined;
}

export function readSignatureAlgorithm(oid: string, parameters?: DerNode): SignatureAlgorithm {
  const method = SIGNATURE_ALGORITHMS[oid];
  if (!method) return { oid, name: oid, digest: undefined, keys: [], parametersValid: true };
  const parametersValid = parametersFit(method, parameters);
  if (!method.pss) return { oid, name: method.name, digest: method.digest, keys: method.keys, parametersValid };
  try {
    const { digest, saltLength } = pssParameters(parameters);
    return { oid, name: `${method.name} (${digest ?? 'unsupported parameters'})`, digest, keys: method.keys, saltLength, parametersValid };
  } catch {
    return { oid, name: `${method.name} (malformed parameters)`, digest: undefined, keys: [], parametersValid: false };
  }
}

/**
 * Checks a signature made by `key` over `signed`. An unknown algorithm, a key that does not fit
 * it, or a malformed signature all verify as false.
 */
export function verifySignature(algorithm: SignatureAlgorithm, key: SubjectPublicKey, signed: Uint8Array, signature: Uint8Array): boolean {
  // Node picks the scheme from the key, so an algorithm that does not fit the key must fail here.
  if (algorithm.digest === undefined || !algorithm.keys.includes(key.type)) return false;
  if (nativeCore && key.point && key.curve !== undefined && algorithm.digest !== null && nativeVerifies(key.curve, algorithm.digest)) {
    return nativeCore.verifyEcdsa(key.curve, key.point, algorithm.digest, signed, signature);
  }
  const verifyWith = verificationKey(key);
  try {
    if (algorithm.saltLength !== undefined) {
      return verify(algorithm.digest, signed, { ...verifyWith, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength }, signature);
    }
    return verify(algorithm.digest, signed, verifyWith, signature);
  } catch {
    return false;
  }
}

const MGF1 = '1.2.840.113549.1.1.8';

/**
 * RFC 4055 3.1 RSASSA-PSS-params, which MUST be present: hashAlgorithm [0] (default SHA-1),
 * maskGenAlgorithm [1] (default MGF1 with SHA-1), saltLength [2] (default 20), trailerField [3] (1).
 * Node verifies with MGF1 over the message digest only, so a different mask digest is unsupported
 * (undefined digest: the signature does not verify) rather than checked wrongly.
 */
function pssParameters(parameters: DerNode | undefined): { digest: string | undefined; saltLength: number } {
  if (!parameters) return { digest: undefined, saltLength: 0 };
  let digest: string | undefined = 'sha1';
  let maskDigest: string | undefined = 'sha1';
  let saltLength = 20;
  for (const field of parameters.expect(TAG.SEQUENCE, 'RSASSA-PSS parameters').children()) {
    if (field.tag === contextTag(0, true)) digest = PSS_DIGESTS[field.inner().children()[0].oid()];
    else if (field.tag === contextTag(1, true)) {
      const [mgf, hash] = field.inner().children();
      maskDigest = mgf.oid() === MGF1 && hash ? PSS_DIGESTS[hash.children()[0].oid()] : undefined;
    } else if (field.tag === contextTag(2, true)) saltLength = field.inner().smallInteger();
    else if (field.tag === contextTag(3, true) && field.inner().smallInteger() !== 1) return { digest: undefined, saltLength };
  }
  return { digest: digest === maskDigest ? digest : undefined, saltLength };
}
