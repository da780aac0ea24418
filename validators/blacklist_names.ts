import { z } from 'zod';
import { normalizeDnsName, requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/** Refuses a CN or DNS subjectAltName equal to, or under, a listed domain. */
export default defineValidator({
  name: 'blacklist_names',
  options: z.strictObject({
    domains: z.array(
      z.string().min(1).transform((domain, context) => {
        const normalized = normalizeDnsName(domain.replace(/^\./, ''));
        if ('problem' in normalized) {
          context.addIssue({ code: 'custom', message: normalized.problem });
          return z.NEVER;
        }
        return normalized.name;
      }),
    ),
  }),
  check({ csr, names }, options) {
    return requestIdentifiers(csr.commonNames, names).flatMap(({ source, identifier }) => {
      if (identifier.kind !== 'dns') return [];
      const listed = options.domains.find((domain) => identifier.name === domain || identifier.name.endsWith(`.${domain}`));
      return listed ? [`${source} '${identifier.raw}' is under the blacklisted domain ${listed}`] : [];
    });
  },
});
