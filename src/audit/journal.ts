import { closeSync, constants, fdatasyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isChainId } from './chain_owner';
import { fileIdentity, syncFolder } from './durable_file';
import { encodeEntries, type JournalEntry } from './journal_format';

// The SQLite ledger's journal: each writing process appends its chain's records to a file of its
// own beside the ledger (`<ledger>.journal/<chain>`), one write and one fdatasync a group commit,
// and answers the requests then. SQLite has one write lock and every commit there is an fsync under
// it, so two processes committing to one file took turns; the journals share nothing. The records
// are copied into SQLite ("indexed") off the request path (journaled_store.ts, journal_index.ts).
// The entries' format: journal_format.ts.

/** Where a ledger's journals are: one file a chain, named by the chain. */
export const journalFolder = (database: string): string => `${database}.journal`;

/**
 * Makes the journal folder, its entry durable in the ledger's folder (else a power cut could take the
 * folder, and every journal in it, after records were acknowledged), or checks the one there: the
 * journals hold acknowledged records, so only a directory of this user that no one else can open.
 */
function prepareFolder(folder: string): void {
  if (mkdirSync(folder, { recursive: true, mode: 0o700 }) !== undefined) syncFolder(dirname(folder));
  const info = lstatSync(folder);
  const uid = process.getuid?.();
  const wrong = !info.isDirectory()
    ? 'is not a directory (a symbolic link or a file)'
    : uid !== undefined && info.uid !== uid
      ? `is owned by uid ${info.uid}, not by Mayfly's user (uid ${uid})`
      : (info.mode & 0o777) !== 0o700
        ? `has mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}, not 700`
        : undefined;
  if (wrong !== undefined) throw new Error(`the audit journal folder ${folder} ${wrong}: make it a directory owned by the user Mayfly runs as, with mode 700`);
}

/** One process's journal, appended to by its writer thread alone. */
export class JournalWriter {
  private length = 0;
  private identity: string | undefined;
  /** A rotation's rename not yet made durable. */
  private renamed = false;

  private constructor(
    private readonly folder: string,
    private readonly file: string,
    private fd: number,
  ) {
    this.identity = fileIdentity(file);
  }

  /** Creates the chain's journal (a chain is new with its process: the file must not exist). */
  static create(database: string, chain: string): JournalWriter {
    // Readers index only files named so; and a chain id is a file name here, never a path.
    if (!isChainId(chain)) throw new Error(`the audit chain id ${JSON.stringify(chain)} cannot name a journal: it must be host-pid-random, of [A-Za-z0-9._-]`);
    const folder = journalFolder(database);
    prepareFolder(folder);
    const file = join(folder, chain);
    const writer = new JournalWriter(folder, file, openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600));
    syncFolder(folder);
    return writer;
  }

  /** Bytes written and kept. */
  get size(): number {
    return this.length;
  }

  /**
   * Appends entries: durable once it returns. A write or fdatasync that failed (a full disk) is cut
   * back off, none of it acknowledged; a reader may have read it already, so its writer appends no
   * more (journaled_store.ts).
   */
  append(entries: readonly JournalEntry[]): void {
    const bytes = encodeEntries(entries);
    try {
      if (this.renamed) {
        syncFolder(this.folder);
        this.renamed = false;
      }
      for (let written = 0; written < bytes.length; ) written += writeSync(this.fd, bytes, written);
      fdatasyncSync(this.fd);
    } catch (error) {
      try {
        ftruncateSync(this.fd, this.length);
      } catch {
        // The next append's fdatasync fails too, or readers find the damage named.
      }
      throw error;
    }
    this.length += bytes.length;
  }

  /** The journal deleted or replaced under its writer: what is appended then would be lost with it. */
  displaced(): string | undefined {
    return fileIdentity(this.file) === this.identity ? undefined : `the audit journal ${this.file} was deleted or replaced while Mayfly wrote it; restart Mayfly`;
  }

  /**
   * Starts the journal over, keeping what it holds from byte `keep` on (entries not yet indexed
   * durably; everything before them is). The new file, with those entries synced, is renamed over
   * the old one: a reader holds either, never a file cut short under it.
   */
  rotate(keep = this.length): void {
    const next = `${this.file}.next`;
    rmSync(next, { force: true }); // left by a rotation cut short; never opened through (a link)
    const fd = openSync(next, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_APPEND, 0o600);
    let kept: Buffer;
    try {
      kept = this.readFrom(keep);
      for (let written = 0; written < kept.length; ) written += writeSync(fd, kept, written);
      if (kept.length > 0) fdatasyncSync(fd);
      renameSync(next, this.file);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // Renamed: the new file is the journal now, whether or not the rename is durable yet; until it
    // is, appends first make it so (an entry in a file whose name a power cut takes is lost).
    closeSync(this.fd);
    [this.fd, this.length, this.identity, this.renamed] = [fd, kept.length, fileIdentity(this.file), true];
    syncFolder(this.folder);
    this.renamed = false;
  }

  /** The journal's bytes from `offset` to its end. */
  private readFrom(offset: number): Buffer {
    const bytes = Buffer.alloc(this.length - offset);
    if (bytes.length === 0) return bytes;
    const fd = openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for (let done = 0; done < bytes.length; ) {
        const read = readSync(fd, bytes, done, bytes.length - done, offset + done);
        if (read === 0) throw new Error(`the audit journal ${this.file} is shorter than its writer wrote`);
        done += read;
      }
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  /** Closes the journal; `remove`: its chain is sealed and indexed durably, so the file goes. */
  close(remove: boolean): void {
    closeSync(this.fd);
    if (!remove || this.displaced() !== undefined) return;
    unlinkSync(this.file);
    syncFolder(this.folder);
  }
}
