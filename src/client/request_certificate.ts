import type { X509Certificate } from 'node:crypto';
import type { CaClient, ClientCredentials } from './ca_client';
import { buildCertificationRequest } from './certification_request';
import { TrustError } from './errors';
import { generateKeyPair, type ClientKeyType } from './key_pair';
import { missingNames, type RequestedNames } from './requested_names';

/** What to ask for, and where. */
export interface CertificateOrder {
  readonly ra: string;
  readonly names: RequestedNames;
  readonly keyType: ClientKeyType;
}

/** A new key and the certificate for it, checked: ready to be written. */
export interface IssuedCredentials {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  /** The intermediates, issuing certificate first, without the root: what a TLS server sends after its own. */
  readonly chainPem: string;
  readonly certificate: X509Certificate;
  readonly notAfter: Date;
  /** When it arrived: the start of the lifetime the renewal point is computed from (notBefore is backdated). */
  readonly receivedAt: Date;
}

/**
 * Generates a key here, sends only its CSR, and accepts the answer only if the certificate is for
 * that key, names what was asked, and chains to the trusted root.
 */
export async function requestCertificate(client: CaClient, order: CertificateOrder, credentials: ClientCredentials, now: () => number = Date.now): Promise<IssuedCredentials> {
  const keyPair = await generateKeyPair(order.keyType);
  const csr = await buildCertificationRequest(keyPair, order.names);
  const answer = await client.sign(order.ra, csr, credentials);
  const receivedAt = now();
  const { certificate } = answer;
  if (!certificate.publicKey.export({ format: 'der', type: 'spki' }).equals(keyPair.spki)) {
    throw new TrustError('the returned certificate is not for the key just generated');
  }
  const intermediates = (await client.trustAnchors(order.ra)).verifyIssued(certificate, answer.chain, receivedAt);
  const missing = missingNames(answer.certificatePem, order.names);
  if (missing.length > 0) throw new TrustError(`the returned certificate lacks requested names: ${missing.join(', ')}`);
  return {
    privateKeyPem: keyPair.privateKeyPem,
    certificatePem: answer.certificatePem,
    chainPem: intermediates.map((intermediate) => intermediate.toString()).join(''),
    certificate,
    notAfter: new Date(certificate.validTo),
    receivedAt: new Date(receivedAt),
  };
}
