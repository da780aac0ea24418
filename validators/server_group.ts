import { z } from 'zod';
import { requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/**
 * Anchor's server_group: a name such as `nv-compute1.example.com` has the prefix `nv` (before the
 * first hyphen, within the first label); a listed prefix requires the requester to be in its group.
 * Anchor looked at the CN only; Mayfly checks every DNS name too, so a SAN cannot slip past.
 */
export default defineValidator({
  name: 'server_group',
  options: z.strictObject({ group_prefixes: z.record(z.string().min(1), z.string().min(1)) }),
  check({ csr, names, requester }, options) {
    return requestIdentifiers(csr.commonNames, { dnsNames: names.dnsNames, ipAddresses: [] }).flatMap(({ source, identifier }) => {
      const [prefix, ...rest] = identifier.raw.split('-');
      if (rest.length === 0 || prefix.includes('.')) return [];
      const entry = Object.entries(options.group_prefixes).find(([listed]) => listed.toLowerCase() === prefix.toLowerCase());
      if (!entry || requester.groups.includes(entry[1])) return [];
      return [`${source} '${identifier.raw}' has prefix '${prefix}', which needs group '${entry[1]}'; ${requester.user} is not in it`];
    });
  },
});
