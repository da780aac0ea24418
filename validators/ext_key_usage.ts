import { z } from 'zod';
import { extKeyUsageLabel, extKeyUsageOid } from '../src/csr/oids';
import { defineValidator } from '../src/policy/validator';

/** Every requested extKeyUsage purpose must be listed, by name or OID; an unknown OID is reported by OID. */
export default defineValidator({
  name: 'ext_key_usage',
  options: z.strictObject({
    allowed_usage: z.array(
      z.string().transform((name, context) => {
        const oid = extKeyUsageOid(name);
        if (!oid) context.addIssue({ code: 'custom', message: `unknown extended key usage ${JSON.stringify(name)}; use a dotted OID for others` });
        return oid ?? '';
      }),
    ),
  }),
  check({ csr }, options) {
    return (csr.extKeyUsage ?? [])
      .filter((oid) => !options.allowed_usage.includes(oid))
      .map((oid) => `extended key usage ${extKeyUsageLabel(oid)} is not allowed`);
  },
});
