import type { KeyObject } from 'node:crypto';
import { consistencyProof, verifyConsistency } from './merkle';
import { latestCheckpoint } from './published_checkpoints';
import { checkpointOrigin, parseCheckpoints, verifyCheckpoint } from './signed_checkpoint';
import type { AuditReader } from './store';
import { storedSubtrees, TreeIncompleteError } from './tree';

// Witnessing: a checkpoint exported earlier (by `mayfly audit checkpoint` or GET /v1/audit/checkpoint,
// kept somewhere the ledger's writers cannot reach) against today's ledger. Today's must extend it:
// the same chain, still holding that checkpoint, and an RFC 9162 consistency proof from its tree to
// the latest checkpoint's. Deleting, truncating, reordering or rewriting anything it covered breaks one.

export interface WitnessedChain {
  readonly origin: string;
  readonly chain: string;
  /** Records under the exported checkpoint, and under today's latest. */
  readonly exportedSize: number;
  readonly latestSize: number;
}

export type WitnessReport = { readonly ok: true; readonly chains: readonly WitnessedChain[] } | { readonly ok: false; readonly problem: string };

/** Checks every checkpoint in `exported` (one or more signed notes) against the ledger. */
export async function witnessCheckpoints(store: AuditReader, publicKey: KeyObject, exported: string): Promise<WitnessReport> {
  const chainsByOrigin = new Map((await store.chains()).map((chain) => [checkpointOrigin(chain, publicKey), chain]));
  const chains: WitnessedChain[] = [];
  for (const checkpoint of parseCheckpoints(exported)) {
    const fail = (problem: string): WitnessReport => ({ ok: false, problem: `${checkpoint.origin} (${checkpoint.size} records when exported): ${problem}` });
    if (!verifyCheckpoint(checkpoint, publicKey)) return fail('the exported checkpoint is not signed by the audit key (or was altered since)');
    const chain = chainsByOrigin.get(checkpoint.origin);
    if (chain === undefined) return fail('the chain is gone from the ledger (deleted)');
    const stored = (await store.checkpoints(chain)).find((c) => c.seq === checkpoint.size && c.note !== undefined);
    if (!stored || parseCheckpoints(stored.note!)[0].body !== checkpoint.body) return fail('the ledger no longer holds this checkpoint (checkpoints deleted or replaced)');
    const latest = (await latestCheckpoint(store, chain))!;
    const [latestNote] = parseCheckpoints(latest.note);
    if (!verifyCheckpoint(latestNote, publicKey)) return fail(`the ledger's latest checkpoint (at ${latest.seq} records) is not signed by the audit key`);
    let proof;
    try {
      proof = await consistencyProof(checkpoint.size, latestNote.size, storedSubtrees(store, chain));
    } catch (error) {
      if (!(error instanceof TreeIncompleteError)) throw error;
      // Or they are in a journal this reader could not index (a checkpoint is stored before its records are indexed).
      const journal = await store.journalProblem();
      return fail(journal !== undefined ? `the ledger's records cannot all be read: ${journal}` : `today's ledger lacks records the checkpoint covered (${error.message})`);
    }
    if (!verifyConsistency(checkpoint.size, latestNote.size, checkpoint.root, latestNote.root, proof)) {
      return fail(`today's ledger (${latestNote.size} records sealed) is not an extension of the exported checkpoint: records it covered were rewritten, reordered or deleted`);
    }
    chains.push({ origin: checkpoint.origin, chain, exportedSize: checkpoint.size, latestSize: latestNote.size });
  }
  return { ok: true, chains };
}
