import { hash } from 'node:crypto';
import { commonNameOf } from '../x509/name';
import { sourceKey } from './source';

// One decision, as the ledger keeps it. The JSON text of `AuditEvent` is what the hash chain covers,
// so its field order is fixed here and never re-encoded: verification hashes the stored text.

/** `accepted`: an ACME step that went ahead (an account, an order, a validation) but issued nothing. */
export type AuditOutcome = 'issued' | 'refused' | 'error' | 'accepted';

export interface AuditEvent {
  /** Record format version. */
  readonly v: 1;
  readonly time: string;
  /** `sign`: a request that passed authentication; `auth`: one that did not; `acme`: an ACME step. */
  readonly event: 'sign' | 'auth' | 'acme';
  readonly ra: string;
  readonly requester: { readonly user: string; readonly groups: readonly string[]; readonly authentication: string } | null;
  /** The name a failed authentication claimed; never the secret. */
  readonly claimed_user?: string;
  readonly source: string;
  /** The door the request came in by; absent in records written before it was recorded. */
  readonly protocol?: string;
  readonly csr_sha256?: string;
  /** The subject issued (or that would have been); `requested_subject` when the CSR asked for more. */
  readonly subject?: string;
  readonly requested_subject?: string;
  readonly dns_names?: readonly string[];
  readonly ip_addresses?: readonly string[];
  readonly public_key?: { readonly type: string; readonly bits?: number; readonly curve?: string; readonly spki_sha256: string };
  readonly verdicts?: readonly { readonly validator: string; readonly reasons: readonly string[] }[];
  readonly outcome: AuditOutcome;
  /** Why a request was refused or failed, when no validator says it (bad CSR, signer down). */
  readonly reason?: string;
  /** For `acme`: the step (new-account, new-order, challenge, finalize, revoke…), the account and the order. */
  readonly acme?: { readonly action: string; readonly account: string; readonly order?: string; readonly authorization?: string; readonly challenge?: string; readonly serial?: string };
  readonly certificate?: {
    readonly serial: string;
    readonly not_before: string;
    readonly not_after: string;
    readonly sha256: string;
    /** The certificate itself, base64 DER: the ledger alone can reproduce what was issued. */
    readonly der: string;
  };
}

/** A stored record: the event's text and its place in its writer's chain. */
export interface AuditRecord {
  readonly chain: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** The event as JSON text, exactly as hashed. */
  readonly body: string;
}

/** Copies of an event's fields that the store indexes for queries (`audit verify` checks they agree). */
export interface RecordColumns {
  readonly time: string;
  readonly ra: string;
  readonly event: string;
  readonly outcome: string;
  readonly serial: string | null;
  /** DNS names and IP addresses, each once. */
  readonly names: readonly string[];
  /** Who asked: the requester, or the name a failed authentication claimed. */
  readonly user: string | null;
  /** The source address as its index key (source.ts), or null when it is no address. */
  readonly source: string | null;
  /** The subject's common name, lower case, searched by name globs beside the names. */
  readonly commonName: string | null;
  /** When the issued certificate expires. */
  readonly notAfter: string | null;
  /** The validators that refused, each once, sorted. */
  readonly refusedBy: readonly string[];
}

/** A record with its columns and its RFC 9162 leaf hash (hex), as the writer stores it. */
export type IndexedRecord = AuditRecord & { readonly leafHash: string; readonly columns: RecordColumns };

/** Taken from the event where it is made, so the writer never parses the JSON text back. */
export const recordColumns = (event: AuditEvent): RecordColumns => ({
  time: event.time,
  ra: event.ra,
  event: event.event,
  outcome: event.outcome,
  serial: event.certificate?.serial ?? null,
  names: [...new Set([...(event.dns_names ?? []), ...(event.ip_addresses ?? [])])],
  user: event.requester?.user ?? event.claimed_user ?? null,
  source: sourceKey(event.source),
  commonName: event.subject === undefined ? null : (commonNameOf(event.subject)?.toLowerCase() ?? null),
  notAfter: event.certificate?.not_after ?? null,
  refusedBy: [...new Set((event.verdicts ?? []).filter((verdict) => verdict.reasons.length > 0).map((verdict) => verdict.validator))].sort(),
});

/** The chain's first `prevHash`. */
export const GENESIS = '0'.repeat(64);

/** SHA-256 over the chain id, the sequence number, the previous hash and the event text. */
export function recordHash(chain: string, seq: number, prevHash: string, body: string): string {
  return hash('sha256', `${chain}\n${seq}\n${prevHash}\n${body}`, 'hex');
}

// One-shot hashes: createHash() makes a native object a request, which every scavenge must finalize.
export const sha256Hex = (data: Uint8Array): string => hash('sha256', data, 'hex');
