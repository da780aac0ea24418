import { z } from 'zod';
import { extensionLabel, extensionOid } from '../src/x509/oids';
import { resolvedNames } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** Every requested extension must be listed, by name or dotted OID. */
export default defineValidator({
  name: 'extensions',
  options: z.strictObject({
    allowed_extensions: resolvedNames(extensionOid, (name) => `unknown extension name ${JSON.stringify(name)}; use a dotted OID for others`),
  }),
  check({ csr }, options) {
    return csr.extensions
      .filter((extension) => !options.allowed_extensions.includes(extension.oid))
      .map((extension) => `extension ${extensionLabel(extension.oid)} is not allowed`);
  },
});
