import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

const CA_KEY_USAGES = ['keyCertSign', 'cRLSign'];

/** Always on: a leaf CA never issues a CA, so a request that asks to be one is refused, not silently trimmed. */
export default defineValidator({
  name: 'ca_status',
  options: z.strictObject({}),
  check({ csr }) {
    const reasons: string[] = [];
    if (csr.basicConstraints?.ca) reasons.push('the request asks for CA:TRUE');
    if (csr.basicConstraints?.pathLength !== undefined) reasons.push('the request asks for a pathLenConstraint, which only a CA has');
    for (const usage of csr.keyUsage ?? []) if (CA_KEY_USAGES.includes(usage)) reasons.push(`the request asks for key usage ${usage}, which only a CA has`);
    return reasons;
  },
});
