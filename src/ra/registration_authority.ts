import type { Authenticator } from '../auth/authenticator';
import type { CertificateProfile } from '../issuance/profile';
import type { Policy } from '../policy/runner';
import type { SigningCa } from '../signers/signing_ca';

/** An RA ready to serve: who may ask, what policy says, what goes into the certificate, who signs. */
export interface RegistrationAuthority {
  readonly name: string;
  readonly authenticator: Authenticator;
  /** The always-on validators, then the RA's own chain in config order; then its fixups. */
  readonly policy: Policy;
  readonly profile: CertificateProfile;
  readonly signingCa: SigningCa;
  /** Its ACME profile (RFC 8555), when the RA serves ACME. */
  readonly acme?: AcmeProfile;
}

/** How an RA serves ACME: who may register, how long orders live, where validation may connect. */
export interface AcmeProfile {
  /** open: challenges are the only proof; eab: each account is bound to an identity of the RA's authentication. */
  readonly registration: 'open' | 'eab';
  readonly orderLifetimeMs: number;
  readonly validation: {
    readonly httpPort: number;
    readonly tlsAlpnPort: number;
    /** HOST:PORT of the DNS server to ask; the system resolver when absent. */
    readonly resolver?: string;
    readonly timeoutMs: number;
    readonly allowLoopback: boolean;
    readonly deniedRanges: readonly string[];
  };
}

/** The door a request came in by, recorded with every decision (ACME and others join this list). */
export type Protocol = 'anchor-form' | 'json' | 'pkcs10' | 'server-certificate' | 'acme';
