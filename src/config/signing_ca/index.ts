import { localSigningCa } from './local';
import { pkcs11SigningCa } from './pkcs11';

/** The `signing_ca:` backends, one file each: the options of the `backend` key, in this order. */
export const signingCaBackends = [localSigningCa, pkcs11SigningCa] as const;
