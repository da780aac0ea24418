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
  /**
   * Whether checking these credentials costs real work (a scrypt, a directory bind), which the front
   * door caps per address and overall. Absent: always costly. A cheap check (a token's hash, a secret
   * already verified) must never wait behind a flood of costly ones.
   */
  costly?(credentials: Credentials): boolean;
  /** Frees what it holds (a file watch), when a reload retires it. */
  close?(): void;
}
