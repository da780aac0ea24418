import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `content` (text, or its pieces in order) so that a reader sees the old file or the new one, never a part:
 * a temporary file in the same folder (same file system, so rename is atomic), created with `mode`
 * from the start (a key is never readable by others, not even for a moment), written, fsynced, then
 * renamed over the old one; the folder is fsynced so the rename survives a crash. A reader that
 * already has the old file open keeps reading the old content.
 */
export async function writeFileAtomic(path: string, content: string | Iterable<string>, mode: number, owner?: FileOwner): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeSynced(temporary, content, mode, owner);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}

/** The file's owner to keep when root rewrites a file another user reads (a server's config). */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/** Creates `path`, which must not exist yet, and makes it durable (file and folder fsynced). */
export async function writeNewFile(path: string, content: string, mode: number): Promise<void> {
  await writeSynced(path, content, mode);
  await syncFolder(dirname(path));
}

async function writeSynced(path: string, content: string | Iterable<string>, mode: number, owner?: FileOwner): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    if (typeof content === 'string') await handle.writeFile(content, 'utf8');
    else await writeChunked(handle, content);
    // The umask may have taken bits away from `mode`; the file gets exactly `mode`.
    await handle.chmod(mode);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Text in pieces (the lines of an export), written a megabyte at a time rather than joined into one string. */
async function writeChunked(handle: FileHandle, pieces: Iterable<string>): Promise<void> {
  let chunk: string[] = [];
  let size = 0;
  for (const piece of pieces) {
    chunk.push(piece);
    size += piece.length;
    if (size < 1 << 20) continue;
    await handle.write(chunk.join(''));
    chunk = [];
    size = 0;
  }
  if (chunk.length > 0) await handle.write(chunk.join(''));
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  if (!handle) return;
  // Some file systems refuse fsync on a folder; the rename has happened either way.
  await handle.sync().catch(() => undefined);
  await handle.close();
}
