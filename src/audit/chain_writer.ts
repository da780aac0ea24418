import { sign, type KeyObject } from 'node:crypto';
import { GENESIS, recordHash, type IndexedRecord } from './record';
import { checkpointPayload, type AuditStore } from './store';
import type { WriterEntry, WriterReply } from './writer_protocol';

/** Where a chain stands: its last record, and whether that is known to be durable. */
interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * One process's hash chain over a store. Appends that arrive while a commit runs are committed
 * together (group commit), and each is acknowledged only once its transaction is durable. The head
 * advances only on a commit that succeeded; after a commit whose outcome is unknown (a connection
 * lost mid-COMMIT), the head is read back from the store before the chain goes on.
 */
export class ChainWriter {
  private head: ChainHead = { seq: 0, hash: GENESIS };
  private headUnknown = true;
  private checkpointedSeq = 0;
  private pending: WriterEntry[] = [];
  private committing?: Promise<void>;

  constructor(
    private readonly store: AuditStore,
    private readonly chain: string,
    private readonly key: KeyObject,
    private readonly checkpointEvery: number,
    private readonly reply: (message: WriterReply) => void,
  ) {}

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
      if (this.head.seq - this.checkpointedSeq >= this.checkpointEvery) await this.checkpoint();
    }
  }

  private async commit(batch: readonly WriterEntry[]): Promise<void> {
    const started = performance.now();
    try {
      if (this.headUnknown) {
        this.head = (await this.store.chainHead(this.chain)) ?? { seq: 0, hash: GENESIS };
        this.headUnknown = false;
      }
      let { seq, hash } = this.head;
      const records: IndexedRecord[] = batch.map(({ body, columns }) => {
        const prevHash = hash;
        seq += 1;
        hash = recordHash(this.chain, seq, prevHash, body);
        return { chain: this.chain, seq, prevHash, hash, body, columns };
      });
      await this.store.appendAll(records);
      this.head = { seq, hash };
      this.reply({ type: 'stored', ids: batch.map((entry) => entry.id), seqs: records.map((record) => record.seq), commitSeconds: (performance.now() - started) / 1000 });
    } catch (error) {
      // Tell each waiting request its record was not kept; whether the store kept it after all is
      // read back before the next batch, so the chain never forks or repeats a sequence number.
      this.headUnknown = true;
      this.reply({ type: 'rejected', ids: batch.map((entry) => entry.id), message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Signs {chain, seq, head hash, time} of the last durable record with the audit key and stores it. */
  async checkpoint(): Promise<void> {
    const { seq, hash } = this.head;
    if (seq === 0 || seq === this.checkpointedSeq || this.headUnknown) return;
    const unsigned = { chain: this.chain, seq, headHash: hash, time: new Date().toISOString() };
    try {
      await this.store.addCheckpoint({ ...unsigned, signature: sign(null, checkpointPayload(unsigned), this.key).toString('base64') });
      this.checkpointedSeq = seq;
    } catch {
      // The next checkpoint covers these records too.
    }
  }

  /** Commits what is pending, writes a final checkpoint, and closes the store. */
  async close(): Promise<void> {
    while (this.committing) await this.committing;
    await this.checkpoint();
    await this.store.close();
  }
}
