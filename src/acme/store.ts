import type { JsonWebKey } from 'node:crypto';
import type { Requester } from '../types';
import type { AcmeIdentifier, ProblemDocument } from './problems';

// ACME's state (RFC 8555 7.1): accounts, orders, authorizations, the certificates they led to, and
// nonces. Behind an interface so that replicas can share it the way they share the ledger
// (src/audit/store.ts): SQLite by default beside the ledger; PostgreSQL implements the same calls.

export interface AccountRecord {
  readonly id: string;
  readonly ra: string;
  /** RFC 7638 thumbprint of the account key: one account per key and RA. */
  readonly thumbprint: string;
  readonly jwk: JsonWebKey;
  readonly status: 'valid' | 'deactivated' | 'revoked';
  readonly contact: readonly string[];
  readonly createdAt: string;
  /** Who the account acts as before policy: an EAB-bound identity, or the account itself. */
  readonly requester: Requester;
}

export type ChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';

export interface ChallengeRecord {
  readonly id: string;
  readonly type: ChallengeType;
  readonly token: string;
  readonly status: 'pending' | 'processing' | 'valid' | 'invalid';
  readonly validated?: string;
  readonly error?: ProblemDocument;
}

export interface AuthorizationRecord {
  readonly id: string;
  readonly ra: string;
  readonly account: string;
  readonly order: string;
  readonly identifier: AcmeIdentifier;
  readonly wildcard: boolean;
  readonly status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  readonly expires: string;
  readonly challenges: readonly ChallengeRecord[];
}

export interface OrderRecord {
  readonly id: string;
  readonly ra: string;
  readonly account: string;
  readonly status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
  readonly expires: string;
  readonly identifiers: readonly AcmeIdentifier[];
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly authorizations: readonly string[];
  readonly error?: ProblemDocument;
  readonly certificate?: string;
  /** RFC 9773 certID of the certificate this order renews. */
  readonly replaces?: string;
}

export interface CertificateRecord {
  readonly id: string;
  readonly ra: string;
  readonly account: string;
  readonly order: string;
  readonly serial: string;
  /** RFC 9773 certID: base64url(authorityKeyIdentifier) "." base64url(serial DER). */
  readonly certId: string;
  /** base64 DER. */
  readonly der: string;
  readonly spkiSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly revoked?: { readonly at: string; readonly reason: number };
  readonly replacedBy?: string;
}

/** A key that was revoked: nothing is issued to it again on this RA. */
export interface RevokedKeyRecord {
  readonly id: string;
  /** SHA-256 of the key's canonical SubjectPublicKeyInfo, hex, as a deny list holds it. */
  readonly fingerprint: string;
  readonly ra: string;
  readonly serial: string;
  readonly at: string;
}

/** An external account binding key (RFC 8555 7.3.4), given to an authenticated identity; used once. */
export interface EabKeyRecord {
  /** The kid. */
  readonly id: string;
  readonly ra: string;
  /** The HMAC key, base64url. */
  readonly macKey: string;
  readonly requester: Requester;
  readonly expires: string;
  readonly account?: string;
}

export interface AcmeObjects {
  account: AccountRecord;
  order: OrderRecord;
  authorization: AuthorizationRecord;
  certificate: CertificateRecord;
  revoked_key: RevokedKeyRecord;
  eab_key: EabKeyRecord;
}

export type AcmeKind = keyof AcmeObjects;

/** What a store indexes beside the JSON body: one lookup key per kind, and when the object may go. */
export function objectIndex<K extends AcmeKind>(kind: K, record: AcmeObjects[K]): { lookup: string | null; expires: string | null } {
  switch (kind) {
    case 'account':
      return { lookup: (record as AccountRecord).thumbprint, expires: null };
    case 'order': {
      const order = record as OrderRecord;
      // A valid order stays while its certificate is current (its download URL); others go when they expire.
      return { lookup: order.account, expires: order.status === 'valid' ? null : order.expires };
    }
    case 'authorization': {
      const authorization = record as AuthorizationRecord;
      return { lookup: authorization.order, expires: authorization.status === 'valid' ? null : authorization.expires };
    }
    case 'certificate':
      return { lookup: (record as CertificateRecord).serial, expires: (record as CertificateRecord).notAfter };
    case 'eab_key':
      return { lookup: null, expires: (record as EabKeyRecord).account ? null : (record as EabKeyRecord).expires };
    default:
      return { lookup: null, expires: null };
  }
}

export interface AcmeStore {
  /** Remembers a fresh nonce until `expires`. */
  addNonce(value: string, expires: Date): Promise<void>;
  /** Uses a nonce up: true once for a nonce this store gave out and that has not expired, then never again. */
  consumeNonce(value: string, now: Date): Promise<boolean>;
  /** Inserts; false when the id (or, for an account, the key on this RA) is already taken. */
  insert<K extends AcmeKind>(kind: K, record: AcmeObjects[K]): Promise<boolean>;
  get<K extends AcmeKind>(kind: K, id: string): Promise<AcmeObjects[K] | undefined>;
  /** The objects of this kind on this RA with this lookup key (account: thumbprint; order: account; certificate: serial), oldest first. */
  list<K extends AcmeKind>(kind: K, ra: string, lookup?: string): Promise<AcmeObjects[K][]>;
  /**
   * Atomic read-modify-write: `change` sees the current record and returns the next one, or
   * undefined to leave it. Resolves to what was written, or undefined.
   */
  update<K extends AcmeKind>(kind: K, id: string, change: (current: AcmeObjects[K]) => AcmeObjects[K] | undefined): Promise<AcmeObjects[K] | undefined>;
  /** Drops expired nonces, and expired orders, authorizations, certificates and unused EAB keys. */
  cleanup(now: Date): Promise<number>;
  close(): Promise<void>;
}
