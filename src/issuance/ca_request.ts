import { contextTag, encode, encodeBitString, encodeOid, encodeUnsignedInteger, sequence, TAG } from '../der';
import type { Signer } from '../signers/signer';
import type { IssuedCertificate } from '../types';
import { caExtensions } from '../x509/extension';
import { OID } from '../x509/oids';
import { signCertificate } from './certificate';

/** A self-signed issuing CA certificate for a key that only `signer` can use (e.g. one inside a token): it signs leaves. */
export function selfSignedCaCertificate(signer: Signer, subject: Uint8Array, validityMs: number, now: Date = new Date()): Promise<IssuedCertificate> {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return signCertificate(
    { issuer: subject, subject, spki: signer.publicKey, notBefore, notAfter: new Date(notBefore.getTime() + validityMs), extensions: caExtensions(signer.publicKey, 'issuing') },
    signer,
  );
}

/** RFC 2986 4: a PKCS#10 request for `signer`'s key, asking an external root for a CA certificate. */
export async function caCertificationRequest(signer: Signer, subject: Uint8Array): Promise<Uint8Array> {
  // PKCS#9 extensionRequest, so the root can see that a CA is being asked for.
  const extensionRequest = sequence(encodeOid(OID.extensionRequest), encode(TAG.SET, sequence(...caExtensions(signer.publicKey, 'issuing'))));
  const info = sequence(encodeUnsignedInteger(Uint8Array.of(0)), subject, signer.publicKey, encode(contextTag(0, true), extensionRequest));
  const signature = await signer.sign(info);
  return sequence(info, signer.signatureAlgorithm, encodeBitString(signature));
}
