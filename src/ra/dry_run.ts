import { validityWindow } from '../issuance/certificate';
import { subjectText } from '../x509/name';
import { evaluate, type EvaluationRequest } from './evaluate';
import type { RegistrationAuthority } from './registration_authority';

/** A policy decision without signing or recording: `mayfly policy test` and the console's dry run. */
export interface DryRun {
  readonly passed: boolean;
  /** Every validator's verdict; no reasons means it passed. */
  readonly verdicts: readonly { readonly validator: string; readonly reasons: readonly string[] }[];
  /** What would be issued now, when policy passes. */
  readonly certificate: { readonly subject: string; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[]; readonly notBefore: Date; readonly notAfter: Date };
}

/** The same evaluation a real request gets (throws CsrParseError for a CSR that cannot be read). */
export function dryRun(ra: RegistrationAuthority, request: EvaluationRequest, now: Date = new Date()): DryRun {
  const { outcome } = evaluate(ra, request);
  const window = validityWindow(ra.profile, ra.signingCa, now);
  return {
    passed: outcome.refusals.length === 0,
    verdicts: outcome.verdicts,
    certificate: { subject: subjectText(outcome.subject), dnsNames: outcome.names.dnsNames, ipAddresses: outcome.names.ipAddresses, notBefore: window.notBefore, notAfter: window.notAfter },
  };
}
