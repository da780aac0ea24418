// How fast the ledger proves: builds one chain of 1,000,000 records (as the writer stores them: leaf
// hashes and subtrees of 256 leaves and up), then times inclusion proofs of random records and
// consistency proofs between random tree sizes, each read from the store and verified; and what the
// tree costs the writer per record. Usage: npm run bench:proof [-- --records N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { consistencyProof, Frontier, inclusionProof, leafHash, treeRoot, verifyConsistency, verifyInclusion } from '../src/audit/merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from '../src/audit/record';
import { SqliteAuditStore } from '../src/audit/sqlite_store';
import type { TreeNode } from '../src/audit/store';
import { appendLeaf, storedSubtrees } from '../src/audit/tree';

const records = Number(process.argv[process.argv.indexOf('--records') + 1]) || 1_000_000;
const CHAIN = 'bench';

const event = (i: number): AuditEvent => ({ v: 1, time: new Date(Date.UTC(2026, 9, 1) + i * 1000).toISOString(), event: 'auth', ra: 'default', requester: null, claimed_user: `user-${i}`, source: '10.0.0.1', outcome: 'refused' });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-proof-bench-'));
  try {
    const store = new SqliteAuditStore(join(dir, 'audit.db'));
    const frontier = Frontier.empty();
    let head = GENESIS;
    let treeMs = 0;
    const built = performance.now();
    for (let first = 1; first <= records; first += 20_000) {
      const batch: IndexedRecord[] = [];
      const nodes: TreeNode[] = [];
      for (let seq = first; seq < Math.min(first + 20_000, records + 1); seq++) {
        const body = JSON.stringify(event(seq));
        const hash = recordHash(CHAIN, seq, head, body);
        const t = performance.now();
        const leaf = leafHash(body);
        appendLeaf(frontier, CHAIN, leaf, nodes);
        treeMs += performance.now() - t;
        batch.push({ chain: CHAIN, seq, prevHash: head, hash, body, leafHash: leaf.toString('hex'), columns: recordColumns(event(seq)) });
        head = hash;
      }
      await store.appendAll(batch, nodes);
    }
    const buildSeconds = (performance.now() - built) / 1000;
    const subtrees = storedSubtrees(store, CHAIN);
    const t0 = performance.now();
    const root = await treeRoot(records, subtrees);
    const rootMs = performance.now() - t0;
    if (!root.equals(frontier.root())) throw new Error('the stored tree and the frontier disagree');
    const inclusion: number[] = [];
    const consistency: number[] = [];
    for (let run = 0; run < 50; run++) {
      const index = Math.floor(Math.random() * records);
      let t = performance.now();
      const proof = await inclusionProof(index, records, subtrees);
      if (!verifyInclusion(index, records, leafHash(JSON.stringify(event(index + 1))), proof, root)) throw new Error(`the proof of leaf ${index} does not verify`);
      inclusion.push(performance.now() - t);
      const first = 1 + Math.floor(Math.random() * (records - 1));
      t = performance.now();
      const firstRoot = await treeRoot(first, subtrees);
      const steps = await consistencyProof(first, records, subtrees);
      if (!verifyConsistency(first, records, firstRoot, root, steps)) throw new Error(`the consistency proof ${first} → ${records} does not verify`);
      consistency.push(performance.now() - t);
    }
    await store.close();
    const stat = (values: number[]) => `median ${values.sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(2)} ms, max ${Math.max(...values).toFixed(2)} ms`;
    console.log(`# Ledger proofs over one chain of ${records.toLocaleString('en')} records (SQLite)`);
    console.log(`built in ${buildSeconds.toFixed(1)} s; the tree's share of the writer's work: ${((treeMs * 1000) / records).toFixed(2)} µs a record`);
    console.log(`root from the store: ${rootMs.toFixed(2)} ms`);
    console.log(`inclusion proof, read and verified (50 random records): ${stat(inclusion)}`);
    console.log(`consistency proof with the old root, read and verified (50 random sizes): ${stat(consistency)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
