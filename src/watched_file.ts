import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { watchFile, type FileWatch } from './file_watch';

/**
 * A small file read at start and read again whenever it changes, parsed each time by `parse`.
 * Watched by file_watch.ts, which follows a file replaced by rename (editors, `mayfly token create`).
 * An unparseable file keeps the last good value; so does a missing one, unless `whenMissing` gives
 * the value for that (a warning is logged either way). Does not keep the process alive.
 */
export class WatchedFile<T> {
  private current: T;
  private readonly watcher: FileWatch;
  private missing = false;

  constructor(
    readonly file: string,
    private readonly parse: (text: string) => T,
    private readonly whenMissing?: () => T,
  ) {
    this.current = parse(readFileSync(file, 'utf8'));
    this.watcher = watchFile(file, () => void this.reload());
  }

  get value(): T {
    return this.current;
  }

  private async reload(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      if (!this.missing) process.emitWarning(`${this.file} cannot be read; ${this.whenMissing ? 'it counts as empty' : 'its last contents stay in force'} until it is back`, { code: 'MAYFLY_WATCHED_FILE_MISSING' });
      this.missing = true;
      if (this.whenMissing) this.current = this.whenMissing();
      return;
    }
    this.missing = false;
    try {
      this.current = this.parse(text);
    } catch {
      // Keep the last good value: a half-written file must not empty a deny list or a token list.
    }
  }

  close(): void {
    this.watcher.close();
  }
}
