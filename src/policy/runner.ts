import type { IssuanceNames, SubjectAttribute, Verdict } from '../types';
import type { ConfiguredFixup } from './fixup';
import { issuanceNames, issuedSubject } from './names';
import { PolicyRejection } from './rejection';
import type { ConfiguredValidator, PolicyRequest } from './validator';

/** An RA's policy: its validator chain (always-on validators first), its fixups, and the subject attributes it issues. */
export interface Policy {
  readonly validators: readonly ConfiguredValidator[];
  readonly fixups: readonly ConfiguredFixup[];
  /** Subject attribute types (OIDs) issued beside the CN (`subject_attributes`). */
  readonly subjectAttributes: readonly string[];
}

export interface PolicyOutcome {
  /** Every validator's verdict on the names that would be issued. */
  readonly verdicts: readonly Verdict[];
  readonly refusals: readonly Verdict[];
  /** The names to issue: the CN and the CSR's, normalised, as the fixups changed them. */
  readonly names: IssuanceNames;
  /** The subject to issue: the CN and the attributes the RA names. */
  readonly subject: readonly SubjectAttribute[];
}

/**
 * Runs every validator — none stops the others — and collects each verdict. A validator that
 * throws refuses (naming itself): a broken plugin must never let a request through.
 */
export function runValidators(chain: readonly ConfiguredValidator[], request: PolicyRequest): Verdict[] {
  return chain.map(({ validator, options }) => {
    try {
      return { validator: validator.name, reasons: [...validator.check(request, options)] };
    } catch {
      return { validator: validator.name, reasons: [`validator ${validator.name} failed while checking the request; refused to be safe`] };
    }
  });
}

const refusalsOf = (verdicts: readonly Verdict[]): Verdict[] => verdicts.filter((verdict) => verdict.reasons.length > 0);

/**
 * Validates the names as they would be issued (normalised, the CN among them), applies the fixups,
 * and validates the fixed-up names again. Never throws.
 */
export function evaluatePolicy(policy: Policy, requested: PolicyRequest): PolicyOutcome {
  const request = { ...requested, names: issuanceNames(requested.csr.commonNames, requested.names) };
  const subject = issuedSubject(request.csr.subjectAttributes, policy.subjectAttributes);
  const verdicts = runValidators(policy.validators, request);
  const refusals = refusalsOf(verdicts);
  if (refusals.length > 0 || policy.fixups.length === 0) return { verdicts, refusals, names: request.names, subject };
  let names = request.names;
  for (const { fixup, options } of policy.fixups) {
    try {
      names = issuanceNames([], fixup.apply({ ...request, names }, options));
    } catch {
      const failed = { validator: fixup.name, reasons: [`fixup ${fixup.name} failed; refused to be safe`] };
      return { verdicts: [...verdicts, failed], refusals: [failed], names: request.names, subject };
    }
  }
  if (sameNames(names, request.names)) return { verdicts, refusals, names, subject };
  const revalidated = runValidators(policy.validators, { ...request, names });
  return { verdicts: revalidated, refusals: refusalsOf(revalidated), names, subject };
}

/** evaluatePolicy for the signing path: throws a PolicyRejection listing every refusal. */
export function enforcePolicy(policy: Policy, request: PolicyRequest): PolicyOutcome {
  const outcome = evaluatePolicy(policy, request);
  if (outcome.refusals.length > 0) throw new PolicyRejection(outcome.refusals, outcome.verdicts);
  return outcome;
}

function sameNames(a: IssuanceNames, b: IssuanceNames): boolean {
  return a.dnsNames.join('\n') === b.dnsNames.join('\n') && a.ipAddresses.join('\n') === b.ipAddresses.join('\n');
}
