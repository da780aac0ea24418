import { watch, type FSWatcher } from 'node:fs';

/** How long to wait before looking again for a watched file that is missing. */
const LOOK_AGAIN_MS = 200;

/** A watch that `watchFile` keeps up until it is closed. */
export interface FileWatch {
  close(): void;
}

/**
 * Calls `changed` whenever the file at `path` changes, is replaced or comes back. The file is
 * watched, not its folder: the SQLite ledger is written beside the config by default, and a folder
 * watch woke the event loop for each of its writes. Editors and tools replace a file by rename,
 * which ends the old file's watch ('rename'): the file then at the path is watched, or looked for
 * until it is back. Does not keep the process alive.
 */
export function watchFile(path: string, changed: () => void): FileWatch {
  let watcher: FSWatcher | undefined;
  let lookAgain: NodeJS.Timeout | undefined;
  let closed = false;
  const watchPath = (): void => {
    watcher?.close();
    watcher = undefined;
    if (closed) return;
    try {
      watcher = watch(path, { persistent: false }, (event) => {
        changed();
        if (event === 'rename') watchPath();
      });
      watcher.on('error', () => watchPath());
    } catch {
      lookAgain = setTimeout(() => {
        watchPath();
        if (watcher) changed(); // back, and written while unwatched
      }, LOOK_AGAIN_MS);
      lookAgain.unref();
    }
  };
  watchPath();
  return {
    close() {
      closed = true;
      clearTimeout(lookAgain);
      watcher?.close();
    },
  };
}
