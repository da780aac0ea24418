import { verify, type KeyObject } from 'node:crypto';
import { GENESIS, recordColumns, recordHash, type AuditEvent } from './record';
import { checkpointPayload, walkChain, type AuditReader, type NameIndexDifference, type StoredRecord } from './store';

export interface ChainReport {
  readonly chain: string;
  readonly records: number;
  readonly checkpoints: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly chains: readonly ChainReport[];
  /** The first problem found, naming the record and what is wrong with it. */
  readonly problem?: string;
}

/**
 * Walks every chain: sequence numbers without gaps, each record's hash over its own text, each
 * link to the record before, the query columns against the hashed text, and every checkpoint's
 * signature and head; then the name index against the names the records carry. Stops at the first
 * problem, which names the record and what is wrong.
 */
export async function verifyLedger(store: AuditReader, auditPublicKey: KeyObject): Promise<VerifyReport> {
  const chains: ChainReport[] = [];
  for (const chain of await store.chains()) {
    const heads = new Map<number, string>();
    let expectedSeq = 1;
    let prevHash = GENESIS;
    const fail = (problem: string): VerifyReport => ({ ok: false, chains, problem: `chain ${chain}: ${problem}` });
    for await (const record of walkChain(store, chain)) {
      if (record.seq > expectedSeq) return fail(`record ${expectedSeq}${record.seq - expectedSeq > 1 ? `–${record.seq - 1}` : ''} deleted (the next record is ${record.seq})`);
      if (recordHash(chain, record.seq, record.prevHash, record.body) !== record.hash) {
        const original = originalPosition(chain, record);
        return fail(original === undefined ? `record ${record.seq} edited: its contents no longer match its hash` : `record ${record.seq} reordered: it was written as record ${original}`);
      }
      if (record.prevHash !== prevHash) return fail(`record ${record.seq} out of place: it does not follow record ${record.seq - 1} (reordered, or a record before it was replaced)`);
      const columns = columnsProblem(record.body, record.columns);
      if (columns) return fail(`record ${record.seq} edited: its ${columns} column differs from its hashed contents`);
      heads.set(record.seq, record.hash);
      prevHash = record.hash;
      expectedSeq = record.seq + 1;
    }
    const checkpoints = await store.checkpoints(chain);
    for (const checkpoint of checkpoints) {
      const signed = verify(null, checkpointPayload(checkpoint), auditPublicKey, Buffer.from(checkpoint.signature, 'base64'));
      if (!signed) return fail(`checkpoint at record ${checkpoint.seq}: bad signature (not made with the audit key, or altered)`);
      const head = heads.get(checkpoint.seq);
      if (head === undefined) return fail(`checkpoint at record ${checkpoint.seq}: the record it signed is missing (deleted or truncated)`);
      if (head !== checkpoint.headHash) return fail(`checkpoint at record ${checkpoint.seq}: the chain was rewritten up to here (head hash differs from the signed one)`);
    }
    chains.push({ chain, records: expectedSeq - 1, checkpoints: checkpoints.length });
  }
  // Name searches read the index, not the hashed text: an edited index could hide a record from them.
  const names = await store.nameIndexDifference();
  if (names) return { ok: false, chains, problem: `chain ${names.chain}: ${await nameIndexProblem(store, names)}` };
  return { ok: true, chains };
}

async function nameIndexProblem(store: AuditReader, difference: NameIndexDifference): Promise<string> {
  const { chain, seq, name, time } = difference;
  if (difference.kind === 'missing') return `record ${seq} hidden from name searches: the name index lacks ${name} at ${time}, which the record carries`;
  if (!(await store.record(chain, seq))) return `the name index has an entry (${name} at ${time}) for record ${seq}, which does not exist`;
  return `record ${seq} misfiled in name searches: the name index has an entry for it (${name} at ${time}) that the record does not carry`;
}

/** The sequence number a moved record was written with, searched near where it stands now. */
function originalPosition(chain: string, record: { seq: number; prevHash: string; hash: string; body: string }): number | undefined {
  const SEARCH = 1000;
  for (let seq = Math.max(1, record.seq - SEARCH); seq <= record.seq + SEARCH; seq++) {
    if (seq !== record.seq && recordHash(chain, seq, record.prevHash, record.body) === record.hash) return seq;
  }
  return undefined;
}

/** The first indexed column that differs from what the hashed text says, by its name. */
function columnsProblem(body: string, columns: StoredRecord['columns']): string | undefined {
  let event: AuditEvent;
  try {
    event = JSON.parse(body) as AuditEvent;
  } catch {
    return 'body';
  }
  const carried: StoredRecord['columns'] = recordColumns(event);
  const differs = (Object.keys(columns) as (keyof StoredRecord['columns'])[]).find((key) => JSON.stringify(columns[key]) !== JSON.stringify(carried[key]));
  return differs && COLUMN_NAMES[differs];
}

/** A column as an operator who opens the database sees it. */
const COLUMN_NAMES: Readonly<Record<keyof StoredRecord['columns'], string>> = {
  time: 'time',
  ra: 'ra',
  event: 'event',
  outcome: 'outcome',
  serial: 'serial',
  user: 'user_name',
  source: 'source_key',
  commonName: 'reversed_common_name',
  notAfter: 'not_after',
  refusedBy: 'refusals',
};
