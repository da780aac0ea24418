import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

/**
 * Always on: RFC 5280 4.1.2.6 — a certificate with an empty subject must carry its identity in the
 * subjectAltName. Whatever validators an RA configures, a certificate that names no one is refused.
 */
export default defineValidator({
  name: 'subject_identity',
  options: z.strictObject({}),
  // The names include the CN, so no names means no CN and no subjectAltName.
  check({ names }) {
    const empty = names.dnsNames.length === 0 && names.ipAddresses.length === 0;
    return empty ? ['the request has no common name and no subjectAltName: the certificate would name no one'] : [];
  },
});
