import type { Authenticator } from '../../auth/authenticator';
import type { SigningCa } from '../../signers/signing_ca';
import type { Backend, BackendSchema } from '../backend';

/** What an authentication backend may use to open its entry. */
export interface AuthenticationContext {
  /** Resolves a path from the config against the config file's folder. */
  readonly configPath: (path: string) => string;
  /** The entry's name under `authentication:`. */
  readonly name: string;
  /** The signing CAs opened so far (mtls trusts their chains by default). */
  readonly signingCas: ReadonlyMap<string, SigningCa>;
  readonly env: NodeJS.ProcessEnv;
}

/** An `authentication:` backend: one file in this folder, listed in `index.ts`. */
export type AuthenticationBackend<Schema extends BackendSchema> = Backend<Schema, AuthenticationContext, Authenticator>;

/** A problem with one key of an authentication entry. */
export class AuthenticationConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}
