import { z } from 'zod';
import { OID } from '../src/x509/oids';
import { normalizeDnsName } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

// RFC 1035 2.3.4: labels of at most 63 octets, names of at most 253 characters in text form.
const MAX_LABEL = 63;
const MAX_NAME = 253;
// Digests that are not collision resistant, whatever the signature scheme (RSASSA-PSS included).
const WEAK_DIGESTS: Readonly<Record<string, string>> = { md5: 'MD5', sha1: 'SHA-1' };

/** RFC 5280 and RFC 1035 rules a request must follow, whatever the RA's name policy. */
export default defineValidator({
  name: 'standards_compliance',
  options: z.strictObject({
    label_re: z
      .string()
      .default('^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')
      .transform((source, context) => {
        try {
          return new RegExp(source);
        } catch {
          context.addIssue({ code: 'custom', message: 'not a valid regular expression' });
          return z.NEVER;
        }
      }),
  }),
  check({ csr, names }, options) {
    const reasons: string[] = [];
    const san = csr.extensions.find((extension) => extension.oid === OID.subjectAltName);
    if (san && !san.critical && csr.subjectAttributes.length === 0) reasons.push('the subject is empty, so subjectAltName must be critical (RFC 5280 4.2.1.6)');
    const constraints = csr.extensions.find((extension) => extension.oid === OID.basicConstraints);
    if (constraints && !constraints.critical) reasons.push('basicConstraints must be critical (RFC 5280 4.2.1.9)');
    const weak = csr.signatureAlgorithm.digest ? WEAK_DIGESTS[csr.signatureAlgorithm.digest] : undefined;
    if (weak) reasons.push(`the CSR is signed with ${csr.signatureAlgorithm.name}; ${weak} is not collision resistant`);
    // The names as issued (the CN's among them); IPs are among the addresses by now.
    for (const name of names.dnsNames) reasons.push(...dnsNameReasons(name, options.label_re));
    return reasons;
  },
});

function dnsNameReasons(raw: string, labelRe: RegExp): string[] {
  // The lengths first, each with its own reason; then what else normalising finds wrong.
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  const lengths = [
    ...(name.length > MAX_NAME ? [`name '${raw}' is longer than ${MAX_NAME} characters`] : []),
    ...(name.split('.').some((label) => label.length > MAX_LABEL) ? [`name '${raw}' has a label longer than ${MAX_LABEL} characters`] : []),
  ];
  if (lengths.length > 0) return lengths;
  const normalized = normalizeDnsName(raw);
  if ('problem' in normalized) return [normalized.problem];
  const reasons: string[] = [];
  normalized.name.split('.').forEach((label, index) => {
    if (label.includes('*')) {
      if (label !== '*' || index !== 0) reasons.push(`name '${raw}' has a wildcard that is not the whole leftmost label`);
    } else if (!labelRe.test(label)) {
      reasons.push(`name '${raw}' has label '${label}' outside ${labelRe.source}`);
    }
  });
  return reasons;
}
