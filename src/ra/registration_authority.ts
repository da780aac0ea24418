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
}

/** The door a request came in by, recorded with every decision (ACME and others join this list). */
export type Protocol = 'anchor-form' | 'json' | 'pkcs10' | 'server-certificate';
