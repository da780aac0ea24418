import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inodes of the files and folders this process watches with inotify (fs.watch), from /proc/self/fdinfo. */
export function watchedInodes(): Set<bigint> {
  const inodes = new Set<bigint>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:inotify') continue;
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    for (const match of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+) /gm)) inodes.add(BigInt(`0x${match[1]}`));
  }
  return inodes;
}
