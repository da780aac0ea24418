import { z } from 'zod';
import { LocalSigner } from '../../signers/local';
import { path, previousCerts } from '../schema_fields';
import type { SignerBackend } from './backend';

const schema = z.strictObject({
  backend: z.literal('local'),
  cert: path,
  key: path,
  key_passphrase_env: z.string().optional(),
  previous_certs: previousCerts,
});

export const localSigningCa: SignerBackend<typeof schema> = {
  backend: 'local',
  schema,
  async open(entry, { configPath, env }) {
    const passphrase = entry.key_passphrase_env ? env[entry.key_passphrase_env] : undefined;
    return LocalSigner.load({ keyFile: configPath(entry.key), ...(passphrase ? { passphrase } : {}) });
  },
};
