import { closeSync, constants, fsyncSync, openSync, statSync } from 'node:fs';

// What makes a file's name last, and tells a file replaced under its path: the ledger's files and
// journals use both.

/** A file's identity (device and inode), or undefined when the path names nothing. */
export function fileIdentity(path: string): string | undefined {
  try {
    const info = statSync(path, { bigint: true });
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/** Makes a folder's entries (a file created, renamed or removed) durable. */
export function syncFolder(folder: string): void {
  const fd = openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
