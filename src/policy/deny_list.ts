import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { classifyName, coversDomain, type Identifier } from './names';

/**
 * A deny list file: public-key SHA-256 fingerprints (hex, colons allowed, optional `sha256:`) and
 * names, one a line, `#` comments. Read at load, then re-read whenever the file changes, so an
 * entry takes effect without a reload. The watcher does not keep the process alive.
 */
export class DenyList {
  private fingerprints = new Set<string>();
  private names = new Set<string>();
  private readonly watcher: FSWatcher;

  constructor(readonly file: string) {
    this.parse(readFileSync(file, 'utf8'));
    // Watch the folder: editors replace files by rename, which a watch on the file would miss.
    this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === basename(file)) void this.reload();
    });
  }

  private async reload(): Promise<void> {
    // A file mid-rewrite or briefly absent keeps the last good list rather than emptying the brake.
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    if (text !== undefined) this.parse(text);
  }

  private parse(text: string): void {
    const fingerprints = new Set<string>();
    const names = new Set<string>();
    for (const line of text.split('\n')) {
      const entry = line.replace(/#.*/, '').trim();
      if (!entry) continue;
      const hex = entry.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
      if (/^[0-9a-f]{64}$/.test(hex)) fingerprints.add(hex);
      else names.add(canonical(entry));
    }
    this.fingerprints = fingerprints;
    this.names = names;
  }

  hasFingerprint(sha256Hex: string): boolean {
    return this.fingerprints.has(sha256Hex);
  }

  /** Whether the identifier is a listed name, or a wildcard that would cover one. */
  covers(identifier: Identifier): boolean {
    if (this.names.has(canonical(identifier.raw))) return true;
    if (identifier.kind !== 'dns' || !identifier.wildcard) return false;
    for (const name of this.names) if (coversDomain(identifier, name) && name !== identifier.name) return true;
    return false;
  }

  close(): void {
    this.watcher.close();
  }
}

function canonical(name: string): string {
  const identifier = classifyName(name);
  return identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : name;
}
