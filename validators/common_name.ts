import { z } from 'zod';
import { inAllowedDomains, inNetworks, isNetwork, isWildcard, normalizeDnsName, parseIpAddress, wildcardProblem } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/** The subject CN: at most one; an IP inside allowed_networks, or a DNS name inside allowed_domains. */
export default defineValidator({
  name: 'common_name',
  options: z.strictObject({
    allowed_domains: z.array(z.string().min(1)).default([]),
    allowed_networks: z.array(z.string().refine(isNetwork, 'not an IP network in CIDR form')).default([]),
    allow_wildcard: z.boolean().default(false),
  }),
  check({ csr, names }, options) {
    if (csr.commonNames.length > 1) return [`the subject has ${csr.commonNames.length} common names; at most one is allowed`];
    const [commonName] = csr.commonNames;
    if (commonName === undefined) {
      return names.dnsNames.length + names.ipAddresses.length === 0 ? ['the request has neither a common name nor a subjectAltName'] : [];
    }
    const address = parseIpAddress(commonName);
    if (address) {
      return inNetworks(address, options.allowed_networks) ? [] : [`common name IP ${address} is outside the allowed networks [${options.allowed_networks.join(', ')}]`];
    }
    const normalized = normalizeDnsName(commonName);
    if ('problem' in normalized) return [`common name: ${normalized.problem}`];
    const wildcard = wildcardProblem(normalized.name);
    if (wildcard) return [`common name: ${wildcard}`];
    if (isWildcard(normalized.name) && !options.allow_wildcard) return [`common name '${commonName}' is a wildcard, which this RA does not allow`];
    return inAllowedDomains(normalized.name, options.allowed_domains) ? [] : [`common name '${commonName}' is outside the allowed domains [${options.allowed_domains.join(', ')}]`];
  },
});
