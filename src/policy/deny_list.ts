import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { WatchedFile } from '../watched_file';
import { classifyName, coversDomain, type Identifier } from './names';

interface Entries {
  readonly fingerprints: ReadonlySet<string>;
  readonly names: ReadonlySet<string>;
}

/**
 * A deny list file: public-key SHA-256 fingerprints (of the canonical SubjectPublicKeyInfo, the
 * `spki_sha256` the ledger records; hex, colons allowed, optional `sha256:`) and names, one a line,
 * `#` comments. Read at load, then again whenever it changes, so an entry takes
 * effect without a reload.
 */
export class DenyList {
  private readonly watched: WatchedFile<Entries>;

  constructor(readonly file: string) {
    this.watched = new WatchedFile(file, parseDenyList);
  }

  hasFingerprint(sha256Hex: string): boolean {
    return this.watched.value.fingerprints.has(sha256Hex);
  }

  /** Whether the identifier is a listed name, or a wildcard that would cover one. */
  covers(identifier: Identifier): boolean {
    const { names } = this.watched.value;
    if (names.has(canonical(identifier.raw))) return true;
    if (identifier.kind !== 'dns' || !identifier.wildcard) return false;
    for (const name of names) if (coversDomain(identifier, name) && name !== identifier.name) return true;
    return false;
  }

  close(): void {
    this.watched.close();
  }
}

function parseDenyList(text: string): Entries {
  const fingerprints = new Set<string>();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const entry = line.replace(/#.*/, '').trim();
    if (!entry) continue;
    const hex = entry.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
    if (/^[0-9a-f]{64}$/.test(hex)) fingerprints.add(hex);
    else names.add(canonical(entry));
  }
  return { fingerprints, names };
}

function canonical(name: string): string {
  const identifier = classifyName(name);
  return identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : name;
}

/**
 * A key's deny-list fingerprint: SHA-256 of its SubjectPublicKeyInfo in its one usual form (an EC
 * point uncompressed), whatever form the CSR sent, so a listed key cannot pass as a compressed point.
 */
export function keyFingerprint(key: KeyObject): string {
  const canonical = createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' }).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(canonical).digest('hex');
}
