import { z } from 'zod';
import { keyUsageName } from '../src/x509/oids';
import { resolvedNames } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** Every requested keyUsage bit must be listed (RFC 5280 names or OpenSSL's, e.g. "Digital Signature"). */
export default defineValidator({
  name: 'key_usage',
  options: z.strictObject({
    allowed_usage: resolvedNames(keyUsageName, (name) => `unknown key usage ${JSON.stringify(name)}`),
  }),
  check({ csr }, options) {
    return (csr.keyUsage ?? []).filter((usage) => !options.allowed_usage.includes(usage)).map((usage) => `key usage ${usage} is not allowed`);
  },
});
