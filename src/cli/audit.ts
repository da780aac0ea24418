import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readAuditPublicKey } from '../audit/audit_key';
import { exportHeader, exportRecord, recordReasons, recordUser, type ExportFormat } from '../audit/export';
import type { AuditEvent, AuditRecord } from '../audit/record';
import type { AuditQuery, AuditReader } from '../audit/store';
import { publishedCheckpoints } from '../audit/published_checkpoints';
import { proveRecord, UnsealedRecordError, verifyRecordProof } from '../audit/record_proof';
import { CheckpointFormatError } from '../audit/signed_checkpoint';
import { recordVerifyResult, verifyResultFile, type VerifyResult } from '../audit/verify_result';
import { verifyLedger } from '../audit/verify';
import { witnessCheckpoints } from '../audit/witness';
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

/**
 * `mayfly audit verify [--checkpoint FILE]`: true when every chain and checkpoint holds and, given an
 * exported checkpoint, today's ledger extends it. Records under no checkpoint yet are reported.
 */
export async function auditVerify(configFile: string, print: (line: string) => void, exportedCheckpointFile?: string): Promise<boolean> {
  const exported = exportedCheckpointFile === undefined ? undefined : await readFile(exportedCheckpointFile, 'utf8');
  const { store, keyFile } = await openStore(configFile);
  let result: Omit<VerifyResult, 'time'>;
  try {
    result = await verifyAndReport(store, keyFile, print, exported === undefined ? undefined : { text: exported, file: exportedCheckpointFile! });
  } finally {
    await store.close();
  }
  // For the console's overview ("last verify"); a check that cannot leave its result still stands.
  const unrecorded = await recordVerifyResult(verifyResultFile(keyFile), { time: new Date().toISOString(), ...result });
  if (unrecorded !== undefined) print(`(not recorded for the console: ${unrecorded})`);
  return result.ok;
}

/** Checks the ledger (and an exported checkpoint), printing what it finds. */
async function verifyAndReport(store: AuditReader, keyFile: string, print: (line: string) => void, exported: { text: string; file: string } | undefined): Promise<Omit<VerifyResult, 'time'>> {
  const publicKey = await readAuditPublicKey(auditPublicKeyFile(keyFile), keyFile);
  const report = await verifyLedger(store, publicKey);
  const outcome = (problem?: string) => ({ ok: problem === undefined, ...(problem === undefined ? {} : { problem }), chains: report.chains.length, unsealed: report.chains.reduce((sum, chain) => sum + chain.unsealed, 0), witnessed: exported !== undefined });
  for (const chain of report.chains) print(`chain ${chain.chain}: ${chain.records} record(s), ${chain.checkpoints} checkpoint(s), intact`);
  if (!report.ok) {
    print(`TAMPERED: ${report.problem}`);
    return outcome(report.problem);
  }
  if (exported !== undefined) {
    let witnessed;
    try {
      witnessed = await witnessCheckpoints(store, publicKey, exported.text);
    } catch (error) {
      if (!(error instanceof CheckpointFormatError)) throw error;
      print(`the file ${exported.file} is not a signed checkpoint: ${error.message}`);
      return outcome(`${exported.file} is not a signed checkpoint`);
    }
    if (!witnessed.ok) {
      print(`TAMPERED: ${witnessed.problem}`);
      return outcome(witnessed.problem);
    }
    for (const chain of witnessed.chains) print(`consistent: ${chain.origin}: ${chain.exportedSize} record(s) when exported, extended to ${chain.latestSize}`);
  }
  print(`OK: ${report.chains.length} chain(s) verified${exported !== undefined ? ', consistent with the exported checkpoint(s)' : ''}`);
  // Not proof of tampering (a running writer's newest records wait for its next checkpoint), but not provable yet either.
  for (const chain of report.chains.filter((c) => c.unsealed > 0)) {
    print(`UNSEALED: chain ${chain.chain}: record(s) ${chain.records - chain.unsealed + 1}–${chain.records} are under no checkpoint yet (written since the last, or never sealed)`);
  }
  return outcome();
}

/** `mayfly audit checkpoint`: the latest signed checkpoint of every chain, to publish elsewhere. */
export async function auditCheckpoint(configFile: string, write: (text: string) => void): Promise<boolean> {
  const { store } = await openStore(configFile);
  try {
    const text = await publishedCheckpoints(store);
    if (text !== '') write(text);
    return text !== '';
  } finally {
    await store.close();
  }
}

/** `mayfly audit prove --serial S` (S as normalizeSerial gives it): the record's inclusion proof, as GET /v1/audit/proof/<serial> answers. */
export async function auditProve(configFile: string, serial: string, print: (line: string) => void): Promise<boolean> {
  const { store, keyFile } = await openStore(configFile);
  try {
    const proof = await proveRecord(store, await readAuditPublicKey(auditPublicKeyFile(keyFile), keyFile), serial);
    if (!proof) print(`no certificate with serial ${serial} in the ledger`);
    else print(JSON.stringify(proof, null, 2));
    return proof !== undefined;
  } catch (error) {
    if (!(error instanceof UnsealedRecordError)) throw error;
    print(`UNSEALED: ${error.message}`);
    return false;
  } finally {
    await store.close();
  }
}

/** An Ed25519 public key file: PEM (audit.pub), or the base64 of the raw 32 bytes (a proof's public_key). */
async function readPublicKeyFile(file: string): Promise<KeyObject> {
  const text = (await readFile(file, 'utf8')).trim();
  if (text.includes('-----BEGIN')) return createPublicKey(text);
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new Error(`${file} is neither a PEM public key nor the base64 of a 32-byte Ed25519 key`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** `mayfly audit verify-proof`: one record's proof checked offline, with files only. */
export async function auditVerifyProof(files: { proof: string; checkpoint: string; publicKey: string }, print: (line: string) => void): Promise<boolean> {
  let proof: unknown;
  try {
    proof = JSON.parse(await readFile(files.proof, 'utf8'));
  } catch {
    print(`NOT PROVEN: ${files.proof} is not JSON`);
    return false;
  }
  const verdict = verifyRecordProof(proof, await readFile(files.checkpoint, 'utf8'), await readPublicKeyFile(files.publicKey));
  if (!verdict.ok) {
    print(`NOT PROVEN: ${verdict.problem}`);
    return false;
  }
  print(`PROVEN: the record of certificate ${verdict.event.certificate!.serial} (${verdict.event.outcome} at ${verdict.event.time}, RA ${verdict.event.ra}) is in ${verdict.origin}, under its signed checkpoint of ${verdict.treeSize} record(s)`);
  return true;
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
