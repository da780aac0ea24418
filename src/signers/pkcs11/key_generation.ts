import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { SignerConfigError } from '../signer';
import { loadModule } from './module';
import { describeKey, describeToken, type Pkcs11Options } from './options';
import { findObjects, keyTemplate, openSessions } from './sessions';
import type { TokenKeyType } from './token_key_type';

export { TOKEN_KEY_TYPES, type TokenKeyType } from './token_key_type';

const EC_PARAMS: Readonly<Record<string, string>> = { p256: '06082a8648ce3d030107', p384: '06052b81040022' };

/**
 * Generates a CA key pair inside the token: the private key sensitive and never extractable, so it
 * cannot leave the token. Refuses to add a second key under a label or id already in use.
 */
export async function generateTokenKey(options: Pkcs11Options, keyType: TokenKeyType): Promise<void> {
  const pkcs11 = loadModule(options);
  const fail = (step: string, message: string): never => {
    throw new SignerConfigError(`PKCS#11 ${step}: ${message}`);
  };
  const { sessions: [session] } = openSessions(pkcs11, options, 1, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION, fail);
  try {
    if (findObjects(pkcs11, session, keyTemplate(options)).length > 0) {
      fail('generate key', `${describeToken(options)} already holds a key ${describeKey(options)}; pick another label`);
    }
    // Both halves share CKA_ID (and the label), so the signer finds the public key beside the private one.
    const identity = options.keyId !== undefined ? keyTemplate(options) : [...keyTemplate(options), { type: pkcs11js.CKA_ID, value: randomBytes(8) }];
    const ec = keyType.startsWith('p');
    const publicTemplate: pkcs11js.Template = [
      ...identity,
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      ...(ec
        ? [{ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(EC_PARAMS[keyType], 'hex') }]
        : [
            { type: pkcs11js.CKA_MODULUS_BITS, value: Number(keyType.slice(3)) },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]),
    ];
    const privateTemplate: pkcs11js.Template = [
      ...identity,
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ];
    const mechanism = { mechanism: ec ? pkcs11js.CKM_EC_KEY_PAIR_GEN : pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN };
    await pkcs11.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
  } finally {
    pkcs11.C_CloseSession(session);
  }
}
