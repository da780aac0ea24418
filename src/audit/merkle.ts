import { createHash, hash } from 'node:crypto';

// RFC 9162 2.1: the Merkle tree hash of a list of leaves, its inclusion and consistency proofs, and
// their verifiers. A chain's leaves are its records' body texts (UTF-8), leaf i being record i + 1.

// One-shot hashes (a record's leaf, ~1 node a record): createHash() makes a native object each time,
// which the garbage collector must finalize, and costs ~1.5 µs more for a record's leaf.
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** RFC 9162 2.1.1: a leaf's hash is SHA-256(0x00 || leaf); U+0000 is the byte 0x00 in UTF-8. */
export const leafHash = (leaf: string | Uint8Array): Buffer => hash('sha256', typeof leaf === 'string' ? `\u0000${leaf}` : Buffer.concat([LEAF, leaf]), 'buffer');

/** RFC 9162 2.1.1: an interior node's hash is SHA-256(0x01 || left || right). */
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer => hash('sha256', Buffer.concat([NODE, left, right]), 'buffer');

/** The hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** The complete subtree of 2^level leaves starting at leaf index << level. */
export interface Subtree {
  readonly level: number;
  readonly index: number;
}

/** The hashes of complete subtrees, in the order asked, however they are stored. */
export type SubtreeHashes = (subtrees: readonly Subtree[]) => Promise<Buffer[]>;

/** RFC 9162 2.1.1's k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && split(n + 1) === n;
const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/** A range of leaves [start, end), as RFC 9162 splits it into complete subtrees (in tree order). */
function forEachSubtree(start: number, end: number, visit: (subtree: Subtree) => void): void {
  const size = end - start;
  if (isPowerOfTwo(size) && start % size === 0) return visit({ level: Math.log2(size), index: start / size });
  const k = split(size);
  forEachSubtree(start, start + k, visit);
  forEachSubtree(start + k, end, visit);
}

/** MTH(D[start:end]) from the hashes of its complete subtrees. */
function rangeHash(start: number, end: number, known: ReadonlyMap<string, Buffer>): Buffer {
  const size = end - start;
  if (isPowerOfTwo(size) && start % size === 0) return known.get(`${Math.log2(size)}/${start / size}`)!;
  const k = split(size);
  return nodeHash(rangeHash(start, start + k, known), rangeHash(start + k, end, known));
}

/** The hashes of leaf ranges, fetching every complete subtree they need in one call. */
async function rangeHashes(ranges: readonly (readonly [number, number])[], subtrees: SubtreeHashes): Promise<Buffer[]> {
  const needed = new Map<string, Subtree>();
  for (const [start, end] of ranges) forEachSubtree(start, end, (subtree) => needed.set(`${subtree.level}/${subtree.index}`, subtree));
  const hashes = await subtrees([...needed.values()]);
  const known = new Map([...needed.keys()].map((key, i) => [key, hashes[i]]));
  return ranges.map(([start, end]) => rangeHash(start, end, known));
}

/** MTH of the first `size` leaves. */
export async function treeRoot(size: number, subtrees: SubtreeHashes): Promise<Buffer> {
  return size === 0 ? EMPTY_ROOT : (await rangeHashes([[0, size]], subtrees))[0];
}

/** RFC 9162 2.1.3.1 PATH(m, D[n]): the leaf ranges whose hashes prove leaf m in the tree of size n. */
function inclusionRanges(m: number, n: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0, end = n; end - start > 1; ) {
    const k = split(end - start);
    if (m < start + k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
    }
  }
  return ranges.reverse();
}

/** RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as leaf ranges. */
function consistencyRanges(m: number, n: number): [number, number][] {
  const ranges: [number, number][] = [];
  if (m === 0 || m === n) return ranges;
  for (let start = 0, end = n, b = true; ; ) {
    const size = end - start;
    if (m === size) {
      if (!b) ranges.push([start, end]);
      break;
    }
    const k = split(size);
    if (m <= k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
      b = false;
    }
  }
  return ranges.reverse();
}

export const inclusionProof = (index: number, size: number, subtrees: SubtreeHashes): Promise<Buffer[]> => rangeHashes(inclusionRanges(index, size), subtrees);
export const consistencyProof = (first: number, second: number, subtrees: SubtreeHashes): Promise<Buffer[]> => rangeHashes(consistencyRanges(first, second), subtrees);

/** RFC 9162 2.1.3.2 and 2.1.4.2: "until LSB(fn) is set or fn is 0, right-shift fn and sn". */
function upToRightChild(fn: number, sn: number): [number, number] {
  while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
  return [fn, sn];
}

/** RFC 9162 2.1.3.2: the root an inclusion proof leads to, or undefined when the proof cannot be one. */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer | undefined {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size) || leaf.length !== 32) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return undefined;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      [fn, sn] = upToRightChild(fn, sn);
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  return computed !== undefined && computed.equals(root);
}

/** RFC 9162 2.1.4.2: the tree of size `second` (root `secondRoot`) extends the tree of size `first`. */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second) && first >= 0 && first <= second)) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((p) => p.length !== 32)) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      [fn, sn] = upToRightChild(fn, sn);
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/**
 * The right edge of a growing tree (a compact range from leaf 0): one complete subtree per set bit
 * of the size, largest first. Appending a leaf merges equal subtrees, reporting each one completed,
 * so the writer stores them as it goes: O(1) hashes per leaf on average, never a walk of the tree.
 */
export class Frontier {
  private constructor(
    private readonly edge: { level: number; hash: Buffer }[],
    private leaves: number,
  ) {}

  static empty(): Frontier {
    return new Frontier([], 0);
  }

  /** The frontier of the tree of `size` leaves, from its stored subtrees. */
  static async of(size: number, subtrees: SubtreeHashes): Promise<Frontier> {
    const edge: Subtree[] = [];
    for (let start = 0, level = 62; level >= 0; level--) {
      const width = 2 ** level;
      if (start + width <= size) {
        edge.push({ level, index: start / width });
        start += width;
      }
    }
    const hashes = await subtrees(edge);
    return new Frontier(edge.map((subtree, i) => ({ level: subtree.level, hash: hashes[i] })), size);
  }

  get size(): number {
    return this.leaves;
  }

  clone(): Frontier {
    return new Frontier([...this.edge], this.leaves);
  }

  /** Adds a leaf hash; `completed` hears of each complete subtree (level ≥ 1) it finishes. */
  append(leaf: Buffer, completed: (subtree: Subtree, hash: Buffer) => void): void {
    const index = this.leaves;
    let hash = leaf;
    let level = 0;
    while (this.edge.length > 0 && this.edge[this.edge.length - 1].level === level) {
      hash = nodeHash(this.edge.pop()!.hash, hash);
      level += 1;
      completed({ level, index: Math.floor(index / 2 ** level) }, hash);
    }
    this.edge.push({ level, hash });
    this.leaves += 1;
  }

  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_ROOT;
    let root = this.edge[this.edge.length - 1].hash;
    for (let i = this.edge.length - 2; i >= 0; i--) root = nodeHash(this.edge[i].hash, root);
    return root;
  }
}
