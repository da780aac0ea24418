/**
 * Verifies an ECDSA signature (DER Ecdsa-Sig-Value, RFC 3279 2.2.3) made over `signed` with `digest`
 * by the key whose uncompressed point (RFC 5480 2.2) on `curve` is `point`. False for every invalid
 * or malformed input of the right types; a TypeError for arguments of the wrong types or names.
 */
export function verifyEcdsa(
  curve: 'P-256' | 'P-384' | 'P-521' | 'secp256k1',
  point: Uint8Array,
  digest: 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512',
  signed: Uint8Array,
  signature: Uint8Array,
): boolean;
