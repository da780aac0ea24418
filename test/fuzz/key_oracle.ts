// The key-encoding fuzz's judge of an issued certificate, decided without Mayfly's code: the
// mutant's own label (made to be refused?), the key that really signed the request, the canonical
// SPKI by the fuzz oracle's DER walker and OpenSSL's ECDH.convertKey, and the default RA's key rules.
import { X509Certificate } from 'node:crypto';
import type { KeyMutant } from './key_mutants';
import { canonicalSpki, keyProblems } from './oracle';
import { strictChildren, strictRoot } from './tlv';

/** RFC 5280 4.1: the subjectPublicKeyInfo of a certificate, DER. */
export function certificateSpki(certificate: Uint8Array): Buffer {
  const fields = strictChildren(strictChildren(strictRoot(Buffer.from(certificate)))[0]);
  return fields[(fields[0].tag === 0xa0 ? 1 : 0) + 5].encoded;
}

const subjectPublicKey = (spki: Buffer): Buffer => strictChildren(strictRoot(spki))[1].encoded;

/** Everything wrong with `certificate` having been issued for `mutant` by RA `ra`; empty when it is right. */
export function issuedProblems(mutant: KeyMutant, ra: string, certificate: Uint8Array): string[] {
  const problems: string[] = [];
  if (mutant.mustRefuse) problems.push(`issued for a key every RA must refuse (${mutant.family})`);
  if (!mutant.signer) return [...problems, 'issued for a request no private key signed'];
  let issued: Buffer;
  let expected: Buffer;
  try {
    issued = certificateSpki(certificate);
    expected = canonicalSpki(strictRoot(mutant.spki));
  } catch (error) {
    return [...problems, `the certificate or the request cannot be read: ${(error as Error).message}`];
  }
  if (!issued.equals(expected)) problems.push(`the certificate's key ${issued.toString('hex')} is not the request's in canonical form ${expected.toString('hex')}`);
  // The signer's SPKI as Node exports it is canonical: an EC point uncompressed.
  if (!subjectPublicKey(issued).equals(subjectPublicKey(mutant.signer.spki))) problems.push(`the certificate's key is not the key (${mutant.signer.name}) that signed the request`);
  if (ra === 'default') {
    const refused = keyProblems(strictRoot(mutant.spki));
    if (refused.length > 0) problems.push(`the default RA's public_key validator must refuse this key: ${refused.join('; ')}`);
  }
  const x509 = new X509Certificate(Buffer.from(certificate));
  if (x509.subject !== `CN=${mutant.name}`) problems.push(`subject ${JSON.stringify(x509.subject)} is not CN=${mutant.name}`);
  if (x509.subjectAltName !== `DNS:${mutant.name}`) problems.push(`subjectAltName ${JSON.stringify(x509.subjectAltName)} is not DNS:${mutant.name}`);
  return problems;
}
