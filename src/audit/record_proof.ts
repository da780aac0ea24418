import type { KeyObject } from 'node:crypto';
import { inclusionProof, leafHash, verifyInclusion } from './merkle';
import type { AuditEvent } from './record';
import { CheckpointFormatError, parseCheckpoints, rawPublicKey, verifyCheckpoint } from './signed_checkpoint';
import { latestCheckpoint } from './published_checkpoints';
import type { AuditReader } from './store';
import { storedSubtrees, TreeIncompleteError } from './tree';

// A certificate's record, proven: the record's exact text (the leaf), its RFC 9162 inclusion proof,
// and the signed checkpoint the proof leads to. Whoever holds the audit public key checks it with
// nothing else: no database, no Mayfly (verifyRecordProof).

/** GET /v1/audit/proof/<serial> and `mayfly audit prove`: the JSON shape of docs and contracts. */
export interface RecordProof {
  readonly serial: string;
  readonly origin: string;
  readonly leaf_index: number;
  readonly tree_size: number;
  /** Base64 of the record's body text (UTF-8): the leaf whose hash is in the tree. */
  readonly leaf: string;
  readonly inclusion_proof: readonly string[];
  readonly checkpoint: string;
  /** Base64 of the raw 32-byte Ed25519 audit public key. */
  readonly public_key: string;
  readonly key_name: string;
}

/** The record exists but no checkpoint covers it yet: its proof can be had once the chain is sealed. */
export class UnsealedRecordError extends Error {
  override readonly name = 'UnsealedRecordError';
}

/**
 * The proof of the record that issued the certificate with this serial (lowercase hex), against its
 * chain's latest checkpoint; undefined when no certificate has that serial.
 */
export async function proveRecord(reader: AuditReader, publicKey: KeyObject, serial: string): Promise<RecordProof | undefined> {
  const [record] = await reader.query({ serial, outcome: 'issued', limit: 1 });
  if (!record) return undefined;
  const checkpoint = await latestCheckpoint(reader, record.chain);
  if (!checkpoint || checkpoint.seq < record.seq) {
    throw new UnsealedRecordError(`the record of ${serial} (record ${record.seq} of chain ${record.chain}) is not under a checkpoint yet; its writer signs one every few records, on a timer, and when it stops`);
  }
  const [note] = parseCheckpoints(checkpoint.note);
  let proof;
  try {
    proof = await inclusionProof(record.seq - 1, checkpoint.seq, storedSubtrees(reader, record.chain));
  } catch (error) {
    // A checkpoint is stored before the records it signs are indexed: they may be in a journal this reader could not index.
    const journal = error instanceof TreeIncompleteError ? await reader.journalProblem() : undefined;
    if (journal !== undefined) throw new UnsealedRecordError(`the record of ${serial} cannot be proven against its chain's latest checkpoint: ${journal}`);
    throw error;
  }
  return {
    serial,
    origin: note.origin,
    leaf_index: record.seq - 1,
    tree_size: checkpoint.seq,
    leaf: Buffer.from(record.body, 'utf8').toString('base64'),
    inclusion_proof: proof.map((hash) => hash.toString('base64')),
    checkpoint: checkpoint.note,
    public_key: rawPublicKey(publicKey).toString('base64'),
    key_name: note.origin,
  };
}

export type ProofVerdict = { readonly ok: true; readonly event: AuditEvent; readonly origin: string; readonly treeSize: number } | { readonly ok: false; readonly problem: string };

/**
 * Checks a record's proof against a checkpoint the verifier trusts (one it fetched or was given
 * earlier, of the same tree size), signed with the audit public key: no database involved.
 */
export function verifyRecordProof(proof: unknown, trustedCheckpoints: string, publicKey: KeyObject): ProofVerdict {
  const fail = (problem: string): ProofVerdict => ({ ok: false, problem });
  const p = proof as Partial<Record<keyof RecordProof, unknown>>;
  if (typeof p !== 'object' || p === null || typeof p.origin !== 'string' || typeof p.serial !== 'string' || typeof p.leaf !== 'string' || !Number.isSafeInteger(p.leaf_index) || !Number.isSafeInteger(p.tree_size) || !Array.isArray(p.inclusion_proof) || !p.inclusion_proof.every((h) => typeof h === 'string')) {
    return fail('not a record proof (serial, origin, leaf_index, tree_size, leaf and inclusion_proof are needed)');
  }
  let checkpoints;
  try {
    checkpoints = parseCheckpoints(trustedCheckpoints);
  } catch (error) {
    if (error instanceof CheckpointFormatError) return fail(`the checkpoint file is not a signed checkpoint: ${error.message}`);
    throw error;
  }
  const checkpoint = checkpoints.find((c) => c.origin === p.origin);
  if (!checkpoint) return fail(`the checkpoint file has no checkpoint of ${p.origin}`);
  if (!verifyCheckpoint(checkpoint, publicKey)) return fail(`the checkpoint of ${p.origin} is not signed by this audit key`);
  if (checkpoint.size !== p.tree_size) return fail(`the proof is for the tree of ${p.tree_size as number} records, the checkpoint for ${checkpoint.size}: fetch the proof again against this checkpoint`);
  const leaf = Buffer.from(p.leaf, 'base64');
  const hashes = (p.inclusion_proof as string[]).map((hash) => Buffer.from(hash, 'base64'));
  if (!verifyInclusion(p.leaf_index as number, checkpoint.size, leafHash(leaf), hashes, checkpoint.root)) return fail(`the record is not leaf ${p.leaf_index as number} of the tree the checkpoint signs (the record, its index or the proof was altered)`);
  let event: AuditEvent;
  try {
    event = JSON.parse(leaf.toString('utf8')) as AuditEvent;
  } catch {
    return fail('the leaf is not a ledger record');
  }
  if (event.certificate?.serial !== p.serial) return fail(`the proven record is not that of certificate ${p.serial}`);
  return { ok: true, event, origin: checkpoint.origin, treeSize: checkpoint.size };
}
