import { z } from 'zod';
import { alternativeNameReasons } from '../src/policy/names';
import { allowedDomains, allowWildcard, networks } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** DNS subjectAltNames inside allowed_domains and IP subjectAltNames (v4 or v6) inside allowed_networks. */
export default defineValidator({
  name: 'alternative_names_ip',
  options: z.strictObject({ allowed_domains: allowedDomains, allowed_networks: networks, allow_wildcard: allowWildcard }),
  check: (request, options) => alternativeNameReasons(request, options, 'alternative_names_ip'),
});
