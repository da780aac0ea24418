import { z } from 'zod';
import { keyUsageName } from '../src/csr/oids';
import { defineValidator } from '../src/policy/validator';

/** Every requested keyUsage bit must be listed (RFC 5280 names or OpenSSL's, e.g. "Digital Signature"). */
export default defineValidator({
  name: 'key_usage',
  options: z.strictObject({
    allowed_usage: z.array(
      z.string().transform((name, context) => {
        const usage = keyUsageName(name);
        if (!usage) context.addIssue({ code: 'custom', message: `unknown key usage ${JSON.stringify(name)}` });
        return usage ?? '';
      }),
    ),
  }),
  check({ csr }, options) {
    return (csr.keyUsage ?? []).filter((usage) => !(options.allowed_usage as readonly string[]).includes(usage)).map((usage) => `key usage ${usage} is not allowed`);
  },
});
