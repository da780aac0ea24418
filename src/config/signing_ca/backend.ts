import type { X509Certificate } from 'node:crypto';
import type { Signer } from '../../signers/signer';
import type { Backend, BackendSchema } from '../backend';

/** What a signer backend may use to open its entry. */
export interface SignerContext {
  /** Resolves a path from the config against the config file's folder. */
  readonly configPath: (path: string) => string;
  /** The CA's issuing certificate: the key the signer opens must be its key. */
  readonly issuing: X509Certificate;
  readonly env: NodeJS.ProcessEnv;
}

/** A `signing_ca:` backend: one file in this folder, listed in `index.ts`. */
export type SignerBackend<Schema extends BackendSchema> = Backend<Schema, SignerContext, Signer>;
