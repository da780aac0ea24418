import { z } from 'zod';
import { inAllowedDomains, isWildcard, normalizeDnsName, wildcardProblem } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/** Every DNS subjectAltName inside allowed_domains; IP and other name kinds are refused here. */
export default defineValidator({
  name: 'alternative_names',
  options: z.strictObject({
    allowed_domains: z.array(z.string().min(1)).default([]),
    allow_wildcard: z.boolean().default(false),
  }),
  check({ csr, names }, options) {
    const reasons: string[] = [];
    for (const dnsName of names.dnsNames) {
      const normalized = normalizeDnsName(dnsName);
      if ('problem' in normalized) {
        reasons.push(`DNS name: ${normalized.problem}`);
        continue;
      }
      const wildcard = wildcardProblem(normalized.name);
      if (wildcard) reasons.push(`DNS name: ${wildcard}`);
      else if (isWildcard(normalized.name) && !options.allow_wildcard) reasons.push(`DNS name '${dnsName}' is a wildcard, which this RA does not allow`);
      else if (!inAllowedDomains(normalized.name, options.allowed_domains)) {
        reasons.push(`DNS name '${dnsName}' is outside the allowed domains [${options.allowed_domains.join(', ')}]`);
      }
    }
    for (const address of names.ipAddresses) reasons.push(`IP address SAN ${address} is not allowed (alternative_names takes DNS names only; use alternative_names_ip)`);
    for (const name of csr.unsupportedNames) reasons.push(`subjectAltName of kind ${name.kind} is not supported`);
    return reasons;
  },
});
