import { z } from 'zod';
import { inNetworks, isNetwork, requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

// Anchor's pattern language: `%` matches any run of characters within one label.
const patternRegex = (pattern: string): RegExp =>
  new RegExp(`^${pattern.toLowerCase().replace(/\.$/, '').split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);

/**
 * Every identifier must match a listed name: DNS names by pattern, IPs by address or CIDR (an IP
 * inside a listed network passes, which Anchor wrongly refused). Each identifier kind is off unless
 * enabled.
 */
export default defineValidator({
  name: 'whitelist_names',
  options: z
    .strictObject({
      names: z.array(z.string().min(1)),
      allow_cn_id: z.boolean().default(false),
      allow_dns_id: z.boolean().default(false),
      allow_ip_id: z.boolean().default(false),
      allow_wildcard: z.boolean().default(false),
    })
    .transform((options) => ({
      ...options,
      patterns: options.names.filter((name) => !isNetwork(name)).map(patternRegex),
      networks: options.names.filter(isNetwork),
    })),
  check({ csr, names }, options) {
    const allowedKinds = { 'common name': options.allow_cn_id, 'DNS name': options.allow_dns_id, 'IP address': options.allow_ip_id };
    return requestIdentifiers(csr.commonNames, names).flatMap(({ source, identifier }) => {
      if (!allowedKinds[source]) return [`${source} '${identifier.raw}' is not allowed: ${source} identifiers are disabled`];
      switch (identifier.kind) {
        case 'invalid':
          return [`${source}: ${identifier.problem}`];
        case 'ip':
          return inNetworks(identifier.address, options.networks) ? [] : [`${source} ${identifier.address} is not in the whitelist`];
        case 'dns':
          if (identifier.wildcard && !options.allow_wildcard) return [`${source} '${identifier.raw}' is a wildcard, which this RA does not allow`];
          return options.patterns.some((pattern) => pattern.test(identifier.name)) ? [] : [`${source} '${identifier.raw}' is not in the whitelist`];
      }
    });
  },
});

