import type { Verdict } from '../types';

/** Policy refused the request; `refusals` names every validator that refused and why. */
export class PolicyRejection extends Error {
  override readonly name = 'PolicyRejection';
  constructor(
    readonly refusals: readonly Verdict[],
    readonly verdicts: readonly Verdict[],
  ) {
    super(refusals.flatMap((v) => v.reasons.map((reason) => `${v.validator}: ${reason}`)).join('; '));
  }
}
