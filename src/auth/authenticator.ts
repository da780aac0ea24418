import type { Requester } from '../types';

/** What a client presented: Anchor's form fields or HTTP Basic, a bearer token, a TLS client certificate. */
export interface Credentials {
  readonly user?: string;
  readonly secret?: string;
  readonly bearer?: string;
  /** The client's certificate chain from the TLS handshake, DER, the client's own first. */
  readonly clientCertificates?: readonly Uint8Array[];
}

/** One authentication entry of the config. Resolves to the requester, or undefined when refused. */
export interface Authenticator {
  readonly name: string;
  authenticate(credentials: Credentials): Promise<Requester | undefined>;
  /** Frees what it holds (a file watch), when a reload retires it. */
  close?(): void;
}
