import { z } from 'zod';
import { OID } from '../src/x509/oids';
import { defineValidator } from '../src/policy/validator';

const UNDERSTOOD = new Set<string>([OID.subjectAltName, OID.basicConstraints, OID.keyUsage, OID.extKeyUsage]);

/**
 * Always on: a requested extension marked critical that Mayfly does not understand is refused.
 * Requested extensions are never copied, so honouring the request silently would drop it.
 */
export default defineValidator({
  name: 'critical_extensions',
  options: z.strictObject({}),
  check({ csr }) {
    return csr.extensions.filter((e) => e.critical && !UNDERSTOOD.has(e.oid)).map((e) => `the request marks unknown extension ${e.oid} critical`);
  },
});
