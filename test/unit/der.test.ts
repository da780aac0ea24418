import {
  contextTag,
  DerError,
  encode,
  encodeBitString,
  encodeBoolean,
  encodeNamedBits,
  encodeOctetString,
  encodeOid,
  encodeTime,
  encodeUnsignedInteger,
  readDer,
  sequence,
  TAG,
  type DerNode,
} from '../../src/der';
import { makeCsr } from '../helpers/openssl';
import { hex, opensslAsn1parse, opensslGenstr, tlv, toHex } from './support/asn1';

/** The DerError message `read` throws; fails the test if it throws anything else or nothing. */
function derErrorOf(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    if (error instanceof DerError) return error.message;
    throw new Error(`expected a DerError, got ${String(error)}`);
  }
  throw new Error('expected a DerError, nothing was thrown');
}

/** `levels` SEQUENCEs nested one in another around a NULL. */
function nestedSequences(levels: number): Buffer {
  let value = hex('0500');
  for (let i = 0; i < levels; i++) value = tlv(0x30, value);
  return value;
}

/** The deepest level of constructed values below `node`, reading every child. */
const depthOf = (node: DerNode): number => (node.constructed ? 1 + Math.max(0, ...node.children().map(depthOf)) : 0);

describe('readDer: valid DER', () => {
  it('reads a SEQUENCE as offsets into the original bytes, without copying', () => {
    const bytes = hex('30 0a 02 01 05 05 00 06 03 55 04 03');
    const node = readDer(bytes);
    expect(node).toMatchObject({ tag: 0x30, start: 0, contentStart: 2, end: 12 });
    expect(node.constructed).toBe(true);
    expect(node.content.buffer).toBe(bytes.buffer);
    const [integer, nullValue, oid] = node.children();
    expect(integer).toMatchObject({ tag: TAG.INTEGER, start: 2, contentStart: 4, end: 5 });
    expect(integer.smallInteger()).toBe(5);
    expect(toHex(nullValue.encoded)).toBe('0500');
    expect(nullValue.content.length).toBe(0);
    expect(oid.oid()).toBe('2.5.4.3');
    expect(oid.constructed).toBe(false);
  });

  it('reads an empty SEQUENCE as having no children', () => {
    expect(readDer(hex('3000')).children()).toEqual([]);
  });

  it('reads a one-octet long-form length (128..255)', () => {
    const bytes = Buffer.concat([hex('04 81 c8'), Buffer.alloc(200, 0xab)]);
    const node = readDer(bytes);
    expect(node).toMatchObject({ contentStart: 3, end: 203 });
    expect(node.content.length).toBe(200);
  });

  it('reads a two-octet long-form length (256..65535)', () => {
    const bytes = Buffer.concat([hex('04 82 01 2c'), Buffer.alloc(300, 1)]);
    expect(readDer(bytes)).toMatchObject({ contentStart: 4, end: 304 });
  });

  it('reads a real CSR made by openssl as three top-level fields', () => {
    const { der } = makeCsr();
    const fields = readDer(der).expect(TAG.SEQUENCE, 'CertificationRequest').children();
    expect(fields.map((f) => f.tag)).toEqual([0x30, 0x30, 0x03]);
    expect(fields[1].children()[0].oid()).toBe('1.2.840.10045.4.3.2');
  });

  it('reads an EXPLICIT wrapper with inner()', () => {
    const node = readDer(hex('a0 03 02 01 02'));
    expect(node.tag).toBe(contextTag(0, true));
    expect(node.inner().smallInteger()).toBe(2);
  });

  it('accepts 32 levels of nesting', () => {
    expect(depthOf(readDer(nestedSequences(32)))).toBe(32);
  });
});

describe('readDer: refusals (X.690 10)', () => {
  it('refuses an indefinite length', () => {
    expect(derErrorOf(() => readDer(hex('30 80 05 00 00 00')))).toBe('indefinite length is not DER');
  });

  it('refuses a long-form length for a value shorter than 128 bytes', () => {
    expect(derErrorOf(() => readDer(hex('04 81 05 01 02 03 04 05')))).toBe('length is not minimally encoded');
  });

  it('refuses a long-form length with a leading zero octet', () => {
    const bytes = Buffer.concat([hex('04 82 00 c8'), Buffer.alloc(200)]);
    expect(derErrorOf(() => readDer(bytes))).toBe('length is not minimally encoded');
  });

  it('refuses a length of more than four octets', () => {
    expect(derErrorOf(() => readDer(hex('04 85 01 00 00 00 00')))).toBe('length too large');
  });

  it.each([
    ['no bytes', ''],
    ['a tag alone', '04'],
    ['contents shorter than the length', '04 05 01 02'],
    ['length octets cut off', '04 82 01'],
    ['a child longer than its parent', '30 04 04 05 01 02'],
    ['a parent with a half child at its end', '30 03 05 00 00'],
  ])('refuses a truncated value: %s', (_, bytes) => {
    expect(derErrorOf(() => depthOf(readDer(hex(bytes))))).toBe('truncated');
  });

  it('refuses trailing bytes after the value', () => {
    expect(derErrorOf(() => readDer(hex('05 00 00')))).toBe('trailing bytes after the DER value');
  });

  it('refuses trailing bytes inside an EXPLICIT wrapper', () => {
    expect(derErrorOf(() => readDer(hex('a0 05 02 01 02 05 00')).inner())).toBe('trailing bytes inside a value');
  });

  it.each([
    ['universal', '1f 21 00'],
    ['context-specific constructed', 'bf 21 00'],
  ])('refuses a high tag number (%s)', (_, bytes) => {
    expect(derErrorOf(() => readDer(hex(bytes)))).toBe('high tag numbers are not supported');
  });

  it('refuses nesting deeper than 32 levels', () => {
    expect(derErrorOf(() => depthOf(readDer(nestedSequences(33))))).toBe('nested too deeply');
    expect(derErrorOf(() => depthOf(readDer(nestedSequences(200))))).toBe('nested too deeply');
  });

  it('refuses children() of a primitive value', () => {
    expect(derErrorOf(() => readDer(hex('04 00')).children())).toBe('expected a constructed value');
  });

  it('names what it expected and what it found on a wrong tag', () => {
    expect(derErrorOf(() => readDer(hex('31 00')).expect(TAG.SEQUENCE, 'subject'))).toBe('subject: expected tag 0x30, found 0x31');
  });
});

describe('DerNode.oid', () => {
  it.each([
    ['2.5.4.3'],
    ['1.2.840.113549.1.1.11'],
    ['1.2.840.10045.3.1.7'],
    ['0.9.2342.19200300.100.1.25'],
    ['2.999.3'],
    ['1.2.3.4294967296'],
    ['2.25.4503599627370496'],
  ])('reads %s as OpenSSL encodes it', (oid) => {
    expect(readDer(opensslGenstr(`OID:${oid}`)).oid()).toBe(oid);
  });

  it.each([
    ['empty contents', '06 00', 'malformed object identifier'],
    ['a last octet with the continuation bit', '06 02 2a 86', 'malformed object identifier'],
    ['an arc with a leading 0x80 octet', '06 03 2a 80 01', 'object identifier arc is not minimal'],
    ['a first arc with a leading 0x80 octet', '06 02 80 01', 'object identifier arc is not minimal'],
    ['an arc beyond 2^53', '06 0a 2a ff ff ff ff ff ff ff ff 7f', 'object identifier arc too large'],
    ['a value that is not an OID', '04 01 2a', 'object identifier: expected tag 0x6, found 0x4'],
  ])('refuses %s', (_, bytes, message) => {
    expect(derErrorOf(() => readDer(hex(bytes)).oid())).toBe(message);
  });
});

describe('DerNode.boolean (X.690 11.1)', () => {
  it('reads 0xFF as TRUE and 0x00 as FALSE', () => {
    expect(readDer(hex('01 01 ff')).boolean()).toBe(true);
    expect(readDer(hex('01 01 00')).boolean()).toBe(false);
  });

  it.each([
    ['TRUE as 0x01 (BER, not DER)', '01 01 01'],
    ['TRUE as 0x80', '01 01 80'],
    ['two octets', '01 02 ff ff'],
    ['no octets', '01 00'],
  ])('refuses %s', (_, bytes) => {
    expect(derErrorOf(() => readDer(hex(bytes)).boolean())).toBe('malformed boolean');
  });
});

describe('DerNode.smallInteger', () => {
  it.each([
    ['02 01 00', 0],
    ['02 01 7f', 127],
    ['02 02 00 80', 128],
    ['02 02 01 00', 256],
    ['02 04 7f ff ff ff', 2 ** 31 - 1],
  ])('reads %s as %d', (bytes, value) => {
    expect(readDer(hex(bytes)).smallInteger()).toBe(value);
  });

  it.each([
    ['a negative value', '02 01 ff'],
    ['no contents', '02 00'],
    ['five octets', '02 05 00 80 00 00 00'],
  ])('refuses %s', (_, bytes) => {
    expect(derErrorOf(() => readDer(hex(bytes)).smallInteger())).toBe('integer out of range');
  });

  it('refuses a non-minimal INTEGER with a redundant leading zero octet (X.690 8.3.2)', () => {
    expect(() => readDer(hex('02 02 00 05')).smallInteger()).toThrow(DerError);
  });
});

describe('DerNode.bitString', () => {
  it('returns the contents without the unused-bits octet', () => {
    expect(toHex(readDer(hex('03 03 00 ab cd')).bitString())).toBe('abcd');
    expect(toHex(readDer(hex('03 02 05 a0')).bitString())).toBe('a0');
    expect(readDer(hex('03 01 00')).bitString().length).toBe(0);
  });

  it.each([
    ['no contents', '03 00'],
    ['an unused-bits count of 8', '03 02 08 00'],
    ['unused bits in an empty bit string', '03 01 03'],
  ])('refuses %s', (_, bytes) => {
    expect(derErrorOf(() => readDer(hex(bytes)).bitString())).toBe('malformed bit string');
  });

  it('refuses unused bits that are not zero (X.690 11.2.1)', () => {
    expect(() => readDer(hex('03 02 07 81')).bitString()).toThrow(DerError);
  });
});

describe('DerNode.string', () => {
  it.each([
    ['UTF8String', 'FORMAT:UTF8,UTF8String:Grüße', 'Grüße'],
    ['PrintableString', 'PRINTABLESTRING:Acme Ltd.', 'Acme Ltd.'],
    ['IA5String', 'IA5STRING:a@b.c', 'a@b.c'],
    ['BMPString', 'FORMAT:UTF8,BMPSTRING:hé€', 'hé€'],
    ['UniversalString', 'FORMAT:UTF8,UNIVERSALSTRING:hé😀', 'hé😀'],
  ])('reads a %s as OpenSSL encodes it', (_, spec, text) => {
    expect(readDer(opensslGenstr(spec)).string()).toBe(text);
  });

  it('reads a BMPString surrogate pair as the astral character', () => {
    expect(readDer(hex('1e 04 d8 3d de 00')).string()).toBe('😀');
  });

  it('refuses a BMPString of odd length', () => {
    expect(derErrorOf(() => readDer(hex('1e 03 00 68 00')).string())).toBe('malformed BMPString');
  });

  it('refuses a UniversalString whose length is not a multiple of four', () => {
    expect(derErrorOf(() => readDer(hex('1c 03 00 00 68')).string())).toBe('malformed UniversalString');
  });

  it('refuses a UniversalString character beyond U+10FFFF with a DerError', () => {
    expect(() => readDer(hex('1c 04 00 11 00 00')).string()).toThrow(DerError);
  });

  it('refuses a UTF8String that is not UTF-8 with a DerError', () => {
    expect(() => readDer(hex('0c 02 c3 28')).string()).toThrow(DerError);
  });

  it('refuses a value that is not a character string', () => {
    expect(derErrorOf(() => readDer(hex('02 01 01')).string())).toBe('tag 0x2 is not a character string');
  });
});

describe('encodeOid', () => {
  it.each([
    ['2.5.29.17'],
    ['1.2.840.113549.1.1.11'],
    ['1.3.6.1.5.5.7.3.1'],
    ['0.9.2342.19200300.100.1.25'],
    ['2.999.3'],
    ['2.39.1'],
    ['2.40.1'],
    ['1.2.3.4294967296'],
    ['2.25.4503599627370496'],
  ])('encodes %s byte for byte as OpenSSL does, and reads back', (oid) => {
    const encoded = encodeOid(oid);
    expect(toHex(encoded)).toBe(opensslGenstr(`OID:${oid}`).toString('hex'));
    expect(readDer(encoded).oid()).toBe(oid);
  });

  it('encodes the first two arcs of 2.999 as one multi-octet subidentifier (1079)', () => {
    expect(toHex(encodeOid('2.999'))).toBe('06028837');
  });
});

describe('encodeUnsignedInteger', () => {
  it.each([
    ['7f', '02017f'],
    ['80', '02020080'],
    ['ff', '020200ff'],
    ['0000007f', '02017f'],
    ['000080', '02020080'],
    ['00007fff', '02027fff'],
    ['00', '020100'],
    ['000000', '020100'],
    ['0100', '02020100'],
  ])('encodes the magnitude %s as %s', (magnitude, expected) => {
    expect(toHex(encodeUnsignedInteger(hex(magnitude)))).toBe(expected);
  });

  it('matches OpenSSL for a 16-octet magnitude with the top bit set', () => {
    const magnitude = hex('8badf00ddeadbeef0123456789abcdef');
    expect(toHex(encodeUnsignedInteger(magnitude))).toBe(opensslGenstr('INTEGER:0x8BADF00DDEADBEEF0123456789ABCDEF').toString('hex'));
    expect(toHex(encodeUnsignedInteger(magnitude))).toBe('021100' + '8badf00ddeadbeef0123456789abcdef');
  });

  it('encodes an empty magnitude as zero, never as a zero-length INTEGER', () => {
    expect(toHex(encodeUnsignedInteger(new Uint8Array(0)))).toBe('020100');
  });
});

describe('encodeNamedBits (X.690 11.2.2)', () => {
  it.each([
    [[0], '03020780'],
    [[0, 2], '030205a0'],
    [[2, 0, 2], '030205a0'],
    [[5, 6], '03020106'],
    [[7], '03020001'],
    [[8], '0303070080'],
    [[0, 8], '0303078080'],
    [[1, 9], '0303064040'],
  ])('encodes bits %j as %s, as OpenSSL does', (bits, expected) => {
    const encoded = encodeNamedBits(bits);
    expect(toHex(encoded)).toBe(expected);
    expect(toHex(encoded)).toBe(opensslGenstr(`FORMAT:BITLIST,BITSTRING:${bits.join(',')}`).toString('hex'));
  });

  it('encodes no bits as an empty bit string with no unused bits', () => {
    expect(toHex(encodeNamedBits([]))).toBe('030100');
  });

  it('sets exactly the named bits when read back', () => {
    const octets = readDer(encodeNamedBits([0, 2, 8])).bitString();
    expect(toHex(octets)).toBe('a080');
  });
});

describe('encodeTime (RFC 5280 4.1.2.5)', () => {
  it('writes UTCTime, Zulu, whole seconds, for a date before 2050', () => {
    const encoded = encodeTime(new Date('2026-03-04T05:06:07.999Z'));
    expect(toHex(encoded)).toBe(opensslGenstr('UTCTIME:260304050607Z').toString('hex'));
    expect(Buffer.from(encoded).toString('latin1')).toBe('\x17\x0d260304050607Z');
  });

  it('writes UTCTime for the last second of 2049', () => {
    const encoded = encodeTime(new Date('2049-12-31T23:59:59Z'));
    expect(toHex(encoded)).toBe(opensslGenstr('UTCTIME:491231235959Z').toString('hex'));
  });

  it('writes GeneralizedTime from the first second of 2050', () => {
    const encoded = encodeTime(new Date('2050-01-01T00:00:00Z'));
    expect(toHex(encoded)).toBe(opensslGenstr('GENTIME:20500101000000Z').toString('hex'));
    expect(encoded[0]).toBe(TAG.GENERALIZED_TIME);
  });

  it('writes GeneralizedTime for a later date', () => {
    expect(Buffer.from(encodeTime(new Date('2123-11-30T12:00:01.5Z'))).toString('latin1')).toBe('\x18\x0f21231130120001Z');
  });

  it('encodes each second as itself while it keeps the last few: any millisecond of a second alike, the next second apart', () => {
    const text = (iso: string) => Buffer.from(encodeTime(new Date(iso))).toString('latin1').slice(2);
    for (let round = 0; round < 2; round++) {
      for (let second = 0; second < 10; second++) {
        const ss = String(second).padStart(2, '0');
        expect(text(`2026-03-04T05:06:${ss}.000Z`)).toBe(`2603040506${ss}Z`);
        expect(text(`2026-03-04T05:06:${ss}.999Z`)).toBe(`2603040506${ss}Z`);
        expect(text(`1969-12-31T23:59:${String(50 + second).padStart(2, '0')}.500Z`)).toBe(`6912312359${50 + second}Z`);
      }
    }
  });
});

describe('encode: lengths', () => {
  it.each([
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
  ])('writes the minimal length for %d content octets', (length, header) => {
    const encoded = encodeOctetString(new Uint8Array(length));
    expect(toHex(encoded.subarray(0, header.length / 2))).toBe(header);
    expect(encoded.length).toBe(header.length / 2 + length);
    expect(readDer(encoded).content.length).toBe(length);
  });

  it('writes long-form lengths that OpenSSL reads', () => {
    const value = sequence(encodeOctetString(new Uint8Array(300)), encodeOctetString(new Uint8Array(200)));
    const lines = opensslAsn1parse(value).trim().split('\n');
    expect(lines[0]).toMatch(/^\s*0:d=0\s+hl=4 l= 507 cons: SEQUENCE/);
    expect(lines[1]).toMatch(/^\s*4:d=1\s+hl=4 l= 300 prim:\s+OCTET STRING/);
    expect(lines[2]).toMatch(/^\s*308:d=1\s+hl=3 l= 200 prim:\s+OCTET STRING/);
  });

  it('concatenates the parts of a value in order', () => {
    expect(toHex(encode(0x30, hex('0500'), hex('0101ff')))).toBe('30050500' + '0101ff');
  });
});

describe('encode: small helpers', () => {
  it('writes DER booleans', () => {
    expect(toHex(encodeBoolean(true))).toBe('0101ff');
    expect(toHex(encodeBoolean(false))).toBe('010100');
  });

  it('writes a whole-octet bit string with zero unused bits', () => {
    expect(toHex(encodeBitString(hex('abcd')))).toBe('030300abcd');
  });

  it('computes context-specific tags', () => {
    expect(contextTag(0, true)).toBe(0xa0);
    expect(contextTag(3, true)).toBe(0xa3);
    expect(contextTag(2, false)).toBe(0x82);
    expect(contextTag(7, false)).toBe(0x87);
  });

  it('writes a structure OpenSSL parses field by field', () => {
    const value = sequence(encodeOid('2.5.29.19'), encodeBoolean(true), encodeOctetString(sequence()));
    expect(opensslAsn1parse(value)).toMatch(/OBJECT\s+:X509v3 Basic Constraints\n.*BOOLEAN\s+:255\n.*OCTET STRING\s+\[HEX DUMP\]:3000/);
  });
});
