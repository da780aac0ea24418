import { z } from 'zod';
import { NAME_ATTRIBUTES } from '../src/x509/name';
import { defineValidator } from '../src/policy/validator';

/** Subject attribute types an RA may issue beside the CN, by short name. */
export const ISSUABLE_ATTRIBUTES = ['C', 'ST', 'L', 'O', 'OU', 'DC'] as const;

/**
 * The values each subject attribute may take, per type: `{O: [web, db], OU: [payments]}`. Every
 * value of a listed type in the request must be listed, exactly (case matters: Kubernetes reads O
 * as a group name). Only the types the RA names in `subject_attributes` are issued; the config
 * loader requires this validator to list each of them.
 */
export default defineValidator({
  name: 'subject_attributes',
  options: z
    .partialRecord(z.enum(ISSUABLE_ATTRIBUTES), z.array(z.string().min(1)).min(1))
    // RFC 5280 A.1: countryName is a two-letter PrintableString; domainComponent an IA5String.
    .refine((options) => (options.C ?? []).every((value) => /^[A-Z]{2}$/.test(value)), { message: 'C values are ISO 3166 two-letter codes', path: ['C'] })
    .refine((options) => (options.DC ?? []).every((value) => /^[\x21-\x7e]+$/.test(value)), { message: 'DC values are ASCII', path: ['DC'] }),
  check({ csr }, options) {
    return Object.entries(options).flatMap(([short, allowed]) =>
      csr.subjectAttributes
        .filter((attribute) => attribute.type === NAME_ATTRIBUTES[short].oid && !allowed!.includes(attribute.value))
        .map((attribute) => `subject ${short} ${JSON.stringify(attribute.value)} is not among the allowed values [${allowed!.join(', ')}]`),
    );
  },
});
