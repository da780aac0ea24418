import { acmeEvent, type AcmeDecision } from '../audit/events';
import type { Ledger } from '../audit/ledger';
import type { AcmeProfile, RegistrationAuthority } from '../ra/registration_authority';
import type { AccountKey } from './jwk';
import type { ParsedJws } from './jws';
import type { Nonces } from './nonces';
import type { AcmeStore, AccountRecord } from './store';
import type { AcmeUrls } from './urls';

/** What the ACME door shares across requests: its state, the ledger, the process's limits. */
export interface AcmeDoor {
  readonly store: AcmeStore;
  readonly nonces: Nonces;
  readonly ledger: Ledger;
  /** The per-identity rate limit of the RA's requesters (src/http/limits.ts): ACME orders count too. */
  readonly admitIdentity: (key: string) => Promise<void>;
  /** Where a fault off the request path (a validation that crashed) is reported. */
  readonly logError: (error: unknown) => void;
}

/** One ACME request: its RA and profile, the URLs it names, and where it came from. */
export interface AcmeContext {
  readonly door: AcmeDoor;
  readonly ra: RegistrationAuthority;
  readonly acme: AcmeProfile;
  readonly urls: AcmeUrls;
  readonly source: string;
}

/** A POST whose JWS verified: under the key of `account` (kid), or of the `jwk` header. */
export interface VerifiedRequest {
  readonly jws: ParsedJws;
  readonly key: AccountKey;
  readonly account?: AccountRecord;
  /** The request URL the JWS was signed for. */
  readonly url: string;
}

/** Records one ACME decision in the ledger; durable before the client hears of it. */
export function recordAcme(context: AcmeContext, decision: AcmeDecision): Promise<void> {
  return context.door.ledger.append(acmeEvent({ ra: context.ra.name, source: context.source, protocol: 'acme' }, decision));
}
