import { consistencyProof, EMPTY_ROOT, Frontier, inclusionProof, leafHash, nodeHash, rootFromInclusionProof, treeRoot, verifyConsistency, verifyInclusion, type Subtree } from '../../../src/audit/merkle';

// The test vectors of RFC 6962/9162 trees used by transparency-dev/merkle (testonly/constants.go and
// proof/verify_test.go): eight leaves, their root hashes at every size, and known proofs.
const h = (hex: string) => Buffer.from(hex, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
/** [leaf index, tree size, proof] */
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
/** [first size, second size, proof] */
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

/** Complete subtrees hashed from a list of leaf hashes in memory, as a store would give them. */
function memorySubtrees(leafHashes: readonly Buffer[]) {
  const hash = ({ level, index }: Subtree): Buffer => (level === 0 ? leafHashes[index] : nodeHash(hash({ level: level - 1, index: 2 * index }), hash({ level: level - 1, index: 2 * index + 1 })));
  return async (subtrees: readonly Subtree[]) => subtrees.map(hash);
}

const hashes = LEAVES.map((leaf) => leafHash(leaf));
const subtrees = memorySubtrees(hashes);

describe('RFC 9162 tree hashing', () => {
  it('gives the known root at every size, from stored subtrees and from the writer\'s frontier', async () => {
    const frontier = Frontier.empty();
    expect(frontier.root()).toEqual(EMPTY_ROOT);
    for (let size = 0; size <= 8; size++) {
      expect((await treeRoot(size, subtrees)).toString('hex')).toBe(ROOTS[size].toString('hex'));
      if (size > 0) {
        frontier.append(hashes[size - 1], () => {});
        expect(frontier.root().toString('hex')).toBe(ROOTS[size].toString('hex'));
        expect((await Frontier.of(size, subtrees)).root()).toEqual(ROOTS[size]);
      }
    }
  });

  it('reports each complete subtree as the frontier completes it', () => {
    const completed: string[] = [];
    const frontier = Frontier.empty();
    for (const leaf of hashes) frontier.append(leaf, (subtree) => completed.push(`${subtree.level}/${subtree.index}`));
    expect(completed).toEqual(['1/0', '1/1', '2/0', '1/2', '1/3', '2/1', '3/0']);
  });
});

describe('inclusion proofs (RFC 9162 2.1.3)', () => {
  it.each(INCLUSION)('leaf %i of %i: generates the known proof, which verifies', async (index, size, expected) => {
    const proof = await inclusionProof(index, size, subtrees);
    expect(proof.map((p) => p.toString('hex'))).toEqual(expected);
    expect(verifyInclusion(index, size, hashes[index], proof, ROOTS[size])).toBe(true);
  });

  it('every leaf of every tree up to 8 (and of a tree of 1000) verifies, and nothing else does', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => leafHash(`record ${i}`));
    const manySubtrees = memorySubtrees(many);
    for (const [leaves, source, sizes] of [[hashes, subtrees, [1, 2, 3, 4, 5, 6, 7, 8]], [many, manySubtrees, [1000, 513, 777]]] as const) {
      for (const size of sizes) {
        const root = await treeRoot(size, source);
        for (let index = 0; index < size; index += size > 8 ? 37 : 1) {
          const proof = await inclusionProof(index, size, source);
          expect(verifyInclusion(index, size, leaves[index], proof, root)).toBe(true);
          expect(verifyInclusion(index + 1, size, leaves[index], proof, root)).toBe(false);
          if (proof.length > 0) expect(verifyInclusion(index, size, leaves[index], proof.slice(1), root)).toBe(false);
          expect(verifyInclusion(index, size, leaves[index], [...proof, root], root)).toBe(false);
        }
      }
    }
  });

  it('refuses a wrong leaf, root, index, size, an altered or padded proof', () => {
    const [index, size, hex] = INCLUSION[2];
    const proof = hex.map(h);
    expect(verifyInclusion(index, size, hashes[index], proof, ROOTS[size])).toBe(true);
    expect(verifyInclusion(index, size, hashes[index + 1], proof, ROOTS[size])).toBe(false);
    expect(verifyInclusion(index, size, hashes[index], proof, ROOTS[size - 1])).toBe(false);
    expect(verifyInclusion(index - 1, size, hashes[index], proof, ROOTS[size])).toBe(false);
    expect(verifyInclusion(index, size * 2, hashes[index], proof, ROOTS[size])).toBe(false);
    expect(verifyInclusion(index, size, hashes[index], proof, ROOTS[size])).toBe(true);
    const flipped = proof.map((p) => Buffer.from(p));
    flipped[1][0] ^= 8;
    expect(verifyInclusion(index, size, hashes[index], flipped, ROOTS[size])).toBe(false);
    expect(verifyInclusion(index, size, hashes[index], [Buffer.alloc(32), ...proof], ROOTS[size])).toBe(false);
    expect(verifyInclusion(8, 8, hashes[0], [], ROOTS[8])).toBe(false);
    expect(rootFromInclusionProof(0, 0, hashes[0], [])).toBeUndefined();
  });
});

describe('consistency proofs (RFC 9162 2.1.4)', () => {
  it.each(CONSISTENCY)('from %i to %i: generates the known proof, which verifies', async (first, second, expected) => {
    const proof = await consistencyProof(first, second, subtrees);
    expect(proof.map((p) => p.toString('hex'))).toEqual(expected);
    expect(verifyConsistency(first, second, ROOTS[first], ROOTS[second], proof)).toBe(true);
  });

  it('every pair of sizes up to 8 verifies; swapped roots, altered or truncated proofs do not', async () => {
    for (let first = 1; first <= 8; first++) {
      for (let second = first; second <= 8; second++) {
        const proof = await consistencyProof(first, second, subtrees);
        expect(verifyConsistency(first, second, ROOTS[first], ROOTS[second], proof)).toBe(true);
        if (first === second) continue;
        expect(verifyConsistency(first, second, ROOTS[second], ROOTS[first], proof)).toBe(false);
        expect(verifyConsistency(first, second, ROOTS[first], ROOTS[second], proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(first, second, ROOTS[first], ROOTS[second], [...proof, ROOTS[first]])).toBe(false);
        const altered = proof.map((p) => Buffer.from(p));
        altered[0][0] ^= 16;
        expect(verifyConsistency(first, second, ROOTS[first], ROOTS[second], altered)).toBe(false);
      }
    }
  });

  it('a tree rewritten under the first size is not consistent with it', async () => {
    const rewritten = [...hashes];
    rewritten[2] = leafHash('forged');
    const forged = memorySubtrees(rewritten);
    const proof = await consistencyProof(4, 8, forged);
    expect(verifyConsistency(4, 8, ROOTS[4], await treeRoot(8, forged), proof)).toBe(false);
  });

  it('time travel and empty proofs are refused; the empty tree is consistent with any', () => {
    expect(verifyConsistency(2, 1, ROOTS[2], ROOTS[1], [])).toBe(false);
    expect(verifyConsistency(1, 2, ROOTS[1], ROOTS[2], [])).toBe(false);
    expect(verifyConsistency(0, 3, EMPTY_ROOT, ROOTS[3], [])).toBe(true);
    expect(verifyConsistency(3, 3, ROOTS[3], ROOTS[2], [])).toBe(false);
  });
});
