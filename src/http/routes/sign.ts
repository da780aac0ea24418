import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { RegistrationAuthority } from '../../config/assemble';
import { decodeCsr } from '../../csr/decode';
import { parseCertificationRequest } from '../../csr/parse';
import { issueCertificate } from '../../issuance/certificate';
import { enforcePolicy } from '../../policy/runner';
import { authenticationFailed } from '../errors';
import { wantsJson } from '../negotiate';
import { certificatePem } from '../pem';
import { readSignRequest } from '../sign_request';

/**
 * POST /v1/sign/<ra>: auth → csr → policy → issuance. Each stage throws a typed error that
 * errors.ts turns into a status; nothing is signed unless every stage before the signer passed.
 */
export async function signCertificate(ra: RegistrationAuthority, request: Request, response: Response): Promise<void> {
  const fields = readSignRequest(request);
  const requester = await ra.authenticator.authenticate(fields.credentials);
  if (!requester) throw authenticationFailed();
  const csr = parseCertificationRequest(decodeCsr(fields.csr));
  const { names } = enforcePolicy(ra.policy, {
    csr,
    names: { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses },
    requester,
    sourceAddress: request.socket.remoteAddress ?? '',
    registrationAuthority: ra.name,
  });
  // The requester may ask for a shorter life, never a longer one.
  const profile = fields.validityMs === undefined ? ra.profile : { ...ra.profile, validityMs: Math.min(fields.validityMs, ra.profile.validityMs) };
  const issued = await issueCertificate({ subject: csr.subject, publicKey: csr.publicKey, names }, profile, ra.signingCa);
  const pem = certificatePem(issued.der);
  if (!wantsJson(request)) {
    response.type('text/plain').send(pem);
    return;
  }
  response.json({
    certificate: pem,
    chain: ra.signingCa.chain.map(certificatePem),
    serial_number: issued.serialNumber,
    not_before: issued.notBefore.toISOString(),
    not_after: issued.notAfter.toISOString(),
    fingerprint_sha256: createHash('sha256').update(issued.der).digest('hex'),
  });
}
