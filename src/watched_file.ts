import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/**
 * A small file read at start and read again whenever it changes, parsed each time by `parse`.
 * The folder is watched, not the file: editors and `mayfly token create` replace files by rename.
 * A file briefly missing or unparseable keeps the last good value. Does not keep the process alive.
 */
export class WatchedFile<T> {
  private current: T;
  private readonly watcher: FSWatcher;

  constructor(
    readonly file: string,
    private readonly parse: (text: string) => T,
  ) {
    this.current = parse(readFileSync(file, 'utf8'));
    this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === basename(file)) void this.reload();
    });
  }

  get value(): T {
    return this.current;
  }

  private async reload(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    if (text === undefined) return;
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
