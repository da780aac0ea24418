import { z } from 'zod';
import { alternativeNameReasons } from '../src/policy/names';
import { allowedDomains, allowWildcard } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** Every DNS subjectAltName inside allowed_domains; IP and other name kinds are refused here. */
export default defineValidator({
  name: 'alternative_names',
  options: z.strictObject({ allowed_domains: allowedDomains, allow_wildcard: allowWildcard }),
  check: (request, options) => alternativeNameReasons(request, options, 'alternative_names'),
});
