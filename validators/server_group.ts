import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

/**
 * Anchor's server_group: a CN such as `nv-compute1.example.com` has the prefix `nv` (before the
 * first hyphen, within the first label); a listed prefix requires the requester to be in its group.
 */
export default defineValidator({
  name: 'server_group',
  options: z.strictObject({ group_prefixes: z.record(z.string().min(1), z.string().min(1)) }),
  check({ csr, requester }, options) {
    return csr.commonNames.flatMap((commonName) => {
      const [prefix, ...rest] = commonName.split('-');
      if (rest.length === 0 || prefix.includes('.')) return [];
      const entry = Object.entries(options.group_prefixes).find(([listed]) => listed.toLowerCase() === prefix.toLowerCase());
      if (!entry || requester.groups.includes(entry[1])) return [];
      return [`common name '${commonName}' has prefix '${prefix}', which needs group '${entry[1]}'; ${requester.user} is not in it`];
    });
  },
});
