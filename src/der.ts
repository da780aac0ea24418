// A strict, allocation-light DER reader and writer for the signing path.
//
// Why not asn1js/pkijs here: measured on this machine, asn1js.fromBER alone costs 150–280 µs for a
// 370-byte CSR and pkijs's schema pass doubles it — more than all of the request's cryptography.
// A CSR and a leaf certificate use a dozen universal types, so the codec below reads nodes as
// offsets into the original bytes (no copies) and writes with one allocation per node.
// It accepts DER only (X.690 10): definite, minimal lengths; low tag numbers; bounded depth.

export class DerError extends Error {
  override readonly name = 'DerError';
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n]: constructed (EXPLICIT or structured IMPLICIT) or primitive. */
export const contextTag = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

const MAX_DEPTH = 32;

/** One TLV, as offsets into the bytes it was read from. */
export class DerNode {
  constructor(
    readonly bytes: Uint8Array,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
    private readonly depth: number,
  ) {}

  /** The whole TLV, without copying. */
  get encoded(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }

  /** The contents octets, without copying. */
  get content(): Uint8Array {
    return this.bytes.subarray(this.contentStart, this.end);
  }

  get constructed(): boolean {
    return (this.tag & 0x20) !== 0;
  }

  expect(tag: number, what: string): this {
    if (this.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${this.tag.toString(16)}`);
    return this;
  }

  /** The children of a constructed node; they must fill it exactly. */
  children(): DerNode[] {
    if (!this.constructed) throw new DerError('expected a constructed value');
    if (this.depth >= MAX_DEPTH) throw new DerError('nested too deeply');
    const nodes: DerNode[] = [];
    let offset = this.contentStart;
    while (offset < this.end) {
      const node = readNode(this.bytes, offset, this.end, this.depth + 1);
      nodes.push(node);
      offset = node.end;
    }
    return nodes;
  }

  /**
   * Reads every constructed node below this one, so that the whole subtree is known to be DER.
   * For structures copied byte for byte into a certificate (the subject, the public key).
   */
  validate(): this {
    if (this.constructed) for (const child of this.children()) child.validate();
    else if (this.tag === TAG.OID) this.oid();
    else if (this.tag === TAG.BOOLEAN) this.boolean();
    else if (this.tag === TAG.INTEGER) this.minimalInteger();
    return this;
  }

  /** X.690 8.3.2: an INTEGER has contents, and no leading octet that only repeats the sign. */
  private minimalInteger(): Uint8Array {
    const content = this.content;
    if (content.length === 0) throw new DerError('integer out of range');
    if (content.length > 1 && ((content[0] === 0 && (content[1] & 0x80) === 0) || (content[0] === 0xff && (content[1] & 0x80) !== 0))) {
      throw new DerError('integer is not minimally encoded');
    }
    return content;
  }

  /** The only child of an EXPLICIT wrapper or an OCTET STRING holding DER. */
  inner(): DerNode {
    const start = this.contentStart;
    const node = readNode(this.bytes, start, this.end, this.depth + 1);
    if (node.end !== this.end) throw new DerError('trailing bytes inside a value');
    return node;
  }

  oid(): string {
    this.expect(TAG.OID, 'object identifier');
    const content = this.content;
    if (content.length === 0 || (content[content.length - 1] & 0x80) !== 0) throw new DerError('malformed object identifier');
    const arcs: number[] = [];
    let value = 0;
    for (let i = 0; i < content.length; i++) {
      if (value === 0 && content[i] === 0x80) throw new DerError('object identifier arc is not minimal');
      value = value * 128 + (content[i] & 0x7f);
      if (value > Number.MAX_SAFE_INTEGER) throw new DerError('object identifier arc too large');
      if ((content[i] & 0x80) === 0) {
        if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
        else arcs.push(value);
        value = 0;
      }
    }
    return arcs.join('.');
  }

  /** A small non-negative INTEGER (versions, salt lengths). */
  smallInteger(): number {
    const value = this.unsignedInteger();
    if (value > 0x7fffffffn) throw new DerError('integer out of range');
    return Number(value);
  }

  /** A non-negative INTEGER of any size (RFC 5280 allows path lengths beyond 2^31). */
  unsignedInteger(): bigint {
    const content = this.expect(TAG.INTEGER, 'integer').minimalInteger();
    if ((content[0] & 0x80) !== 0) throw new DerError('integer out of range');
    let value = 0n;
    for (const byte of content) value = (value << 8n) | BigInt(byte);
    return value;
  }

  boolean(): boolean {
    const content = this.expect(TAG.BOOLEAN, 'boolean').content;
    // X.690 11.1: DER encodes TRUE as 0xFF.
    if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new DerError('malformed boolean');
    return content[0] === 0xff;
  }

  /** BIT STRING contents without the unused-bits octet. */
  bitString(): Uint8Array {
    const content = this.expect(TAG.BIT_STRING, 'bit string').content;
    if (content.length === 0 || content[0] > 7 || (content.length === 1 && content[0] !== 0)) throw new DerError('malformed bit string');
    // X.690 11.2.1: DER sets the unused bits to zero.
    if (content.length > 1 && (content[content.length - 1] & ((1 << content[0]) - 1)) !== 0) throw new DerError('bit string has non-zero unused bits');
    return content.subarray(1);
  }

  /** The text of a character string type. */
  string(): string {
    try {
      return this.decodeString();
    } catch (error) {
      if (error instanceof DerError) throw error;
      throw new DerError('malformed character string');
    }
  }

  private decodeString(): string {
    const content = this.content;
    const buffer = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    switch (this.tag) {
      case TAG.UTF8_STRING:
        return new TextDecoder('utf-8', { fatal: true }).decode(content);
      case TAG.NUMERIC_STRING:
      case TAG.PRINTABLE_STRING:
      case TAG.IA5_STRING:
      case TAG.VISIBLE_STRING:
      case TAG.T61_STRING:
        return buffer.toString('latin1');
      case TAG.BMP_STRING:
        if (content.length % 2 !== 0) throw new DerError('malformed BMPString');
        return Buffer.from(buffer).swap16().toString('utf16le');
      case TAG.UNIVERSAL_STRING: {
        if (content.length % 4 !== 0) throw new DerError('malformed UniversalString');
        let text = '';
        for (let i = 0; i < content.length; i += 4) text += String.fromCodePoint(buffer.readUInt32BE(i));
        return text;
      }
      default:
        throw new DerError(`tag 0x${this.tag.toString(16)} is not a character string`);
    }
  }
}

/** Reads exactly one DER value that spans all of `bytes`. */
export function readDer(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0, bytes.length, 0);
  if (node.end !== bytes.length) throw new DerError('trailing bytes after the DER value');
  return node;
}

function readNode(bytes: Uint8Array, offset: number, limit: number, depth: number): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw new DerError('indefinite length is not DER');
    if (octets > 4) throw new DerError('length too large');
    if (contentStart + octets > limit) throw new DerError('truncated');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[contentStart + i];
    // X.690 10.1: the shortest length form.
    if (length < 0x80 || bytes[contentStart] === 0) throw new DerError('length is not minimally encoded');
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated');
  return new DerNode(bytes, tag, offset, contentStart, end, depth);
}

// ---- writing ----

/** X.690 8.1.3: how many octets follow the first length octet (0: the short form). */
const longLengthOctets = (length: number): number => (length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4);

/** Encodes one TLV whose contents are the concatenation of `parts`; its one allocation is the result. */
export function encode(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const octets = longLengthOctets(length);
  const out = new Uint8Array(2 + octets + length);
  out[0] = tag;
  if (octets === 0) out[1] = length;
  else {
    out[1] = 0x80 | octets;
    for (let i = octets, rest = length; i > 0; i--, rest = Math.floor(rest / 256)) out[1 + i] = rest & 0xff;
  }
  let offset = 2 + octets;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const sequence = (...parts: readonly Uint8Array[]): Uint8Array => encode(TAG.SEQUENCE, ...parts);

/** Whether `text` is a dotted OID that X.660 allows: first arc 0–2, second arc < 40 under 0 and 1. */
export function isValidOid(text: string): boolean {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(text)) return false;
  const [first, second] = text.split('.');
  return first === '2' || BigInt(second) < 40n;
}

// The OIDs a CA writes are few and come from code and config (extensions, purposes, attribute
// types, algorithms), and every certificate writes them again: each is encoded once. Bounded, in
// case a caller ever passes OIDs without end. The encodings are shared: never write into one.
const encodedOids = new Map<string, Uint8Array>();
const MAX_ENCODED_OIDS = 256;

/** X.690 8.19: arcs in base 128, any size (BigInt: long arcs such as UUID OIDs stay exact). */
export function encodeOid(oid: string): Uint8Array {
  const known = encodedOids.get(oid);
  if (known) return known;
  const encoded = encodeNewOid(oid);
  if (encodedOids.size < MAX_ENCODED_OIDS) encodedOids.set(oid, encoded);
  return encoded;
}

function encodeNewOid(oid: string): Uint8Array {
  if (!isValidOid(oid)) throw new DerError(`${JSON.stringify(oid)} is not a valid object identifier`);
  const arcs = oid.split('.').map(BigInt);
  const out: number[] = [];
  const push = (value: bigint) => {
    const septets = [Number(value & 0x7fn)];
    for (let v = value >> 7n; v > 0n; v >>= 7n) septets.unshift(0x80 | Number(v & 0x7fn));
    out.push(...septets);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return encode(TAG.OID, Uint8Array.from(out));
}

/** A non-negative INTEGER from its unsigned big-endian magnitude. */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  if (magnitude.length === 0) return encode(TAG.INTEGER, Uint8Array.of(0));
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return (trimmed[0] & 0x80) !== 0 ? encode(TAG.INTEGER, Uint8Array.of(0), trimmed) : encode(TAG.INTEGER, trimmed);
}

export const encodeBoolean = (value: boolean): Uint8Array => encode(TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0));

export const encodeOctetString = (content: Uint8Array): Uint8Array => encode(TAG.OCTET_STRING, content);

/** A BIT STRING of whole octets. */
export const encodeBitString = (content: Uint8Array): Uint8Array => encode(TAG.BIT_STRING, Uint8Array.of(0), content);

/** A named-bit BIT STRING (X.690 11.2.2: trailing zero bits removed) from bit positions. */
export function encodeNamedBits(bits: readonly number[]): Uint8Array {
  const highest = Math.max(-1, ...bits);
  if (highest < 0) return encode(TAG.BIT_STRING, Uint8Array.of(0));
  const octets = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) octets[bit >> 3] |= 0x80 >> (bit & 7);
  return encode(TAG.BIT_STRING, Uint8Array.of(7 - (highest & 7)), octets);
}

// Every certificate issued in the same second has the same notBefore and notAfter: the last few
// encodings are kept. They are shared, as the OIDs' are: never write into one.
const encodedTimes = new Map<number, Uint8Array>();
const MAX_ENCODED_TIMES = 4;

/** RFC 5280 4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; always Zulu, whole seconds. */
export function encodeTime(date: Date): Uint8Array {
  const second = Math.floor(date.getTime() / 1000);
  const known = encodedTimes.get(second);
  if (known) return known;
  const encoded = encodeNewTime(date);
  if (encodedTimes.size >= MAX_ENCODED_TIMES) encodedTimes.delete(encodedTimes.keys().next().value!);
  encodedTimes.set(second, encoded);
  return encoded;
}

function encodeNewTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? encode(TAG.UTC_TIME, Buffer.from(digits.slice(2), 'latin1')) : encode(TAG.GENERALIZED_TIME, Buffer.from(digits, 'latin1'));
}
