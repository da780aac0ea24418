import { contextTag, encode, encodeBitString, encodeBoolean, encodeNamedBits, encodeOctetString, encodeOid, encodeUnsignedInteger, sequence, TAG } from '../der';
import { KEY_USAGE_BITS, OID } from '../csr/oids';
import type { Signer } from '../signers/signer';
import { keyIdentifier } from '../signers/signing_ca';
import type { IssuedCertificate } from '../types';
import { extension, signCertificate } from './certificate';

const CA_KEY_USAGE = encodeNamedBits([KEY_USAGE_BITS.indexOf('keyCertSign'), KEY_USAGE_BITS.indexOf('cRLSign')]);

// RFC 5280 4.2.1.9: a CA certificate's basicConstraints is critical, cA TRUE.
const caExtensions = (spki: Uint8Array) => [
  extension(OID.basicConstraints, true, sequence(encodeBoolean(true))),
  extension(OID.keyUsage, true, CA_KEY_USAGE),
  extension(OID.subjectKeyIdentifier, false, encodeOctetString(keyIdentifier(spki))),
];

/** A self-signed CA certificate for a key that only `signer` can use (e.g. one inside a token). */
export function selfSignedCaCertificate(signer: Signer, subject: Uint8Array, validityMs: number, now: Date = new Date()): Promise<IssuedCertificate> {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return signCertificate(
    { issuer: subject, subject, spki: signer.publicKey, notBefore, notAfter: new Date(notBefore.getTime() + validityMs), extensions: caExtensions(signer.publicKey) },
    signer,
  );
}

/** RFC 2986 4: a PKCS#10 request for `signer`'s key, asking an external root for a CA certificate. */
export async function caCertificationRequest(signer: Signer, subject: Uint8Array): Promise<Uint8Array> {
  // PKCS#9 extensionRequest, so the root can see that a CA is being asked for.
  const extensionRequest = sequence(encodeOid(OID.extensionRequest), encode(TAG.SET, sequence(...caExtensions(signer.publicKey))));
  const info = sequence(encodeUnsignedInteger(Uint8Array.of(0)), subject, signer.publicKey, encode(contextTag(0, true), extensionRequest));
  const signature = await signer.sign(info);
  return sequence(info, signer.signatureAlgorithm, encodeBitString(signature));
}
