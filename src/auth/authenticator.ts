import type { Requester } from '../types';

/** What a client presented: Anchor's form fields, or HTTP Basic credentials. */
export interface Credentials {
  readonly user?: string;
  readonly secret?: string;
}

/** One authentication entry of the config. Resolves to the requester, or undefined when refused. */
export interface Authenticator {
  readonly name: string;
  authenticate(credentials: Credentials): Promise<Requester | undefined>;
}
