// An independent RFC 9162 tree and C2SP signed checkpoint, made in the test, to check the console's
// in-page proof verification (src/http/console/assets/proof.js) against.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface RecordProof {
  serial: string;
  origin: string;
  leaf_index: number;
  tree_size: number;
  leaf: string;
  inclusion_proof: string[];
  checkpoint: string;
  public_key: string;
  key_name: string;
}

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf: Buffer) => sha256(Buffer.of(0), leaf);
/** RFC 9162 2.1.1: the largest power of two smaller than n. */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 9162 2.1.1 MTH(D[n]). */
export function treeHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = split(leaves.length);
  return sha256(Buffer.of(1), treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 9162 2.1.3.1 PATH(m, D[n]). */
export function inclusionPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...inclusionPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))] : [...inclusionPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

/** A checkpoint signer: its signed-note key name and Ed25519 keys. */
export class CheckpointSigner {
  readonly keys = generateKeyPairSync('ed25519');
  readonly rawPublicKey = this.keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);

  constructor(
    readonly keyName = 'mayfly.test/ledger',
    readonly origin = 'mayfly.test/ledger/chain-1',
  ) {}

  /** A C2SP checkpoint note for a tree; `privateKey` to sign with another key than this signer's. */
  note(size: number, root: Buffer, privateKey: KeyObject = this.keys.privateKey): string {
    const body = `${this.origin}\n${size}\n${root.toString('base64')}\n`;
    const keyId = sha256(Buffer.from(`${this.keyName}\n`), Buffer.of(1), this.rawPublicKey).subarray(0, 4);
    return `${body}\n\u2014 ${this.keyName} ${Buffer.concat([keyId, sign(null, Buffer.from(body), privateKey)]).toString('base64')}\n`;
  }

  /** The proof of leaf `index` under a checkpoint of the whole tree, as GET /v1/audit/proof answers. */
  prove(leaves: readonly Buffer[], index: number, serial = '01'): RecordProof {
    return {
      serial,
      origin: this.origin,
      leaf_index: index,
      tree_size: leaves.length,
      leaf: leaves[index].toString('base64'),
      inclusion_proof: inclusionPath(index, leaves).map((hash) => hash.toString('base64')),
      checkpoint: this.note(leaves.length, treeHash(leaves)),
      public_key: this.rawPublicKey.toString('base64'),
      key_name: this.keyName,
    };
  }
}
