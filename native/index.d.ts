/**
 * Verifies an ECDSA signature (DER Ecdsa-Sig-Value, RFC 3279 2.2.3) made over `signed` with `digest`
 * by the key whose uncompressed point (RFC 5480 2.2) on `curve` is `point`. False for every invalid
 * or malformed input of the right types, a point in any other form included; a TypeError for
 * arguments of the wrong types, or a curve or digest not in `curves` or `digests`.
 */
export function verifyEcdsa(curve: string, point: Uint8Array, digest: string, signed: Uint8Array, signature: Uint8Array): boolean;

/** The curves `verifyEcdsa` knows, by the names JWK (RFC 7518 6.2.1.1) gives them. */
export const curves: readonly string[];

/** The digests `verifyEcdsa` knows, by node:crypto's names. */
export const digests: readonly string[];

/** For the tests: whether OpenSSL's error queue on this thread holds an error (`verifyEcdsa` leaves none). */
export function openSslErrorPending(): boolean;
