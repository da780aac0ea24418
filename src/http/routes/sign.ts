import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { authFailureEvent, signEvent, type RequestContext, type SignDecision } from '../../audit/events';
import type { Ledger } from '../../audit/ledger';
import type { RegistrationAuthority } from '../../config/assemble';
import { decodeCsr } from '../../csr/decode';
import { errorMessage } from '../../error_message';
import { CsrParseError } from '../../csr/errors';
import { parseCertificationRequest } from '../../csr/parse';
import { issueCertificate } from '../../issuance/certificate';
import { PolicyRejection } from '../../policy/rejection';
import { evaluatePolicy } from '../../policy/runner';
import type { Requester } from '../../types';
import { authenticationFailed, HttpError } from '../errors';
import type { RequestLimits } from '../limits';
import type { MayflyMetrics } from '../metrics';
import type { RequestOutcome } from '../request_log';
import { wantsJson } from '../negotiate';
import { certificatePem } from '../../pem';
import { readSignRequest } from '../sign_request';

/**
 * POST /v1/sign/<ra>: auth → csr → policy → issuance → audit. Each stage throws a typed error that
 * errors.ts turns into a status. Every decision after authentication is recorded, and a certificate
 * leaves only once its record is durable: nothing is signed unless policy allowed it, nothing issued
 * goes unrecorded.
 */
export async function signCertificate(ra: RegistrationAuthority, ledger: Ledger, limits: RequestLimits, metrics: MayflyMetrics, request: Request, response: Response): Promise<void> {
  const fields = readSignRequest(request);
  const context: RequestContext = { ra: ra.name, source: request.ip ?? '' };
  const requester = await ra.authenticator.authenticate(fields.credentials);
  if (!requester) {
    await limits.authenticationFailed(context.source);
    await ledger.append(authFailureEvent(context, fields.credentials.user));
    throw authenticationFailed();
  }
  await limits.admitIdentity(`${requester.authentication}\u0000${requester.user}`);
  const issued = await decide(ra, ledger, context, requester, fields.csr, fields.validityMs).catch((error: unknown) => {
    if (error instanceof PolicyRejection) metrics.refused(ra.name, error.refusals.map((verdict) => verdict.validator));
    throw error;
  });
  metrics.certificateIssued(ra.name, ra.signingCa.name, issued.signatureSeconds);
  (response.locals as RequestOutcome).serial = issued.serialNumber;
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

async function decide(ra: RegistrationAuthority, ledger: Ledger, context: RequestContext, requester: Requester, sent: string | Uint8Array, validityMs: number | undefined) {
  let decision: Omit<SignDecision, 'outcome'> = { requester, ...(typeof sent === 'string' ? {} : { csrBytes: sent }) };
  try {
    const csr = parseCertificationRequest(decodeCsr(sent));
    // Policy judges, and returns, the names and subject as they will be issued.
    const outcome = evaluatePolicy(ra.policy, { csr, names: { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses }, requester, sourceAddress: context.source, registrationAuthority: ra.name });
    decision = { ...decision, csr, names: outcome.names, verdicts: outcome.verdicts };
    if (outcome.refusals.length > 0) throw new PolicyRejection(outcome.refusals, outcome.verdicts);
    // The requester may ask for a shorter life, never a longer one.
    const profile = validityMs === undefined ? ra.profile : { ...ra.profile, validityMs: Math.min(validityMs, ra.profile.validityMs) };
    const issued = await issueCertificate({ subject: outcome.subject, publicKey: csr.publicKey, names: outcome.names }, profile, ra.signingCa);
    await ledger.append(signEvent(context, { ...decision, outcome: 'issued', issued }));
    return issued;
  } catch (error) {
    if (error instanceof PolicyRejection) await ledger.append(signEvent(context, { ...decision, outcome: 'refused' }));
    else if (error instanceof CsrParseError || error instanceof HttpError) await ledger.append(signEvent(context, { ...decision, outcome: 'refused', reason: error.message }));
    // A signer that is down, a record that could not be stored, a fault: no certificate left Mayfly.
    // Recording that is best effort; the client's answer (503, 500) does not depend on it.
    else await ledger.append(signEvent(context, { ...decision, outcome: 'error', reason: errorMessage(error) })).catch(() => undefined);
    throw error;
  }
}
