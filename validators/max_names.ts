import { z } from 'zod';
import { requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/** At most `max` distinct identifiers (CN, DNS and IP subjectAltNames, compared as normalised). */
export default defineValidator({
  name: 'max_names',
  options: z.strictObject({ max: z.number().int().min(1) }),
  check({ csr, names }, options) {
    const distinct = new Set(
      requestIdentifiers(csr.commonNames, names).map(({ identifier }) =>
        identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : identifier.raw,
      ),
    );
    return distinct.size > options.max ? [`the request has ${distinct.size} distinct names; at most ${options.max} ${options.max === 1 ? 'is' : 'are'} allowed`] : [];
  },
});
