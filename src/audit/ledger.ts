import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { recordColumns, type AuditEvent } from './record';
import type { WriterEntry, WriterOptions, WriterReply } from './writer_protocol';

/** The record of a decision could not be made durable; the decision must not take effect. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

/** Called after each commit: how many records it held and how long it took. */
export type CommitListener = (records: number, seconds: number) => void;

/** Where decisions are recorded. `append` resolves once the record is durable. */
export interface Ledger {
  append(event: AuditEvent): Promise<void>;
  /** Why the ledger cannot record now (for /readyz), or undefined when it can. */
  problem(): Promise<string | undefined>;
  onCommit(listener: CommitListener): void;
  close(): Promise<void>;
}

/** For `audit.enabled: false` (benchmarks): records nothing. */
export const disabledLedger: Ledger = { append: () => Promise.resolve(), problem: () => Promise.resolve(undefined), onCommit: () => {}, close: () => Promise.resolve() };

export interface AuditLedgerOptions {
  readonly database: string;
  readonly keyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

/** The writer script: beside this file when compiled; from dist/ when tests run the TypeScript. */
function writerScript(): string {
  const compiled = join(__dirname, 'writer_worker.js');
  if (existsSync(compiled)) return compiled;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const built = join(dir, 'dist', 'src', 'audit', 'writer_worker.js');
    if (existsSync(built)) return built;
  }
  throw new Error('the audit writer is not built; run `npm run build`');
}

/** The SQLite ledger, written by a worker thread with group commit; one hash chain per process. */
export class AuditLedger implements Ledger {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private failure?: string;
  /** Why the last commit failed (a full disk, an I/O error), until one succeeds. */
  private commitFailure?: string;
  /** The writer's test write under way, answered by its 'probed' reply. */
  private probing?: { readonly answered: Promise<void>; readonly resolve: () => void };
  private closed?: Promise<void>;
  /** Appends of this event-loop turn, posted to the writer together (one message, one copy). */
  private outgoing: WriterEntry[] = [];
  private readonly commitListeners: CommitListener[] = [];

  private constructor(
    private readonly worker: Worker,
    private readonly database: string,
  ) {
    worker.on('message', (message: WriterReply) => this.receive(message));
    worker.on('error', (error) => this.fail(`the audit writer failed: ${error.message}`));
    worker.on('exit', () => this.fail('the audit writer stopped'));
  }

  static open(options: AuditLedgerOptions): Promise<AuditLedger> {
    const chain = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const workerData: WriterOptions = { ...options, chain };
    const worker = new Worker(writerScript(), { workerData });
    return new Promise((resolve, reject) => {
      const onMessage = (message: WriterReply) => {
        worker.off('message', onMessage);
        if (message.type === 'ready') resolve(new AuditLedger(worker, options.database));
        else reject(new AuditUnavailableError(message.type === 'failed' ? message.message : 'the audit writer did not start'));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  append(event: AuditEvent): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new AuditUnavailableError(this.failure));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
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

  /**
   * The writer has stopped or failed, its last commit failed and a test write fails too, or the
   * database file is no longer writable: an open SQLite connection would go on writing a file made
   * read-only (and root ignores the mode), so the file's mode is read as what the operator means.
   */
  async problem(): Promise<string | undefined> {
    if (this.failure !== undefined) return this.failure;
    // Not ready while commits fail: a test write, not a request, says when they can again (a CA
    // taken out of rotation for its readiness gets no requests to commit).
    if (this.commitFailure !== undefined) await this.probe();
    if (this.failure !== undefined) return this.failure;
    if (this.commitFailure !== undefined) return `the audit ledger ${this.database} cannot commit (${this.commitFailure})`;
    try {
      const info = await stat(this.database);
      if ((info.mode & 0o200) === 0) return `the audit ledger ${this.database} is read-only`;
      await access(this.database, constants.W_OK);
    } catch (error) {
      return `the audit ledger ${this.database} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    return undefined;
  }

  private probe(): Promise<void> {
    if (!this.probing) {
      let resolve!: () => void;
      const answered = new Promise<void>((settle) => (resolve = settle));
      this.probing = { answered, resolve };
      this.worker.postMessage({ type: 'probe' });
    }
    return this.probing.answered;
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
      this.commitFailure = undefined;
      for (const id of message.ids) this.settle(id)?.resolve();
      for (const listener of this.commitListeners) listener(message.ids.length, message.commitSeconds);
    } else if (message.type === 'rejected') {
      this.commitFailure = message.message;
      for (const id of message.ids) this.settle(id)?.reject(new AuditUnavailableError(`the audit record could not be stored: ${message.message}`));
    } else if (message.type === 'probed') {
      this.commitFailure = message.message;
      this.probing?.resolve();
      this.probing = undefined;
    } else if (message.type === 'failed') {
      this.fail(message.message);
    } else if (message.type === 'closed') {
      this.failure = 'the audit ledger is closed';
      void this.worker.terminate();
    }
  }

  private settle(id: number) {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    return waiter;
  }

  private fail(message: string): void {
    this.failure ??= message;
    this.probing?.resolve();
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.reject(new AuditUnavailableError(message));
    }
  }
}
