import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

/**
 * At most `max` names: the distinct names the certificate would carry (the CN among them), and the
 * subjectAltNames the request lists, repeats counted, so 200 copies of one name are 200 names.
 */
export default defineValidator({
  name: 'max_names',
  options: z.strictObject({ max: z.number().int().min(1) }),
  check({ csr, names }, options) {
    const count = Math.max(names.dnsNames.length + names.ipAddresses.length, csr.dnsNames.length + csr.ipAddresses.length);
    return count > options.max ? [`the request has ${count} names; at most ${options.max} ${options.max === 1 ? 'is' : 'are'} allowed`] : [];
  },
});
