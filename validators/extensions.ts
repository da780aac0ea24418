import { z } from 'zod';
import { extensionLabel, extensionOid } from '../src/csr/oids';
import { defineValidator } from '../src/policy/validator';

/** Every requested extension must be listed, by name or dotted OID. */
export default defineValidator({
  name: 'extensions',
  options: z.strictObject({
    allowed_extensions: z.array(
      z.string().transform((name, context) => {
        const oid = extensionOid(name);
        if (!oid) context.addIssue({ code: 'custom', message: `unknown extension name ${JSON.stringify(name)}; use a dotted OID for others` });
        return oid ?? '';
      }),
    ),
  }),
  check({ csr }, options) {
    return csr.extensions
      .filter((extension) => !options.allowed_extensions.includes(extension.oid))
      .map((extension) => `extension ${extensionLabel(extension.oid)} is not allowed`);
  },
});
