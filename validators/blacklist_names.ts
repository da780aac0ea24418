import { z } from 'zod';
import { coversDomain, normalizeDnsName, requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/**
 * Refuses a CN or DNS subjectAltName equal to, under, or a wildcard covering a listed domain. A name
 * that cannot be read as a DNS name is refused too: a list of what is forbidden must fail closed.
 */
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
      if (identifier.kind === 'invalid') return [`${source}: ${identifier.problem}`];
      if (identifier.kind !== 'dns') return [];
      const listed = options.domains.find((domain) => coversDomain(identifier, domain));
      return listed ? [`${source} '${identifier.raw}' is under the blacklisted domain ${listed}`] : [];
    });
  },
});
