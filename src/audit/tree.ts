import { Frontier, nodeHash, type Subtree, type SubtreeHashes } from './merkle';
import type { AuditReader, TreeNode } from './store';

// A chain's Merkle tree as the stores keep it: every record's leaf hash, and the hash of every
// complete subtree of 2^STORED_LEVEL leaves or more (1 row per 128 records). A smaller subtree is
// hashed from its at most 128 leaves, so any proof reads O(log n) rows, whatever the chain's length.

export const STORED_LEVEL = 8;

/** A stored tree that lacks what a proof needs: deleted, or never written. */
export class TreeIncompleteError extends Error {
  override readonly name = 'TreeIncompleteError';
}

/** The subtree hashes of a chain, read from its store. */
export function storedSubtrees(reader: Pick<AuditReader, 'treeNodes' | 'leafHashes'>, chain: string): SubtreeHashes {
  return async (subtrees: readonly Subtree[]) => {
    const stored = subtrees.filter((subtree) => subtree.level >= STORED_LEVEL);
    const nodes = new Map<Subtree, string | undefined>();
    (await reader.treeNodes(chain, stored)).forEach((hash, i) => nodes.set(stored[i], hash));
    return Promise.all(
      subtrees.map(async (subtree) => {
        const width = 2 ** subtree.level;
        const hex = subtree.level >= STORED_LEVEL ? nodes.get(subtree) : undefined;
        if (hex !== undefined) return Buffer.from(hex, 'hex');
        if (subtree.level >= STORED_LEVEL) throw new TreeIncompleteError(`chain ${chain}: the tree lacks its subtree of leaves ${subtree.index * width}–${(subtree.index + 1) * width - 1}`);
        const leaves = await reader.leafHashes(chain, subtree.index * width, (subtree.index + 1) * width);
        if (leaves.length !== width) throw new TreeIncompleteError(`chain ${chain}: leaves ${subtree.index * width}–${(subtree.index + 1) * width - 1} are not all there (records deleted)`);
        let level: Buffer[] = leaves.map((leaf) => Buffer.from(leaf, 'hex'));
        while (level.length > 1) level = level.flatMap((hash, i) => (i % 2 === 0 ? [nodeHash(hash, level[i + 1])] : []));
        return level[0];
      }),
    );
  };
}

/**
 * Appends a leaf to a frontier, collecting the complete subtrees it finishes that the store keeps.
 * The writer, the migrations and verification all grow a chain's tree this one way.
 */
export function appendLeaf(frontier: Frontier, chain: string, leaf: Buffer, nodes: TreeNode[]): void {
  frontier.append(leaf, (subtree, hash) => {
    if (subtree.level >= STORED_LEVEL) nodes.push({ chain, level: subtree.level, index: subtree.index, hash: hash.toString('hex') });
  });
}
