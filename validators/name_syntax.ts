import { z } from 'zod';
import { OID } from '../src/x509/oids';
import { TAG } from '../src/der';
import { dnsNameProblem, MAX_COMMON_NAME_LENGTH } from '../src/issuance/lint';
import { classifyName } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

// RFC 5280 4.1.2.6 / CA/B BR 7.1.4.2: a CN in the two string types every client reads the same way.
const COMMON_NAME_TAGS: ReadonlySet<number> = new Set([TAG.PRINTABLE_STRING, TAG.UTF8_STRING]);
const STRING_TYPES: Readonly<Record<number, string>> = {
  [TAG.NUMERIC_STRING]: 'NumericString',
  [TAG.T61_STRING]: 'TeletexString',
  [TAG.IA5_STRING]: 'IA5String',
  [TAG.UNIVERSAL_STRING]: 'UniversalString',
  [TAG.BMP_STRING]: 'BMPString',
};

/**
 * Always on: the names the certificate would carry are ones clients accept. One CN, of at most 64
 * characters (ub-common-name) in a PrintableString or UTF8String; every DNS name (the CN's among
 * them) a lower-case RFC 1123 host name — underscores only with the RA's `allow_underscores`.
 */
export default defineValidator({
  name: 'name_syntax',
  options: z.strictObject({ allow_underscores: z.boolean().default(false) }),
  check({ csr, names }, options) {
    const reasons: string[] = [];
    const commonNames = csr.subjectAttributes.filter((attribute) => attribute.type === OID.commonName);
    if (commonNames.length > 1) reasons.push(`the subject has ${commonNames.length} common names; at most one is allowed`);
    for (const { value, tag } of commonNames) {
      if (tag !== undefined && !COMMON_NAME_TAGS.has(tag)) reasons.push(`the common name is a ${STRING_TYPES[tag] ?? `string of tag ${tag}`}; only PrintableString and UTF8String are accepted`);
      if (value.length > MAX_COMMON_NAME_LENGTH) reasons.push(`the common name is ${value.length} characters long; at most ${MAX_COMMON_NAME_LENGTH} are allowed (RFC 5280 ub-common-name)`);
    }
    for (const name of names.dnsNames) {
      const identifier = classifyName(name);
      const problem = identifier.kind === 'invalid' ? identifier.problem : dnsNameProblem(name, options.allow_underscores);
      if (problem) reasons.push(problem);
    }
    return reasons;
  },
});
