import type { Verdict } from '../types';
import { PolicyRejection } from './rejection';
import type { ConfiguredValidator, PolicyRequest } from './validator';

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

/** Runs the chain and throws a PolicyRejection listing every refusal, or returns all verdicts. */
export function enforcePolicy(chain: readonly ConfiguredValidator[], request: PolicyRequest): Verdict[] {
  const verdicts = runValidators(chain, request);
  const refusals = verdicts.filter((verdict) => verdict.reasons.length > 0);
  if (refusals.length > 0) throw new PolicyRejection(refusals, verdicts);
  return verdicts;
}
