import { createPublicKey, type KeyObject } from 'node:crypto';
import { chainOwnerGone } from './chain_owner';
import { Frontier, leafHash } from './merkle';
import { GENESIS, recordHash, type IndexedRecord } from './record';
import { checkpointOrigin, isFinal, parseCheckpoint, signCheckpoint } from './signed_checkpoint';
import type { AuditStore, TreeNode } from './store';
import { appendLeaf, storedSubtrees } from './tree';
import type { WriterEntry, WriterReply } from './writer_protocol';

/** Where a chain stands: its last record, and whether that is known to be durable. */
interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * One process's hash chain and Merkle tree over a store. Appends that arrive while a commit runs are
 * committed together (group commit), and each is acknowledged only once its transaction is durable.
 * The head advances only on a commit that succeeded; after a commit whose outcome is unknown (a
 * connection lost mid-COMMIT), the head and the tree's frontier are read back from the store before
 * the chain goes on. Each record costs a leaf hash and, on average, one node hash; checkpoints are
 * signed every `checkpointEvery` records and on a timer, never per request.
 */
export class ChainWriter {
  private head: ChainHead = { seq: 0, hash: GENESIS };
  private frontier = Frontier.empty();
  private headUnknown = true;
  private checkpointedSeq = 0;
  private pending: WriterEntry[] = [];
  private committing?: Promise<void>;
  /** The checkpoints being stored, one after another, beside the commits. */
  private checkpoints: Promise<void> = Promise.resolve();
  private readonly publicKey: KeyObject;
  private readonly origin: string;

  constructor(
    private readonly store: AuditStore,
    private readonly chain: string,
    private readonly key: KeyObject,
    private readonly checkpointEvery: number,
    private readonly reply: (message: WriterReply) => void,
  ) {
    this.publicKey = createPublicKey(key);
    this.origin = checkpointOrigin(chain, this.publicKey);
  }

  append(entries: readonly WriterEntry[]): void {
    for (const entry of entries) this.pending.push(entry);
    this.committing ??= this.commitPending().finally(() => (this.committing = undefined));
  }

  /** Commits everything pending, batch after batch, until nothing is left. */
  private async commitPending(): Promise<void> {
    // Let the rest of this turn's messages join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.commit(batch);
      // Not awaited: a checkpoint waits for the indexer thread, and the commits go on meanwhile.
      if (this.head.seq - this.checkpointedSeq >= this.checkpointEvery) void this.checkpoint();
    }
  }

  private async commit(batch: readonly WriterEntry[]): Promise<void> {
    const started = performance.now();
    try {
      if (this.headUnknown) {
        this.head = (await this.store.chainHead(this.chain)) ?? { seq: 0, hash: GENESIS };
        this.frontier = await Frontier.of(this.head.seq, storedSubtrees(this.store, this.chain));
        this.headUnknown = false;
      }
      let { seq, hash } = this.head;
      const frontier = this.frontier.clone();
      const nodes: TreeNode[] = [];
      const records: IndexedRecord[] = batch.map(({ body, columns }) => {
        const prevHash = hash;
        seq += 1;
        hash = recordHash(this.chain, seq, prevHash, body);
        const leaf = leafHash(body);
        appendLeaf(frontier, this.chain, leaf, nodes);
        return { chain: this.chain, seq, prevHash, hash, body, leafHash: leaf.toString('hex'), columns };
      });
      await this.store.appendAll(records, nodes);
      this.head = { seq, hash };
      this.frontier = frontier;
      this.reply({ type: 'stored', ids: batch.map((entry) => entry.id), seqs: records.map((record) => record.seq), commitSeconds: (performance.now() - started) / 1000 });
    } catch (error) {
      // Tell each waiting request its record was not kept; whether the store kept it after all is
      // read back before the next batch, so the chain never forks or repeats a sequence number.
      this.headUnknown = true;
      this.reply({ type: 'rejected', ids: batch.map((entry) => entry.id), message: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Signs the tree of the durable records as a C2SP checkpoint, and stores it after the checkpoints
   * queued before it (the commits go on meanwhile); `final` closes the chain. A checkpoint that could
   * not be stored is made again at the next chance.
   */
  checkpoint(final = false): Promise<void> {
    const { seq, hash } = this.head;
    const before = this.checkpointedSeq;
    if (seq === 0 || (seq === before && !final) || this.headUnknown) return this.checkpoints;
    const note = signCheckpoint({ origin: this.origin, size: seq, root: this.frontier.root() }, this.key, final);
    this.checkpointedSeq = seq;
    this.checkpoints = this.checkpoints.then(async () => {
      try {
        // The records it signs are durable, so readers can prove them: a journal's, not yet indexed,
        // are indexed by every reader before it reads (journaled_store.ts).
        await this.store.addCheckpoint(checkpointRow(this.chain, seq, hash, note));
      } catch {
        if (this.checkpointedSeq === seq) this.checkpointedSeq = before;
      }
    });
    return this.checkpoints;
  }

  /**
   * Seals the chains of processes on this host that died without sealing theirs (killed, or a power
   * cut): a final checkpoint of what they made durable, so deleting it later is provable. Only a
   * dead process's chain, and only once: a chain already closed is never extended by anyone.
   */
  async sealDeadChains(): Promise<void> {
    // What their journals hold first: they acknowledged those records. A chain whose journal is
    // damaged stays open: sealed, the records after the damage could never be added back.
    const unreadable = await this.store.index('every journal');
    for (const chain of await this.store.chains()) {
      if (chain === this.chain || !chainOwnerGone(chain) || unreadable.includes(chain)) continue;
      const checkpoints = await this.store.checkpoints(chain);
      if (checkpoints.some((c) => c.note !== undefined && isFinal(parseCheckpoint(c.note), this.publicKey))) continue;
      const head = await this.store.chainHead(chain);
      if (!head) continue;
      const frontier = await Frontier.of(head.seq, storedSubtrees(this.store, chain));
      const note = signCheckpoint({ origin: checkpointOrigin(chain, this.publicKey), size: head.seq, root: frontier.root() }, this.key, true);
      await this.store.addCheckpoint(checkpointRow(chain, head.seq, head.hash, note));
    }
  }

  /** Commits what is pending, writes the final checkpoint, and closes the store. */
  async close(): Promise<void> {
    while (this.committing) await this.committing;
    await this.checkpoint(true);
    await this.store.close();
  }
}

function checkpointRow(chain: string, seq: number, headHash: string, note: string) {
  return { chain, seq, headHash, time: new Date().toISOString(), signature: parseCheckpoint(note).signatures[0].signature.toString('base64'), note };
}

