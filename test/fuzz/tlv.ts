// The fuzz test's own DER handling, written apart from src/der.ts: a lenient reader that finds every
// TLV (so mutations can aim at tags, length octets and content boundaries), a tree that can be
// edited and re-encoded with chosen (even lying) length octets, and a strict reader for the oracle.

/** One TLV found in a byte string, by offsets. */
export interface TlvSpan {
  readonly tag: number;
  readonly start: number;
  /** Offset of the first length octet. */
  readonly lengthStart: number;
  readonly contentStart: number;
  readonly end: number;
  readonly depth: number;
  readonly constructed: boolean;
}

/** Reads the header at `offset`; undefined when it does not fit in `limit` or is not definite. */
function header(bytes: Uint8Array, offset: number, limit: number): { tag: number; contentStart: number; end: number } | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || contentStart + octets > limit) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[contentStart + i];
    contentStart += octets;
  }
  const end = contentStart + length;
  return end > limit ? undefined : { tag, contentStart, end };
}

/**
 * Every TLV reachable from offset 0, depth first, reading constructed values as far as they parse.
 * Nothing is validated beyond what is needed to find the spans.
 */
export function spans(bytes: Uint8Array): TlvSpan[] {
  const out: TlvSpan[] = [];
  const visit = (offset: number, limit: number, depth: number): void => {
    while (offset < limit && depth < 64) {
      const found = header(bytes, offset, limit);
      if (!found) return;
      const constructed = (found.tag & 0x20) !== 0;
      out.push({ tag: found.tag, start: offset, lengthStart: offset + 1, contentStart: found.contentStart, end: found.end, depth, constructed });
      if (constructed) visit(found.contentStart, found.end, depth + 1);
      offset = found.end;
    }
  };
  visit(0, bytes.length, 0);
  return out;
}

// ---- an editable tree ----

export interface TreeNode {
  tag: number;
  /** Children of a constructed node that parsed; otherwise undefined and `content` holds the bytes. */
  children?: TreeNode[];
  content?: Buffer;
  /** Length octets to write instead of the true minimal ones (a lie, or a non-minimal form). */
  lengthOctets?: (trueLength: number) => Buffer;
}

/** Parses `bytes` as one TLV into a tree; a constructed value whose contents do not parse stays opaque. */
export function parseTree(bytes: Uint8Array): TreeNode | undefined {
  const read = (offset: number, limit: number, depth: number): TreeNode[] | undefined => {
    const nodes: TreeNode[] = [];
    while (offset < limit) {
      const found = header(bytes, offset, limit);
      if (!found) return undefined;
      const content = Buffer.from(bytes.subarray(found.contentStart, found.end));
      const constructed = (found.tag & 0x20) !== 0;
      const children = constructed && depth < 48 ? read(found.contentStart, found.end, depth + 1) : undefined;
      nodes.push(children ? { tag: found.tag, children } : { tag: found.tag, content });
      offset = found.end;
    }
    return nodes;
  };
  const nodes = read(0, bytes.length, 0);
  return nodes && nodes.length === 1 ? nodes[0] : undefined;
}

/** Minimal DER length octets. */
export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function encodeTree(node: TreeNode): Buffer {
  const content = node.children ? Buffer.concat(node.children.map(encodeTree)) : node.content ?? Buffer.alloc(0);
  const length = node.lengthOctets ? node.lengthOctets(content.length) : derLength(content.length);
  return Buffer.concat([Buffer.of(node.tag), length, content]);
}

/** Every node of a tree with its path (child indexes from the root), depth first. */
export function nodesOf(root: TreeNode): { node: TreeNode; path: number[]; parent?: TreeNode }[] {
  const out: { node: TreeNode; path: number[]; parent?: TreeNode }[] = [];
  const visit = (node: TreeNode, path: number[], parent?: TreeNode) => {
    out.push(parent ? { node, path, parent } : { node, path });
    node.children?.forEach((child, i) => visit(child, [...path, i], node));
  };
  visit(root, []);
  return out;
}

export function cloneTree(node: TreeNode): TreeNode {
  return {
    tag: node.tag,
    ...(node.children ? { children: node.children.map(cloneTree) } : {}),
    ...(node.content ? { content: Buffer.from(node.content) } : {}),
    ...(node.lengthOctets ? { lengthOctets: node.lengthOctets } : {}),
  };
}

/** A TLV with minimal length, from tag and content. */
export const tlv = (tag: number, ...parts: readonly Uint8Array[]): Buffer => {
  const content = Buffer.concat(parts);
  return Buffer.concat([Buffer.of(tag), derLength(content.length), content]);
};

// ---- a strict reader for the oracle ----

/** A TLV read strictly (definite, minimal lengths), as views into the original bytes. */
export interface StrictTlv {
  readonly tag: number;
  readonly encoded: Buffer;
  readonly content: Buffer;
}

export class StrictDerError extends Error {}

/** Reads exactly one strict DER TLV at `offset` of `bytes`, within `limit`. */
export function strictTlv(bytes: Buffer, offset = 0, limit = bytes.length): StrictTlv {
  if (offset + 2 > limit) throw new StrictDerError('truncated header');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new StrictDerError('high tag number');
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length === 0x80) throw new StrictDerError('indefinite length');
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets > 4 || contentStart + octets > limit) throw new StrictDerError('bad long-form length');
    if (bytes[contentStart] === 0) throw new StrictDerError('non-minimal length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[contentStart + i];
    if (length < 0x80) throw new StrictDerError('non-minimal length');
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new StrictDerError('content runs past its container');
  return { tag, encoded: bytes.subarray(offset, end), content: bytes.subarray(contentStart, end) };
}

/** Reads a whole buffer as one strict TLV, with nothing after it. */
export function strictRoot(bytes: Buffer): StrictTlv {
  const node = strictTlv(bytes);
  if (node.encoded.length !== bytes.length) throw new StrictDerError('trailing bytes');
  return node;
}

/** The children of a constructed strict TLV, which must fill it exactly. */
export function strictChildren(node: StrictTlv): StrictTlv[] {
  if ((node.tag & 0x20) === 0) throw new StrictDerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: StrictTlv[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const child = strictTlv(node.content, offset);
    out.push(child);
    offset += child.encoded.length;
  }
  return out;
}

export function expectTag(node: StrictTlv | undefined, tag: number, what: string): StrictTlv {
  if (!node) throw new StrictDerError(`${what} is missing`);
  if (node.tag !== tag) throw new StrictDerError(`${what}: tag 0x${node.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return node;
}

/** Dotted text of an OBJECT IDENTIFIER's contents (X.690 8.19), strictly. */
export function oidText(node: StrictTlv): string {
  expectTag(node, 0x06, 'object identifier');
  const bytes = node.content;
  if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== 0) throw new StrictDerError('malformed OID');
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of bytes) {
    if (fresh && byte === 0x80) throw new StrictDerError('non-minimal OID arc');
    value = value * 128n + BigInt(byte & 0x7f);
    fresh = false;
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80n ? value / 40n : 2n, value < 80n ? value % 40n : value - 80n);
      else arcs.push(value);
      value = 0n;
      fresh = true;
    }
  }
  return arcs.join('.');
}
