import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

/**
 * Always on: a key is issued only in the form the deny list and the ledger can recognise it by.
 * An id-RSASSA-PSS SubjectPublicKeyInfo (RFC 4055 1.2) wraps the same RSA key in unboundedly many
 * parameter encodings, each with its own fingerprint: a listed key could come back in another one.
 * The key as rsaEncryption, with a PSS signature on the CSR if its owner likes, is issued as usual.
 */
export default defineValidator({
  name: 'key_form',
  options: z.strictObject({}),
  check({ csr }) {
    return csr.publicKey.type === 'RSA-PSS' ? ['an RSASSA-PSS (id-RSASSA-PSS) public key is not issued; send the key as rsaEncryption (a PSS signature on the CSR is fine)'] : [];
  },
});
