import { decodeCsr } from '../csr/decode';
import { parseCertificationRequest } from '../csr/parse';
import { evaluatePolicy, type PolicyOutcome } from '../policy/runner';
import type { CertificationRequest, Requester } from '../types';
import type { RegistrationAuthority } from './registration_authority';

/** What the RA needs to judge a request: the CSR as sent, who sent it, from where. */
export interface EvaluationRequest {
  readonly requester: Requester;
  readonly csr: string | Uint8Array;
  readonly source: string;
}

/**
 * Decodes and parses the CSR, then runs the RA's policy on it. Issuance and `mayfly policy test`
 * both come here, so a dry run sees exactly what a real request would. Throws CsrParseError for a
 * CSR that cannot be read; a refusal is in the outcome, not thrown.
 */
export function evaluate(ra: RegistrationAuthority, request: EvaluationRequest): { csr: CertificationRequest; outcome: PolicyOutcome } {
  const csr = parseCertificationRequest(decodeCsr(request.csr));
  const outcome = evaluatePolicy(ra.policy, {
    csr,
    names: { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses },
    requester: request.requester,
    sourceAddress: request.source,
    registrationAuthority: ra.name,
  });
  return { csr, outcome };
}
