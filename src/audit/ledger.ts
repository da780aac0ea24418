import { createPublicKey } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { newChainId } from './chain_owner';
import type { StoreLocation } from './open_store';
import { recordColumns, type AuditEvent } from './record';
import { checkpointOrigin } from './signed_checkpoint';
import { workerScript } from './worker_script';
import type { WriterEntry, WriterOptions, WriterReply } from './writer_protocol';

/** The record of a decision could not be made durable; the decision must not take effect. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

/** Called after each commit: how many records it held and how long it took. */
export type CommitListener = (records: number, seconds: number) => void;

/** Where a record went: its chain, the chain's checkpoint origin, and its leaf index there (its sequence number − 1). */
export interface RecordPosition {
  readonly chain: string;
  readonly origin: string;
  readonly leafIndex: number;
}

/** Where decisions are recorded. `append` resolves once the record is durable, with its place (none when disabled). */
export interface Ledger {
  append(event: AuditEvent): Promise<RecordPosition | undefined>;
  /** Why the ledger cannot record now (for /readyz), or undefined when it can. */
  problem(): Promise<string | undefined>;
  onCommit(listener: CommitListener): void;
  close(): Promise<void>;
}

/** For `audit.enabled: false` (benchmarks): records nothing. */
export const disabledLedger: Ledger = { append: () => Promise.resolve(undefined), problem: () => Promise.resolve(undefined), onCommit: () => {}, close: () => Promise.resolve() };

export interface AuditLedgerOptions {
  readonly store: StoreLocation;
  readonly keyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

/** An append waiting for the writer's answer. */
interface Waiter {
  readonly id: number;
  readonly resolve: (position: RecordPosition) => void;
  readonly reject: (error: Error) => void;
  next?: Waiter;
}

/** The ledger, written by a worker thread with group commit; one hash chain per process, in SQLite or PostgreSQL. */
export class AuditLedger implements Ledger {
  private nextId = 0;
  /**
   * Appends waiting for the writer, oldest first, linked through themselves: the writer answers in the
   * order they were posted. Not a Map: a long-lived table that every append joins and leaves keeps,
   * in each dead copy its rehashes leave in the old generation, the waiters (and through their promises
   * each request's objects) alive across scavenges until a full collection.
   */
  private oldest?: Waiter;
  private newest?: Waiter;
  private failure?: string;
  private closed?: Promise<void>;
  /** Appends of this event-loop turn, posted to the writer together (one message, one copy). */
  private outgoing: WriterEntry[] = [];
  private readonly commitListeners: CommitListener[] = [];
  private nextProbe = 0;
  private readonly probes = new Map<number, (problem: string | undefined) => void>();

  private constructor(
    private readonly worker: Worker,
    private readonly chain: string,
    private readonly origin: string,
  ) {
    worker.on('message', (message: WriterReply) => this.receive(message));
    worker.on('error', (error) => this.fail(`the audit writer failed: ${error.message}`));
    worker.on('exit', () => this.fail('the audit writer stopped'));
  }

  static open(options: AuditLedgerOptions): Promise<AuditLedger> {
    const chain = newChainId();
    const workerData: WriterOptions = { ...options, chain };
    const worker = new Worker(workerScript('writer_worker'), { workerData });
    return new Promise((resolve, reject) => {
      const onMessage = (message: WriterReply) => {
        worker.off('message', onMessage);
        if (message.type === 'ready') resolve(new AuditLedger(worker, chain, checkpointOrigin(chain, createPublicKey(options.keyPem))));
        else reject(new AuditUnavailableError(message.type === 'failed' ? message.message : 'the audit writer did not start'));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  append(event: AuditEvent): Promise<RecordPosition> {
    if (this.failure !== undefined) return Promise.reject(new AuditUnavailableError(this.failure));
    const id = this.nextId++;
    return new Promise<RecordPosition>((resolve, reject) => {
      const waiter: Waiter = { id, resolve, reject };
      if (this.newest) this.newest.next = waiter;
      else this.oldest = waiter;
      this.newest = waiter;
      if (this.outgoing.length === 0) setImmediate(() => this.post());
      this.outgoing.push({ id, body: JSON.stringify(event), columns: recordColumns(event) });
    });
  }

  private post(): void {
    const entries = this.outgoing;
    if (entries.length === 0) return; // close() posted them already
    this.outgoing = [];
    this.worker.postMessage({ type: 'append', entries });
  }

  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  /** The writer has stopped or failed, or its store says it cannot durably record now. */
  async problem(): Promise<string | undefined> {
    if (this.failure !== undefined) return this.failure;
    const id = this.nextProbe++;
    return new Promise((resolve) => {
      this.probes.set(id, resolve);
      this.worker.postMessage({ type: 'probe', id });
    });
  }

  /** Commits what is pending, writes a final checkpoint, and stops the writer. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.failure !== undefined) return resolve();
      this.worker.once('exit', () => resolve());
      if (this.outgoing.length > 0) this.post();
      this.worker.postMessage({ type: 'close' });
    });
    return this.closed;
  }

  private receive(message: WriterReply): void {
    if (message.type === 'stored') {
      message.ids.forEach((id, i) => this.settle(id)?.resolve({ chain: this.chain, origin: this.origin, leafIndex: message.seqs[i] - 1 }));
      for (const listener of this.commitListeners) listener(message.ids.length, message.commitSeconds);
    } else if (message.type === 'rejected') {
      for (const id of message.ids) this.settle(id)?.reject(new AuditUnavailableError(`the audit record could not be stored: ${message.message}`));
    } else if (message.type === 'probed') {
      this.probes.get(message.id)?.(message.problem);
      this.probes.delete(message.id);
    } else if (message.type === 'closed') {
      this.failure = 'the audit ledger is closed';
      void this.worker.terminate();
    }
  }

  /** Unlinks the waiter of append `id`: the oldest, as the writer answers in order. */
  private settle(id: number): Waiter | undefined {
    let before: Waiter | undefined;
    let waiter = this.oldest;
    while (waiter && waiter.id !== id) {
      before = waiter;
      waiter = waiter.next;
    }
    if (!waiter) return undefined;
    if (before) before.next = waiter.next;
    else this.oldest = waiter.next;
    if (this.newest === waiter) this.newest = before;
    waiter.next = undefined;
    return waiter;
  }

  private fail(message: string): void {
    this.failure ??= message;
    for (const answer of this.probes.values()) answer(message);
    this.probes.clear();
    for (let waiter = this.oldest; waiter; waiter = waiter.next) waiter.reject(new AuditUnavailableError(message));
    this.oldest = this.newest = undefined;
  }
}
