import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

/** Always on: the CSR's self-signature proves the requester holds the private key (RFC 2986 3). */
export default defineValidator({
  name: 'csr_signature',
  options: z.strictObject({}),
  check({ csr }) {
    return csr.signatureValid ? [] : [`the CSR's signature (${csr.signatureAlgorithm.name}) does not verify with its own public key`];
  },
});
