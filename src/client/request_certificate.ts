import type { X509Certificate } from 'node:crypto';
import type { CaClient, ClientCredentials } from './ca_client';
import { buildCertificationRequest, type CertificationRequest } from './certification_request';
import { TrustError } from './errors';
import { generateKeyPair, type ClientKeyType } from './key_pair';
import { missingNames, type RequestedNames } from './requested_names';

/** What to ask for, and where. */
export interface CertificateOrder {
  readonly ra: string;
  readonly names: RequestedNames;
  readonly keyType: ClientKeyType;
}

/** A certificate, checked: ready to be written. */
export interface IssuedCredentials {
  /** The key made for it; absent when the user brought the key or the CSR (the key stays where it is). */
  readonly privateKeyPem?: string;
  readonly certificatePem: string;
  /** The intermediates, issuing certificate first, without the root: what a TLS server sends after its own. */
  readonly chainPem: string;
  readonly certificate: X509Certificate;
  readonly notAfter: Date;
  /** When it arrived: the start of the lifetime the renewal point is computed from (notBefore is backdated). */
  readonly receivedAt: Date;
}

/** Generates a key here and sends only its CSR; the answer is checked as `submitRequest` checks it. */
export async function requestCertificate(client: CaClient, order: CertificateOrder, credentials: ClientCredentials, now: () => number = Date.now): Promise<IssuedCredentials & { readonly privateKeyPem: string }> {
  const keyPair = await generateKeyPair(order.keyType);
  const issued = await submitRequest(client, order.ra, await buildCertificationRequest(keyPair, order.names), credentials, now);
  return { ...issued, privateKeyPem: keyPair.privateKeyPem };
}

/**
 * Sends a CSR, and accepts the answer only if the certificate is for the CSR's key, names what was
 * asked, and chains to the trusted root.
 */
export async function submitRequest(client: CaClient, ra: string, request: CertificationRequest, credentials: ClientCredentials, now: () => number = Date.now): Promise<IssuedCredentials> {
  const answer = await client.sign(ra, request.pem, credentials);
  const receivedAt = now();
  const { certificate } = answer;
  if (!certificate.publicKey.export({ format: 'der', type: 'spki' }).equals(request.spki)) {
    throw new TrustError('the returned certificate is not for the key of the request');
  }
  const intermediates = (await client.trustAnchors(ra)).verifyIssued(certificate, answer.chain, receivedAt);
  const missing = missingNames(answer.certificatePem, request.names);
  if (missing.length > 0) throw new TrustError(`the returned certificate lacks requested names: ${missing.join(', ')}`);
  return {
    certificatePem: answer.certificatePem,
    chainPem: intermediates.map((intermediate) => intermediate.toString()).join(''),
    certificate,
    notAfter: new Date(certificate.validTo),
    receivedAt: new Date(receivedAt),
  };
}
