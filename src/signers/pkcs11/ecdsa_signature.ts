import { encodeUnsignedInteger, sequence } from '../../der';

/** PKCS#11 ECDSA returns r || s; X.509 wants ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 2.2.3). */
export function rawEcdsaToDer(signature: Buffer): Uint8Array {
  const half = signature.length / 2;
  return sequence(encodeUnsignedInteger(signature.subarray(0, half)), encodeUnsignedInteger(signature.subarray(half)));
}
