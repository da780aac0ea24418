import { acmeEvent, type AcmeDecision } from '../audit/events';
import type { Ledger } from '../audit/ledger';
import type { AcmeProfile, RegistrationAuthority } from '../ra/registration_authority';
import type { AccountKey } from './jwk';
import type { ParsedJws } from './jws';
import type { Nonces } from './nonces';
import type { Response } from 'express';
import type { Credentials } from '../auth/authenticator';
import type { Requester } from '../types';
import { AcmeProblem } from './problems';
import type { AccountRecord, AcmeObjects, AcmeStore } from './store';
import type { AcmeUrls } from './urls';

/** What the ACME door shares across requests: its state, the ledger, the process's limits. */
export interface AcmeDoor {
  readonly store: AcmeStore;
  readonly nonces: Nonces;
  readonly ledger: Ledger;
  /** The per-identity rate limit of the RA's requesters (src/http/limits.ts): ACME orders count too. */
  readonly admitIdentity: (key: string) => Promise<void>;
  /** Authenticates the credentials of POST /acme/<ra>/eab with the RA's authenticator, under the HTTP limits. */
  readonly authenticate: (response: Response, ra: RegistrationAuthority, credentials: Credentials) => Promise<Requester | undefined>;
  /** Where a fault off the request path (a validation that crashed) is reported. */
  readonly logError: (error: unknown) => void;
  /** Takes a signing slot for the request `response` answers (its Admission holds it until the answer is sent). */
  readonly enterSigning: (response: Response) => void;
}

/** One ACME request: its RA and profile, the URLs it names, and where it came from. */
export interface AcmeContext {
  readonly door: AcmeDoor;
  readonly ra: RegistrationAuthority;
  readonly acme: AcmeProfile;
  readonly urls: AcmeUrls;
  readonly source: string;
  /** Takes a signing slot under the process's cap (503 when all are taken), as POST /v1/sign does. */
  readonly enterSigning: () => void;
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
export async function recordAcme(context: AcmeContext, decision: AcmeDecision): Promise<void> {
  await context.door.ledger.append(acmeEvent({ ra: context.ra.name, source: context.source, protocol: 'acme' }, decision));
}

/** Who an account with open registration acts as: the account itself. */
export const openRequester = (accountId: string): Requester => ({ user: `acme:${accountId}`, groups: [], authentication: 'acme' });

/** The identity an account acts as, for records made off its own requests (a validation, a revocation by key). */
export async function accountRequester(context: AcmeContext, accountId: string): Promise<Requester> {
  return (await context.door.store.get('account', accountId))?.requester ?? openRequester(accountId);
}

/** An order, authorization or certificate of this RA that the request's account holds; 404 or unauthorized otherwise. */
export async function ownedObject<K extends 'order' | 'authorization' | 'certificate'>(context: AcmeContext, request: VerifiedRequest, kind: K, id: string): Promise<AcmeObjects[K]> {
  const found = await context.door.store.get(kind, id);
  if (!found || found.ra !== context.ra.name) throw new AcmeProblem('malformed', `no such ${kind}`).withStatus(404);
  if (found.account !== request.account!.id) throw new AcmeProblem('unauthorized', `the ${kind} belongs to another account`);
  return found;
}
