import { X509Certificate } from 'node:crypto';
import { readAuditPublicKey } from '../audit/audit_key';
import { exportHeader, exportRecord, recordReasons, recordUser, type ExportFormat } from '../audit/export';
import type { AuditEvent, AuditRecord } from '../audit/record';
import type { AuditQuery, AuditReader } from '../audit/store';
import { verifyLedger } from '../audit/verify';
import { auditPublicKeyFile, openAuditReader } from '../config/ledger';
import { configPath, loadConfig } from '../config/load';

/** The ledger of a config, opened for reading: the CLI never writes it. */
async function openStore(configFile: string): Promise<{ store: AuditReader; keyFile: string }> {
  const config = await loadConfig(configFile);
  return { store: await openAuditReader(config, { offThread: false }), keyFile: configPath(config, config.document.audit.key) };
}

const parse = (record: AuditRecord): AuditEvent => JSON.parse(record.body) as AuditEvent;

/**
 * A ledger field made safe for a terminal: the ledger keeps what requesters sent (a user name, a
 * DNS name in a reason), and a control character or escape sequence printed raw would drive the
 * reader's terminal; a bidi override would reorder what they read. Each is shown as \xNN or \uNNNN,
 * and a backslash doubled, so the text stays unambiguous.
 */
const terminalSafe = (text: string): string =>
  text.replace(/[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });

/** `mayfly audit list`: a readable table, or JSON. */
export async function auditList(configFile: string, query: AuditQuery, json: boolean, print: (line: string) => void): Promise<void> {
  const { store } = await openStore(configFile);
  try {
    const records = await store.query(query);
    if (json) {
      print(JSON.stringify(records.map((record) => ({ chain: record.chain, seq: record.seq, hash: record.hash, event: parse(record) })), null, 2));
      return;
    }
    print(['TIME', 'RA', 'USER', 'OUTCOME', 'SERIAL', 'NAMES / REASONS'].join('\t'));
    for (const record of records) {
      const event = parse(record);
      const names = [...(event.dns_names ?? []), ...(event.ip_addresses ?? [])].join(' ');
      const detail = event.outcome === 'issued' || event.outcome === 'accepted' ? names : `${names}${names ? ' — ' : ''}${recordReasons(event).join('; ')}`;
      // An ACME step names itself, its account and its order, so a certificate's history reads in order.
      const step = event.acme ? `acme ${event.acme.action} account=${event.acme.account}${event.acme.order ? ` order=${event.acme.order}` : ''}: ` : '';
      print([event.time, event.ra, recordUser(event) || '-', event.outcome, event.certificate?.serial ?? event.acme?.serial ?? '-', `${step}${detail}`].map(terminalSafe).join('\t'));
    }
    print(`${records.length} record(s)`);
  } finally {
    await store.close();
  }
}

/** `mayfly audit show <serial | seq | chain:seq>`: the whole record, and the certificate decoded. */
export async function auditShow(configFile: string, which: string, print: (line: string) => void): Promise<boolean> {
  const { store } = await openStore(configFile);
  try {
    const position = /^(?:(.+):)?(\d+)$/.exec(which);
    const records = position
      ? (await Promise.all((await store.chains()).filter((chain) => position[1] === undefined || chain === position[1]).map((chain) => store.record(chain, Number(position[2]))))).flatMap((record) => record ?? [])
      : await store.query({ serial: which });
    for (const record of records) {
      const event = parse(record);
      print(`record ${record.chain}:${record.seq}  hash ${record.hash}`);
      print(JSON.stringify({ ...event, certificate: event.certificate ? { ...event.certificate, der: `(${Buffer.from(event.certificate.der, 'base64').length} bytes)` } : undefined }, null, 2));
      if (event.certificate) {
        const certificate = new X509Certificate(Buffer.from(event.certificate.der, 'base64'));
        print('certificate:');
        print(`  subject:   ${certificate.subject.replace(/\n/g, ', ')}`);
        print(`  issuer:    ${certificate.issuer.replace(/\n/g, ', ')}`);
        print(`  serial:    ${certificate.serialNumber.toLowerCase()}`);
        print(`  validity:  ${certificate.validFrom} — ${certificate.validTo}`);
        print(`  SAN:       ${certificate.subjectAltName ?? '(none)'}`);
        print(`  SHA-256:   ${certificate.fingerprint256}`);
        print(certificate.toString().trimEnd());
      }
    }
    if (records.length === 0) print(`no record matches ${which}`);
    return records.length > 0;
  } finally {
    await store.close();
  }
}

/** `mayfly audit verify`: true when every chain and checkpoint holds. */
export async function auditVerify(configFile: string, print: (line: string) => void): Promise<boolean> {
  const { store, keyFile } = await openStore(configFile);
  try {
    const report = await verifyLedger(store, await readAuditPublicKey(auditPublicKeyFile(keyFile), keyFile));
    for (const chain of report.chains) print(`chain ${chain.chain}: ${chain.records} record(s), ${chain.checkpoints} checkpoint(s), intact`);
    if (!report.ok) print(`TAMPERED: ${report.problem}`);
    else print(`OK: ${report.chains.length} chain(s) verified`);
    return report.ok;
  } finally {
    await store.close();
  }
}

/** `mayfly audit export`: every record matching the filters, oldest first. */
export async function auditExport(configFile: string, format: ExportFormat, query: AuditQuery, write: (line: string) => void): Promise<void> {
  const { store } = await openStore(configFile);
  try {
    const header = exportHeader(format);
    if (header) write(header);
    for (const record of await store.query(query)) write(exportRecord(record, format));
  } finally {
    await store.close();
  }
}
