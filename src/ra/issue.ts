import { signEvent, type RequestContext, type SignDecision } from '../audit/events';
import type { Ledger, RecordPosition } from '../audit/ledger';
import { CsrParseError } from '../csr/errors';
import { errorMessage } from '../error_message';
import { issueCertificate, type IssuanceRequest } from '../issuance/certificate';
import type { CertificateProfile } from '../issuance/profile';
import { PolicyRejection } from '../policy/rejection';
import type { SigningCa } from '../signers/signing_ca';
import type { IssuanceNames, IssuedCertificate, Requester } from '../types';
import { evaluate } from './evaluate';
import type { Protocol, RegistrationAuthority } from './registration_authority';

/** An authenticated request for a certificate, from whichever door it came in by. */
export interface IssueRequest {
  readonly requester: Requester;
  /** The CSR as sent: text (PEM or base64) or DER bytes. */
  readonly csr: string | Uint8Array;
  /** A shorter lifetime the requester asked for, in milliseconds; never a longer one. */
  readonly validityMs?: number;
  /** The client address, as the door established it. */
  readonly source: string;
  readonly protocol: Protocol;
  /** Identifiers the door has proven control of (ACME): the CSR must ask for exactly these. */
  readonly authorizedNames?: IssuanceNames;
  /** Keys revoked through the door (keyFingerprint): refused. */
  readonly revokedKeys?: ReadonlySet<string>;
}

/**
 * The registration authority's one way to a certificate: decode → policy → lifetime → issue → record.
 * Every decision is recorded, and a certificate is returned only once its record is durable: nothing
 * is signed unless policy allowed it, nothing issued goes unrecorded. Refusals throw CsrParseError or
 * PolicyRejection (recorded as refused); anything else that stops issuance is recorded as an error.
 */
/** A certificate as issued, with the place of its record in the ledger (none when the ledger is disabled). */
export type RecordedCertificate = IssuedCertificate & { readonly record?: RecordPosition };

export async function issue(ra: RegistrationAuthority, ledger: Ledger, request: IssueRequest): Promise<RecordedCertificate> {
  const context: RequestContext = { ra: ra.name, source: request.source, protocol: request.protocol };
  let decision: Omit<SignDecision, 'outcome'> = { requester: request.requester, ...(typeof request.csr === 'string' ? {} : { csrBytes: request.csr }) };
  try {
    const { csr, outcome } = evaluate(ra, request);
    decision = { ...decision, csr, names: outcome.names, subject: outcome.subject, verdicts: outcome.verdicts };
    if (outcome.refusals.length > 0) throw new PolicyRejection(outcome.refusals, outcome.verdicts);
    const profile = request.validityMs === undefined ? ra.profile : { ...ra.profile, validityMs: Math.min(request.validityMs, ra.profile.validityMs) };
    // Policy returns the subject and names as they are to be issued: the ones it judged.
    return await signAndRecord(ledger, context, decision, { subject: outcome.subject, publicKey: csr.publicKey, names: outcome.names }, profile, ra.signingCa);
  } catch (error) {
    await recordFailure(ledger, context, decision, error);
    throw error;
  }
}

/**
 * A certificate Mayfly issues for itself (its own HTTPS server certificate): no request, no RA
 * policy — the names and profile are Mayfly's own — but signed and recorded as every other is.
 */
export async function issueOwnCertificate(ledger: Ledger, ca: SigningCa, request: IssuanceRequest, profile: CertificateProfile): Promise<RecordedCertificate> {
  const context: RequestContext = { ra: '(server)', source: 'local', protocol: 'server-certificate' };
  const decision = { requester: { user: 'mayfly', groups: [], authentication: '(server certificate)' }, names: request.names, subject: request.subject };
  try {
    return await signAndRecord(ledger, context, decision, request, profile, ca);
  } catch (error) {
    await recordFailure(ledger, context, decision, error);
    throw error;
  }
}

async function signAndRecord(ledger: Ledger, context: RequestContext, decision: Omit<SignDecision, 'outcome'>, request: IssuanceRequest, profile: CertificateProfile, ca: SigningCa): Promise<RecordedCertificate> {
  const issued = await issueCertificate(request, profile, ca);
  const record = await ledger.append(signEvent(context, { ...decision, outcome: 'issued', issued }));
  return record ? { ...issued, record } : issued;
}

/** A refusal is recorded before the client hears of it; a fault is recorded when the ledger can. */
async function recordFailure(ledger: Ledger, context: RequestContext, decision: Omit<SignDecision, 'outcome'>, error: unknown): Promise<void> {
  if (error instanceof PolicyRejection) await ledger.append(signEvent(context, { ...decision, outcome: 'refused' }));
  else if (error instanceof CsrParseError) await ledger.append(signEvent(context, { ...decision, outcome: 'refused', reason: error.message }));
  // A signer that is down, a record that could not be stored, a fault: no certificate left Mayfly.
  // Recording that is best effort; the client's answer (503, 500) does not depend on it.
  else await ledger.append(signEvent(context, { ...decision, outcome: 'error', reason: errorMessage(error) })).catch(() => undefined);
}
