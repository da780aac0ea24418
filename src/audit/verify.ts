import { verify, type KeyObject } from 'node:crypto';
import { Frontier, leafHash } from './merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent } from './record';
import { checkpointOrigin, CheckpointFormatError, isFinal, parseCheckpoint, verifyCheckpoint } from './signed_checkpoint';
import { checkpointPayload, walkChain, type AuditReader, type Checkpoint, type NameIndexDifference, type StoredRecord, type TreeNode } from './store';
import { appendLeaf } from './tree';

export interface ChainReport {
  readonly chain: string;
  readonly origin: string;
  readonly records: number;
  readonly checkpoints: number;
  /** Records after the chain's last checkpoint: under no signature yet (a live writer's newest, or never sealed). */
  readonly unsealed: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly chains: readonly ChainReport[];
  /** The first problem found, naming the record and what is wrong with it. */
  readonly problem?: string;
}

/**
 * Walks every chain: sequence numbers without gaps, each record's hash over its own text, each
 * link to the record before, the query columns against the hashed text, the leaf hash and the
 * stored subtrees of the Merkle tree against the records, and every checkpoint's signature and the
 * root (or, for a checkpoint from before the tree, the chain head) it signed; no record may follow
 * a chain's final checkpoint. Then the name index against the names the records carry. Stops at the
 * first problem, which names the record and what is wrong.
 */
export async function verifyLedger(store: AuditReader, auditPublicKey: KeyObject): Promise<VerifyReport> {
  const chains: ChainReport[] = [];
  for (const chain of await store.chains()) {
    const origin = checkpointOrigin(chain, auditPublicKey);
    const checkpoints = await store.checkpoints(chain);
    const bySeq = new Map(checkpoints.map((checkpoint) => [checkpoint.seq, checkpoint]));
    const frontier = Frontier.empty();
    let nodes: TreeNode[] = [];
    let expectedSeq = 1;
    let prevHash = GENESIS;
    let closedAt: number | undefined;
    const fail = (problem: string): VerifyReport => ({ ok: false, chains, problem: `chain ${chain}: ${problem}` });
    for await (const record of walkChain(store, chain)) {
      if (record.seq > expectedSeq) return fail(`record ${expectedSeq}${record.seq - expectedSeq > 1 ? `–${record.seq - 1}` : ''} deleted (the next record is ${record.seq})`);
      if (closedAt !== undefined) return fail(`record ${record.seq} appended after the chain was closed (its final checkpoint is at record ${closedAt}): forged`);
      if (recordHash(chain, record.seq, record.prevHash, record.body) !== record.hash) {
        const original = originalPosition(chain, record);
        return fail(original === undefined ? `record ${record.seq} edited: its contents no longer match its hash` : `record ${record.seq} reordered: it was written as record ${original}`);
      }
      if (record.prevHash !== prevHash) return fail(`record ${record.seq} out of place: it does not follow record ${record.seq - 1} (reordered, or a record before it was replaced)`);
      const columns = columnsProblem(record.body, record.columns);
      if (columns) return fail(`record ${record.seq} edited: its ${columns} column differs from its hashed contents`);
      const leaf = leafHash(record.body);
      if (record.leafHash !== leaf.toString('hex')) return fail(`record ${record.seq} edited: its leaf hash differs from its contents`);
      appendLeaf(frontier, chain, leaf, nodes);
      const checkpoint = bySeq.get(record.seq);
      if (checkpoint) {
        const problem = checkpointProblem(checkpoint, origin, frontier, record.hash, auditPublicKey);
        if (problem) return fail(`checkpoint at record ${checkpoint.seq}: ${problem}`);
        if (checkpoint.note !== undefined && isFinal(parseCheckpoint(checkpoint.note), auditPublicKey)) closedAt = record.seq;
      }
      prevHash = record.hash;
      expectedSeq = record.seq + 1;
      if (nodes.length >= 64) {
        const problem = await storedTreeProblem(store, chain, nodes);
        if (problem) return fail(problem);
        nodes = [];
      }
    }
    const problem = await storedTreeProblem(store, chain, nodes);
    if (problem) return fail(problem);
    const records = expectedSeq - 1;
    const missing = checkpoints.find((checkpoint) => checkpoint.seq > records);
    if (missing) {
      // A checkpoint is stored before the records it signs are indexed: they may be in a journal this reader could not index.
      const journal = await store.journalProblem();
      return journal !== undefined ? { ok: false, chains, problem: journal } : fail(`checkpoint at record ${missing.seq}: the record it signed is missing (deleted or truncated)`);
    }
    const sealed = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].seq : 0;
    chains.push({ chain, origin, records, checkpoints: checkpoints.length, unsealed: records - sealed });
  }
  // Records written to a journal and not yet in the store: each whole, and following its chain.
  const journal = await store.journalProblem();
  if (journal) return { ok: false, chains, problem: journal };
  // Name searches read the index, not the hashed text: an edited index could hide a record from them.
  const names = await store.nameIndexDifference();
  if (names) return { ok: false, chains, problem: `chain ${names.chain}: ${await nameIndexProblem(store, names)}` };
  // The console's overview reads these counts, not the records: edited counts would misstate a week.
  const hours = await store.hourRollupDifference();
  if (hours) return { ok: false, chains, problem: `the overview's hourly counts (${hours.table}) disagree with the records in the hour from ${hours.hour}` };
  return { ok: true, chains };
}

/** What is wrong with a checkpoint of the chain whose tree (and head) the walk has reached. */
function checkpointProblem(checkpoint: Checkpoint, origin: string, frontier: Frontier, head: string, publicKey: KeyObject): string | undefined {
  if (checkpoint.note === undefined) {
    // A checkpoint from before the tree: it signed the hash chain's head.
    if (!verify(null, checkpointPayload(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'))) return 'bad signature (not made with the audit key, or altered)';
    return head === checkpoint.headHash ? undefined : 'the chain was rewritten up to here (head hash differs from the signed one)';
  }
  let signed;
  try {
    signed = parseCheckpoint(checkpoint.note);
  } catch (error) {
    if (error instanceof CheckpointFormatError) return `not a signed checkpoint (${error.message})`;
    throw error;
  }
  if (!verifyCheckpoint(signed, publicKey)) return 'bad signature (not made with the audit key, or altered)';
  if (signed.origin !== origin || signed.size !== checkpoint.seq) return `it signs another tree (${signed.origin} at ${signed.size} records), moved here`;
  return signed.root.equals(frontier.root()) ? undefined : 'the chain was rewritten up to here (root hash differs from the signed one)';
}

/** Proofs are built from the stored subtrees: each must be the one the records make. */
async function storedTreeProblem(store: AuditReader, chain: string, nodes: readonly TreeNode[]): Promise<string | undefined> {
  const stored = await store.treeNodes(chain, nodes);
  const wrong = nodes.find((node, i) => stored[i] !== node.hash);
  if (!wrong) return undefined;
  const width = 2 ** wrong.level;
  return `the stored tree's subtree of records ${wrong.index * width + 1}–${(wrong.index + 1) * width} ${stored[nodes.indexOf(wrong)] === undefined ? 'is missing' : 'differs from the records (altered)'}`;
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
