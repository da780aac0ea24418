import type { AuditEvent, AuditRecord } from './record';

// The ledger's export formats: JSON lines (the records as kept), CSV (one row a decision), and
// CADF (DMTF DSP0262), the events Anchor and OpenStack emit, as audit.sign and audit.auth.

export type ExportFormat = 'jsonl' | 'csv' | 'cadf';

const CSV_COLUMNS = ['chain', 'seq', 'time', 'event', 'ra', 'user', 'source', 'outcome', 'serial', 'not_after', 'dns_names', 'ip_addresses', 'reasons'] as const;

/**
 * RFC 4180 quoting, and OWASP's CSV injection defence: a spreadsheet runs a cell that starts with
 * = + - @ (or a tab or CR before one) as a formula, so such a field gets a leading ' and is quoted.
 */
function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return text !== value || /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Every reason a record gives: each refusing validator's, then its own. */
export function recordReasons(event: AuditEvent): string[] {
  return [...(event.verdicts ?? []).flatMap((v) => v.reasons.map((reason) => `${v.validator}: ${reason}`)), ...(event.reason !== undefined ? [event.reason] : [])];
}

export const recordUser = (event: AuditEvent): string => event.requester?.user ?? event.claimed_user ?? '';

export function exportHeader(format: ExportFormat): string | undefined {
  return format === 'csv' ? CSV_COLUMNS.join(',') : undefined;
}

export function exportRecord(record: AuditRecord, format: ExportFormat): string {
  const event = JSON.parse(record.body) as AuditEvent;
  switch (format) {
    case 'jsonl':
      return JSON.stringify({ chain: record.chain, seq: record.seq, prev_hash: record.prevHash, hash: record.hash, event });
    case 'csv':
      return [
        record.chain,
        String(record.seq),
        event.time,
        event.event,
        event.ra,
        recordUser(event),
        event.source,
        event.outcome,
        event.certificate?.serial ?? '',
        event.certificate?.not_after ?? '',
        (event.dns_names ?? []).join(' '),
        (event.ip_addresses ?? []).join(' '),
        recordReasons(event).join('; '),
      ]
        .map(csvField)
        .join(',');
    case 'cadf':
      return JSON.stringify(cadfEvent(record, event));
  }
}

function cadfEvent(record: AuditRecord, event: AuditEvent) {
  const reasons = recordReasons(event);
  return {
    typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    eventType: 'activity',
    id: `${record.chain}:${record.seq}`,
    eventTime: event.time,
    name: event.event === 'auth' ? 'audit.auth' : 'audit.sign',
    action: event.event === 'auth' ? 'authenticate' : 'sign',
    // Anchor reported failed signings as successes; here only an issued certificate is a success.
    outcome: event.outcome === 'issued' || event.outcome === 'accepted' ? 'success' : 'failure',
    ...(reasons.length > 0 ? { reason: { reasonType: 'mayfly', reasonCode: event.outcome, policyType: reasons.join('; ') } } : {}),
    initiator: { typeURI: 'service/security/account/user', id: recordUser(event) || 'unknown', name: recordUser(event), host: { address: event.source } },
    target: { typeURI: 'service/security/certificate-authority/registration-authority', id: event.ra, name: event.ra },
    observer: { typeURI: 'service/security', id: 'mayfly', name: 'Mayfly' },
    ...(event.certificate ? { attachments: [{ typeURI: 'application/pkix-cert', name: 'certificate', content: { serial: event.certificate.serial, sha256: event.certificate.sha256 } }] } : {}),
  };
}
