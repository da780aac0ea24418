// Mutations of DER requests: blind byte edits, edits aimed at TLV boundaries and length octets, and
// edits of the parsed tree (re-encoded with consistent lengths, so the damage lands deep inside).
import { nested, oddOid } from './csr_generator';
import type { Prng } from './prng';
import { cloneTree, derLength, encodeTree, nodesOf, parseTree, spans, tlv, type TlvSpan, type TreeNode } from './tlv';

export interface Mutation {
  readonly bytes: Buffer;
  readonly description: string;
}

// ---- length lies ----

export const LENGTH_LIES = ['plus-one', 'minus-one', 'zero', 'indefinite', 'non-minimal', 'non-minimal-2', 'huge', 'five-octets', 'ff', 'to-end', 'short-form-max', 'double'] as const;
export type LengthLie = (typeof LENGTH_LIES)[number];

/** The length octets to write for a value whose true length is `length`, under `lie`. */
export function lieOctets(lie: LengthLie, length: number, remaining: number): Buffer {
  switch (lie) {
    case 'plus-one':
      return derLength(length + 1);
    case 'minus-one':
      return derLength(Math.max(0, length - 1));
    case 'zero':
      return Buffer.of(0);
    case 'indefinite':
      return Buffer.of(0x80);
    case 'non-minimal': // one octet more than needed
      return length < 0x80 ? Buffer.of(0x81, length) : Buffer.concat([Buffer.of(derLength(length)[0] + 1, 0), derLength(length).subarray(1)]);
    case 'non-minimal-2':
      return Buffer.from([0x84, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
    case 'huge':
      return Buffer.of(0x84, 0xff, 0xff, 0xff, 0xff);
    case 'five-octets':
      return Buffer.of(0x85, 0, 0, 0, 0, length & 0xff);
    case 'ff':
      return Buffer.of(0xff);
    case 'to-end':
      return derLength(remaining);
    case 'short-form-max':
      return Buffer.of(0x7f);
    case 'double':
      return derLength(length * 2);
  }
}

/** Rewrites the length octets of the TLV at `span` (ancestors keep theirs, so they now lie too or not). */
export function lieAt(bytes: Buffer, span: TlvSpan, lie: LengthLie): Buffer {
  const length = span.end - span.contentStart;
  const octets = lieOctets(lie, length, bytes.length - span.contentStart);
  return Buffer.concat([bytes.subarray(0, span.lengthStart), octets, bytes.subarray(span.contentStart)]);
}

/** The offsets worth truncating at for one TLV: before and after its tag, its length, its first and last content byte. */
export function truncationOffsets(bytes: Buffer): number[] {
  const offsets = new Set<number>([0, 1, bytes.length - 1]);
  for (const span of spans(bytes)) {
    for (const offset of [span.start, span.start + 1, span.lengthStart + 1, span.contentStart, span.contentStart + 1, span.end - 1, span.end]) {
      if (offset >= 0 && offset < bytes.length) offsets.add(offset);
    }
  }
  return [...offsets].sort((a, b) => a - b);
}

// ---- blind and aimed byte mutations ----

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x1e, 0x1f, 0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xa0, 0xa3, 0xff];

/** One or a few byte-level mutations of `input`. `donors` are other requests to splice from. */
export function mutateBytes(rng: Prng, input: Buffer, donors: readonly Buffer[]): Mutation {
  let bytes = input;
  const steps: string[] = [];
  for (let count = rng.weighted([[70, 1], [20, 2], [10, 4]]); count > 0; count--) {
    const found = spans(bytes);
    const span = found.length > 0 ? rng.pick(found) : undefined;
    const op = rng.weighted<string>([[14, 'bitflip'], [8, 'byte'], [8, 'insert'], [8, 'delete'], [4, 'duplicate'], [12, 'truncate'], [16, 'length-lie'], [8, 'tag'], [6, 'splice'], [4, 'append'], [4, 'garbage-content'], [4, 'swap'], [4, 'zero-run']]);
    const at = rng.below(bytes.length + 1);
    switch (op) {
      case 'bitflip': {
        const out = Buffer.from(bytes);
        const flips = rng.int(1, 8);
        for (let i = 0; i < flips && out.length > 0; i++) {
          const position = rng.below(out.length);
          out[position] ^= 1 << rng.below(8);
        }
        bytes = out;
        steps.push(`flip ${flips} bit(s)`);
        break;
      }
      case 'byte': {
        if (bytes.length === 0) break;
        const out = Buffer.from(bytes);
        const position = rng.below(out.length);
        out[position] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
        bytes = out;
        steps.push(`set byte ${position} to 0x${out[position].toString(16)}`);
        break;
      }
      case 'insert': {
        const insert = rng.chance(0.5) ? rng.bytes(rng.int(1, 16)) : Buffer.alloc(rng.int(1, 8), rng.pick(INTERESTING_BYTES));
        bytes = Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
        steps.push(`insert ${insert.length} byte(s) at ${at}`);
        break;
      }
      case 'delete': {
        const length = rng.int(1, 16);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
        steps.push(`delete ${length} byte(s) at ${at}`);
        break;
      }
      case 'duplicate': {
        const length = rng.int(1, 64);
        bytes = Buffer.concat([bytes.subarray(0, at + length), bytes.subarray(at, at + length), bytes.subarray(at + length)]);
        steps.push(`duplicate ${length} byte(s) at ${at}`);
        break;
      }
      case 'truncate': {
        const offsets = truncationOffsets(bytes);
        const offset = rng.pick(offsets.length > 0 ? offsets : [0]);
        bytes = bytes.subarray(0, offset);
        steps.push(`truncate at ${offset}`);
        break;
      }
      case 'length-lie': {
        if (!span) break;
        const lie = rng.pick(LENGTH_LIES);
        bytes = lieAt(bytes, span, lie);
        steps.push(`length lie ${lie} on the TLV at ${span.start}`);
        break;
      }
      case 'tag': {
        if (!span) break;
        const out = Buffer.from(bytes);
        out[span.start] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : out[span.start] ^ 0x20;
        bytes = out;
        steps.push(`tag at ${span.start} to 0x${out[span.start].toString(16)}`);
        break;
      }
      case 'splice': {
        const donor = rng.pick(donors);
        const donorSpans = spans(donor);
        if (!span || donorSpans.length === 0) break;
        const piece = rng.pick(donorSpans);
        bytes = Buffer.concat([bytes.subarray(0, span.start), donor.subarray(piece.start, piece.end), bytes.subarray(span.end)]);
        steps.push(`splice a donor TLV over the TLV at ${span.start}`);
        break;
      }
      case 'append': {
        const extra = rng.chance(0.5) ? rng.bytes(rng.int(1, 32)) : Buffer.of(0, 0);
        bytes = Buffer.concat([bytes, extra]);
        steps.push(`append ${extra.length} byte(s)`);
        break;
      }
      case 'garbage-content': {
        if (!span) break;
        const garbage = Buffer.concat(Array.from({ length: rng.int(1, 6) }, () => tlv(rng.pick(INTERESTING_BYTES), rng.bytes(rng.int(0, 12)))));
        bytes = Buffer.concat([bytes.subarray(0, span.contentStart), garbage, bytes.subarray(span.end)]);
        steps.push(`garbage contents in the TLV at ${span.start}`);
        break;
      }
      case 'swap': {
        if (found.length < 2) break;
        const [a, b] = [rng.pick(found), rng.pick(found)].sort((x, y) => x.start - y.start);
        if (a.end > b.start) break;
        bytes = Buffer.concat([bytes.subarray(0, a.start), bytes.subarray(b.start, b.end), bytes.subarray(a.end, b.start), bytes.subarray(a.start, a.end), bytes.subarray(b.end)]);
        steps.push(`swap TLVs at ${a.start} and ${b.start}`);
        break;
      }
      default: {
        const length = rng.int(1, 32);
        const out = Buffer.from(bytes);
        out.fill(rng.chance(0.5) ? 0 : 0xff, at, Math.min(out.length, at + length));
        bytes = out;
        steps.push(`fill ${length} byte(s) at ${at}`);
      }
    }
  }
  return { bytes, description: steps.join('; ') };
}

// ---- tree mutations ----

const TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x1e, 0x1c, 0x30, 0x31, 0xa0, 0xa3, 0x80, 0x82, 0x87];

/**
 * Structural mutations of a parsed TLV tree (`root` is not changed): delete, duplicate, swap,
 * replace by a donor node or by garbage, retag, nest hundreds deep, enormous OIDs, non-minimal or
 * indefinite lengths whose surroundings stay consistent.
 */
export function mutateTree(rng: Prng, root: TreeNode, donors: readonly TreeNode[]): Mutation {
  const tree = cloneTree(root);
  const steps: string[] = [];
  for (let count = rng.weighted([[75, 1], [20, 2], [5, 3]]); count > 0; count--) {
    const all = nodesOf(tree).filter((entry) => entry.parent);
    if (all.length === 0) break;
    const { node, parent, path } = rng.pick(all);
    const siblings = parent!.children!;
    const index = path[path.length - 1];
    const where = `node ${path.join('.')} (tag 0x${node.tag.toString(16)})`;
    const op = rng.weighted<string>([[10, 'delete'], [10, 'duplicate'], [6, 'swap'], [10, 'donor'], [8, 'garbage'], [8, 'retag'], [8, 'nest'], [5, 'oid'], [8, 'non-minimal'], [3, 'indefinite'], [6, 'insert-child'], [6, 'content'], [4, 'empty'], [4, 'huge-content']]);
    switch (op) {
      case 'delete':
        siblings.splice(index, 1);
        break;
      case 'duplicate':
        siblings.splice(index, 0, ...Array.from({ length: rng.weighted([[80, 1], [15, 3], [5, 200]]) }, () => cloneTree(node)));
        break;
      case 'swap': {
        const other = rng.below(siblings.length);
        [siblings[index], siblings[other]] = [siblings[other], siblings[index]];
        break;
      }
      case 'donor':
        siblings[index] = cloneTree(rng.pick(donors.flatMap((d) => nodesOf(d).map((e) => e.node))));
        break;
      case 'garbage':
        siblings[index] = { tag: rng.pick(TAGS), content: rng.bytes(rng.size(64)) };
        break;
      case 'retag':
        node.tag = rng.chance(0.8) ? rng.pick(TAGS) : rng.below(256);
        break;
      case 'nest':
        siblings[index] = parseTree(nested(rng.weighted([[50, rng.int(1, 40)], [40, rng.int(100, 600)], [10, rng.int(600, 3000)]]), encodeTree(node), rng.pick([0x30, 0x30, 0x31, 0xa0]))) ?? node;
        break;
      case 'oid':
        siblings[index] = parseTree(oddOid(rng)) ?? node;
        break;
      case 'non-minimal':
        node.lengthOctets = (length) => lieOctets(rng.pick(['non-minimal', 'non-minimal-2'] as const), length, 0);
        break;
      case 'indefinite': {
        // BER indefinite length with its end-of-contents octets: well-formed BER, never DER.
        const content = node.children ? Buffer.concat(node.children.map(encodeTree)) : node.content ?? Buffer.alloc(0);
        siblings[index] = { tag: node.tag, content: Buffer.concat([content, Buffer.of(0, 0)]), lengthOctets: () => Buffer.of(0x80) };
        break;
      }
      case 'insert-child':
        if (node.children) node.children.splice(rng.below(node.children.length + 1), 0, { tag: rng.pick(TAGS), content: rng.bytes(rng.size(16)) });
        else siblings.splice(index + 1, 0, { tag: rng.pick(TAGS), content: rng.bytes(rng.size(16)) });
        break;
      case 'content':
        if (node.content && node.content.length > 0) {
          const content = Buffer.from(node.content);
          content[rng.below(content.length)] ^= 1 << rng.below(8);
          node.content = content;
        } else {
          node.content = rng.bytes(rng.size(32));
          delete node.children;
        }
        break;
      case 'empty':
        delete node.children;
        node.content = Buffer.alloc(0);
        break;
      default:
        delete node.children;
        node.content = Buffer.alloc(rng.int(2000, 30000), rng.pick([0x00, 0x41, 0xff, 0x30]));
    }
    steps.push(`${op} ${where}`);
  }
  return { bytes: encodeTree(tree), description: steps.join('; ') };
}
