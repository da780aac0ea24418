import { Worker } from 'node:worker_threads';
import type { Subtree } from './merkle';
import type { AuditRecord } from './record';
import type { AuditOverview, AuditQuery, AuditReader, Checkpoint, NameIndexDifference, StoredRecord } from './store';
import { workerScript } from './worker_script';

/** A read of the ledger, sent to the reader thread: a method of AuditReader and its arguments. */
export interface ReaderCall {
  readonly id: number;
  readonly method: 'query' | 'overview' | 'record' | 'chains' | 'walkPage' | 'checkpoints' | 'leafHashes' | 'treeNodes' | 'nameIndexDifference' | 'hourRollupDifference' | 'journalProblem';
  readonly args: readonly unknown[];
}

export type ReaderReply = { readonly id: number; readonly result: unknown } | { readonly id: number; readonly error: string };

/**
 * The SQLite ledger read from a thread of its own: better-sqlite3 answers synchronously, and a name
 * search over millions of records takes a noticeable fraction of a second that must not stall signing.
 */
export class SqliteReaderThread implements AuditReader {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly database: string) {}

  /** The thread, started by the first read: most `serve` processes never read their ledger. */
  private thread(): Worker {
    if (this.worker) return this.worker;
    this.worker = new Worker(workerScript('sqlite_reader_worker'), { workerData: { database: this.database } });
    this.worker.unref();
    this.worker.on('message', (reply: ReaderReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(reply.error));
      else waiter?.resolve(reply.result);
    });
    const fail = (error: Error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the audit reader stopped')));
    return this.worker;
  }

  private call<T>(method: ReaderCall['method'], ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.thread().postMessage({ id, method, args } satisfies ReaderCall);
    });
  }

  query = (filter: AuditQuery): Promise<AuditRecord[]> => this.call('query', filter);
  overview = (range: { readonly since: string; readonly until: string }): Promise<AuditOverview> => this.call('overview', range);
  record = (chain: string, seq: number): Promise<AuditRecord | undefined> => this.call('record', chain, seq);
  chains = (): Promise<string[]> => this.call('chains');
  walkPage = (chain: string, afterSeq: number, limit: number): Promise<StoredRecord[]> => this.call('walkPage', chain, afterSeq, limit);
  checkpoints = (chain: string): Promise<Checkpoint[]> => this.call('checkpoints', chain);
  leafHashes = (chain: string, from: number, to: number): Promise<string[]> => this.call('leafHashes', chain, from, to);
  treeNodes = (chain: string, subtrees: readonly Subtree[]): Promise<(string | undefined)[]> => this.call('treeNodes', chain, subtrees);
  nameIndexDifference = (): Promise<NameIndexDifference | undefined> => this.call('nameIndexDifference');
  hourRollupDifference = (): Promise<{ table: string; hour: string } | undefined> => this.call('hourRollupDifference');
  journalProblem = (): Promise<string | undefined> => this.call('journalProblem');

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
