import { crc32 } from 'node:zlib';
import { encodeEntries, readEntries, type JournalEntry } from '../../../src/audit/journal_format';

const entry = (seq: number): JournalEntry => ({ seq, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64), body: `{"v":1,"seq":${seq},"text":"ü\\n"}` });

describe('the journal format', () => {
  const whole = encodeEntries([entry(1), entry(2), entry(3)]);
  const firstLength = encodeEntries([entry(1)]).length;

  it('reads back what it wrote, text exactly', () => {
    expect(readEntries(whole)).toEqual({ entries: [entry(1), entry(2), entry(3)], end: whole.length });
  });

  it('frames each entry as its UTF-8 length (u32 BE), the CRC-32 of those bytes, then {seq, prev, hash} and the text', () => {
    const frame = (e: JournalEntry): Buffer => {
      const payload = Buffer.from(`{"seq":${e.seq},"prev":"${e.prevHash}","hash":"${e.hash}"}\n${e.body}`, 'utf8');
      const head = Buffer.alloc(8);
      head.writeUInt32BE(payload.length, 0);
      head.writeUInt32BE(crc32(payload), 4);
      return Buffer.concat([head, payload]);
    };
    expect(whole.equals(Buffer.concat([entry(1), entry(2), entry(3)].map(frame)))).toBe(true);
    expect(encodeEntries([])).toHaveLength(0);
  });

  it('calls an entry cut short at the end torn, wherever the cut falls', () => {
    for (const cut of [1, 7, 8, 9, 40, whole.length - firstLength - 1]) {
      const bytes = whole.subarray(0, whole.length - cut);
      const read = readEntries(bytes);
      expect(read.damage).toEqual({ offset: read.end, torn: true });
      expect(read.entries.length).toBeLessThan(3);
    }
  });

  it('calls zeros after the last entry torn (a file extended, its data never written)', () => {
    expect(readEntries(Buffer.concat([whole, Buffer.alloc(4096)]))).toEqual({ entries: [entry(1), entry(2), entry(3)], end: whole.length, damage: { offset: whole.length, torn: true } });
  });

  it('calls a last entry whose bytes do not match its checksum torn, and one with entries after it damaged', () => {
    const lastGarbled = Buffer.from(whole);
    lastGarbled[whole.length - 3] ^= 0xff;
    expect(readEntries(lastGarbled).damage).toEqual({ offset: whole.length - encodeEntries([entry(3)]).length, torn: true });
    const middleGarbled = Buffer.from(whole);
    middleGarbled[firstLength + 20] ^= 0xff;
    expect(readEntries(middleGarbled)).toEqual({ entries: [entry(1)], end: firstLength, damage: { offset: firstLength, torn: false } });
  });

  it('calls an entry whose length field was damaged to point past the end damaged, not torn, when whole entries follow it', () => {
    for (const [at, flip] of [[0, 0x80], [1, 0x01], [2, 0x10]] as const) {
      const bytes = Buffer.from(whole);
      bytes[at] ^= flip; // entry 1's length, now past the end of the file
      expect(bytes.readUInt32BE(0)).toBeGreaterThan(whole.length);
      expect(readEntries(bytes)).toEqual({ entries: [], end: 0, damage: { offset: 0, torn: false } });
    }
    const secondDamaged = Buffer.from(whole);
    secondDamaged[firstLength] ^= 0x40;
    expect(readEntries(secondDamaged)).toEqual({ entries: [entry(1)], end: firstLength, damage: { offset: firstLength, torn: false } });
  });
});
