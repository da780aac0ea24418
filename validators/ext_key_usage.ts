import { z } from 'zod';
import { extKeyUsageLabel, extKeyUsageOid } from '../src/x509/oids';
import { resolvedNames } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** Every requested extKeyUsage purpose must be listed, by name or OID; an unknown OID is reported by OID. */
export default defineValidator({
  name: 'ext_key_usage',
  options: z.strictObject({
    allowed_usage: resolvedNames(extKeyUsageOid, (name) => `unknown extended key usage ${JSON.stringify(name)}; use a dotted OID for others`),
  }),
  check({ csr }, options) {
    return (csr.extKeyUsage ?? [])
      .filter((oid) => !options.allowed_usage.includes(oid))
      .map((oid) => `extended key usage ${extKeyUsageLabel(oid)} is not allowed`);
  },
});
