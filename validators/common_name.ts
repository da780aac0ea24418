import { z } from 'zod';
import { classifyName, domainReasons, networkReasons } from '../src/policy/names';
import { allowedDomains, allowWildcard, networks } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** The subject CN: at most one; an IP inside allowed_networks, or a DNS name inside allowed_domains. */
export default defineValidator({
  name: 'common_name',
  options: z.strictObject({ allowed_domains: allowedDomains, allowed_networks: networks, allow_wildcard: allowWildcard }),
  check({ csr, names }, options) {
    if (csr.commonNames.length > 1) return [`the subject has ${csr.commonNames.length} common names; at most one is allowed`];
    if (csr.commonNames.length === 0) {
      return names.dnsNames.length + names.ipAddresses.length === 0 ? ['the request has neither a common name nor a subjectAltName'] : [];
    }
    const identifier = classifyName(csr.commonNames[0]);
    switch (identifier.kind) {
      case 'invalid':
        return [`common name: ${identifier.problem}`];
      case 'ip':
        return networkReasons('common name IP', identifier.address, options.allowed_networks);
      case 'dns':
        return domainReasons('common name', identifier, options.allowed_domains, options.allow_wildcard);
    }
  },
});
