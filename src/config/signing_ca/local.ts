import { availableParallelism } from 'node:os';
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

/** Set by the primary of `mayfly serve --workers N` in each worker's environment: N. */
export const WORKERS_ENV = 'MAYFLY_WORKERS';

/**
 * A worker of `serve --workers N` with N at least the cores: every core runs an event loop already,
 * so libuv's pool adds no core to sign on, and the hand-off to a pool thread and back (a wake-up
 * each way, more threads than cores) cost more than it freed (RSA-2048, two workers on two cores:
 * 0.97–1.03 ms CPU a certificate signing on the event loop against 1.13–1.22 in the pool, ~12 %
 * more certificates a second; 2026-12-06).
 */
const workersCoverCores = (env: NodeJS.ProcessEnv): boolean => Number(env[WORKERS_ENV]) >= availableParallelism();

export const localSigningCa: SignerBackend<typeof schema> = {
  backend: 'local',
  schema,
  async open(entry, { configPath, env }) {
    const passphrase = entry.key_passphrase_env ? env[entry.key_passphrase_env] : undefined;
    return LocalSigner.load({ keyFile: configPath(entry.key), ...(passphrase ? { passphrase } : {}), onEventLoop: workersCoverCores(env) });
  },
};
