import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { SignerConfigError } from '../../signers/signer';
import { exactlyOne, path, previousCerts, refusePlaintextSecret } from '../schema_fields';
import type { SignerBackend } from './backend';

const schema = z
  .strictObject({
    backend: z.literal('pkcs11'),
    module: path,
    token_label: z.string().min(1).optional(),
    slot: z.number().int().min(0).optional(),
    key_label: z.string().min(1).optional(),
    key_id: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'expected the key id in hex').optional(),
    pin_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    pin_file: path.optional(),
    pin: refusePlaintextSecret,
    cert: path,
    previous_certs: previousCerts,
    sessions: z.number().int().min(1).max(64).optional(),
  })
  .refine(exactlyOne(['token_label', 'slot']), { message: 'give exactly one of token_label and slot' })
  .refine(exactlyOne(['key_label', 'key_id']), { message: 'give exactly one of key_label and key_id' })
  .refine(exactlyOne(['pin_env', 'pin_file']), { message: 'give exactly one of pin_env and pin_file' });

export const pkcs11SigningCa: SignerBackend<typeof schema> = {
  backend: 'pkcs11',
  schema,
  async open(entry, { configPath, issuing, env }) {
    const pin = entry.pin_env !== undefined ? { value: env[entry.pin_env], source: `environment variable ${entry.pin_env}` } : await readPinFile(configPath(entry.pin_file!));
    if (!pin.value) throw new SignerConfigError(`the PKCS#11 PIN is missing: ${pin.source} is not set or empty`);
    // Loaded here, not with the schema: a CA that holds no key on a token never loads pkcs11js.
    const { Pkcs11Signer } = require('../../signers/pkcs11/signer') as typeof import('../../signers/pkcs11/signer');
    return Pkcs11Signer.open(
      {
        module: configPath(entry.module),
        ...(entry.token_label !== undefined ? { tokenLabel: entry.token_label } : { slot: entry.slot! }),
        ...(entry.key_label !== undefined ? { keyLabel: entry.key_label } : { keyId: entry.key_id! }),
        pin: pin.value,
        pinSource: pin.source,
        ...(entry.sessions !== undefined ? { sessions: entry.sessions } : {}),
      },
      issuing.publicKey,
    );
  },
};

/** A PIN file must be private (mode 0600), like a key file; its first line is the PIN. */
export async function readPinFile(file: string): Promise<{ value: string | undefined; source: string }> {
  const source = `file ${file}`;
  const info = await stat(file).catch(() => undefined);
  if (!info) return { value: undefined, source };
  if ((info.mode & 0o077) !== 0) throw new SignerConfigError(`the PIN file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
  return { value: (await readFile(file, 'utf8')).split('\n')[0].trim(), source };
}
