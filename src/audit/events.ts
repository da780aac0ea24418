import { subjectText } from '../x509/name';
import type { CertificationRequest, IssuanceNames, IssuedCertificate, Requester, SubjectAttribute, Verdict } from '../types';
import { sha256Hex, type AuditEvent, type AuditOutcome } from './record';

/** Where a request came from and where it went: the part every record shares. */
export interface RequestContext {
  readonly ra: string;
  readonly source: string;
  /** The door the request came in by (anchor-form, json, pkcs10, server-certificate…). */
  readonly protocol?: string;
  readonly time?: Date;
}

/** A failed authentication: who it claimed to be, never the secret. */
export function authFailureEvent(context: RequestContext, claimedUser: string | undefined): AuditEvent {
  return {
    v: 1,
    time: (context.time ?? new Date()).toISOString(),
    event: 'auth',
    ra: context.ra,
    requester: null,
    ...(claimedUser !== undefined ? { claimed_user: claimedUser.slice(0, 256) } : {}),
    source: context.source,
    ...(context.protocol !== undefined ? { protocol: context.protocol } : {}),
    outcome: 'refused',
    reason: 'authentication failed',
  };
}

export interface SignDecision {
  readonly requester: Requester;
  /** The raw CSR bytes as received, when the request got that far. */
  readonly csrBytes?: Uint8Array;
  readonly csr?: CertificationRequest;
  readonly names?: IssuanceNames;
  /** The subject policy allowed, as it is (or would be) issued; the CSR may have asked for more. */
  readonly subject?: readonly SubjectAttribute[];
  readonly verdicts?: readonly Verdict[];
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  readonly issued?: IssuedCertificate;
}

/** The fields every record of an authenticated request starts with, in the order the hash covers them. */
const recordHead = (context: RequestContext, event: 'sign' | 'acme', requester: Requester) => ({
  v: 1 as const,
  time: (context.time ?? new Date()).toISOString(),
  event,
  ra: context.ra,
  requester: { user: requester.user, groups: requester.groups, authentication: requester.authentication },
  source: context.source,
});

/** An authenticated sign request, whatever became of it. */
export function signEvent(context: RequestContext, decision: SignDecision): AuditEvent {
  const { csr, issued } = decision;
  const names = decision.names ?? (csr ? { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses } : undefined);
  return {
    ...recordHead(context, 'sign', decision.requester),
    ...(context.protocol !== undefined ? { protocol: context.protocol } : {}),
    ...(csr ? { csr_sha256: sha256Hex(csr.der) } : decision.csrBytes ? { csr_sha256: sha256Hex(decision.csrBytes) } : {}),
    // The subject as issued; what the CSR asked for beside it, when that differs (attributes left out).
    ...subjects(csr, decision.subject),
    ...(names ? { dns_names: names.dnsNames, ip_addresses: names.ipAddresses } : {}),
    ...(csr
      ? {
          public_key: {
            type: csr.publicKey.type,
            ...(csr.publicKey.bits !== undefined ? { bits: csr.publicKey.bits } : {}),
            ...(csr.publicKey.curve !== undefined ? { curve: csr.publicKey.curve } : {}),
            // The canonical SPKI (an EC point uncompressed): the certificate's key, as the deny list matches it.
            spki_sha256: sha256Hex(csr.publicKey.spki),
          },
        }
      : {}),
    ...(decision.verdicts ? { verdicts: decision.verdicts.map((v) => ({ validator: v.validator, reasons: v.reasons })) } : {}),
    outcome: decision.outcome,
    ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
    ...(issued
      ? {
          certificate: {
            serial: issued.serialNumber,
            not_before: issued.notBefore.toISOString(),
            not_after: issued.notAfter.toISOString(),
            sha256: sha256Hex(issued.der),
            der: Buffer.from(issued.der.buffer, issued.der.byteOffset, issued.der.byteLength).toString('base64'),
          },
        }
      : {}),
  };
}

function subjects(csr: CertificationRequest | undefined, issued: readonly SubjectAttribute[] | undefined): { subject?: string; requested_subject?: string } {
  const requested = csr ? subjectText(csr.subjectAttributes) : undefined;
  if (!issued) return requested !== undefined ? { subject: requested } : {};
  const subject = subjectText(issued);
  return requested !== undefined && requested !== subject ? { subject, requested_subject: requested } : { subject };
}

/** One ACME decision (RFC 8555): what happened to which account and order, and to which identifiers. */
export interface AcmeDecision {
  readonly requester: Requester;
  readonly action: 'new-account' | 'account-update' | 'account-deactivated' | 'key-change' | 'new-order' | 'authorization' | 'challenge' | 'finalize' | 'revoke';
  readonly account: string;
  readonly order?: string;
  readonly authorization?: string;
  readonly challenge?: string;
  readonly serial?: string;
  readonly names?: IssuanceNames;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  readonly verdicts?: readonly Verdict[];
}

/** One ACME step, recorded as `event: acme` with the protocol, the account and the order. */
export function acmeEvent(context: RequestContext, decision: AcmeDecision): AuditEvent {
  const { names } = decision;
  return {
    ...recordHead(context, 'acme', decision.requester),
    protocol: 'acme',
    ...(names ? { dns_names: names.dnsNames, ip_addresses: names.ipAddresses } : {}),
    ...(decision.verdicts ? { verdicts: decision.verdicts.map((v) => ({ validator: v.validator, reasons: v.reasons })) } : {}),
    outcome: decision.outcome,
    ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
    acme: {
      action: decision.action,
      account: decision.account,
      ...(decision.order !== undefined ? { order: decision.order } : {}),
      ...(decision.authorization !== undefined ? { authorization: decision.authorization } : {}),
      ...(decision.challenge !== undefined ? { challenge: decision.challenge } : {}),
      ...(decision.serial !== undefined ? { serial: decision.serial } : {}),
    },
  };
}
