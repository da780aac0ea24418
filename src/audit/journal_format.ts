import { crc32 } from 'node:zlib';

// A journal's entries (journal.ts): its payload's length (u32, big-endian), the payload's CRC-32,
// then the payload: a JSON line {seq, prev, hash} and the record's text, exactly as hashed. The
// chain's tree is not journaled: whoever indexes an entry hashes it from the leaves
// (journal_index.ts), trusting no stored subtree.

/** One record as journaled: its place in the chain and its text. */
export interface JournalEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly body: string;
}

const FRAME = 8;

/** The entries' frames in one buffer: each text is encoded straight into it (one allocation, no copies). */
export function encodeEntries(entries: readonly JournalEntry[]): Buffer {
  const texts = entries.map(({ seq, prevHash, hash, body }) => `${JSON.stringify({ seq, prev: prevHash, hash })}\n${body}`);
  const bytes = Buffer.allocUnsafe(texts.reduce((total, text) => total + FRAME + Buffer.byteLength(text, 'utf8'), 0));
  let offset = 0;
  for (const text of texts) {
    const start = offset + FRAME;
    const end = start + bytes.write(text, start, 'utf8');
    bytes.writeUInt32BE(end - start, offset);
    bytes.writeUInt32BE(crc32(bytes.subarray(start, end)), offset + 4);
    offset = end;
  }
  return bytes;
}

/** What a journal's bytes hold: the whole entries, where they end, and the first that is not whole. */
export interface JournalRead {
  readonly entries: JournalEntry[];
  /** The offset just past the last whole entry. */
  readonly end: number;
  /**
   * The first entry that is not whole. `torn`: nothing readable follows it — a write the power cut
   * short (never acknowledged: the answer waits for the fdatasync), or one still being written.
   * Otherwise entries follow a damaged one: the journal was altered or the disk failed.
   */
  readonly damage?: { readonly offset: number; readonly torn: boolean };
}

export function readEntries(bytes: Buffer): JournalRead {
  const entries: JournalEntry[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const entry = entryAt(bytes, offset);
    if (entry === undefined) return { entries, end: offset, damage: { offset, torn: !wholeEntryAfter(bytes, offset) } };
    entries.push(entry.entry);
    offset = entry.next;
  }
  return { entries, end: offset };
}

/**
 * Whether a whole entry starts anywhere past `offset`. Only then is the entry there damaged rather
 * than torn: a bit flipped in its length field may point past the end of the file, and taking that
 * for a write cut short would drop every acknowledged entry after it unreported.
 */
function wholeEntryAfter(bytes: Buffer, offset: number): boolean {
  for (let next = offset + 1; next + FRAME < bytes.length; next++) if (entryAt(bytes, next) !== undefined) return true;
  return false;
}

function entryAt(bytes: Buffer, offset: number): { entry: JournalEntry; next: number } | undefined {
  if (offset + FRAME > bytes.length) return undefined;
  const length = bytes.readUInt32BE(offset);
  const next = offset + FRAME + length;
  if (length === 0 || next > bytes.length) return undefined;
  const payload = bytes.subarray(offset + FRAME, next);
  if (crc32(payload) !== bytes.readUInt32BE(offset + 4)) return undefined;
  const text = payload.toString('utf8');
  const line = text.indexOf('\n');
  try {
    const head = JSON.parse(text.slice(0, line)) as { seq: number; prev: string; hash: string };
    return { entry: { seq: head.seq, prevHash: head.prev, hash: head.hash, body: text.slice(line + 1) }, next };
  } catch {
    return undefined;
  }
}
