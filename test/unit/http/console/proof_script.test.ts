// The console's in-page proof check (src/http/console/assets/proof.js), run under Node's WebCrypto:
// RFC 9162 trees and proofs made here independently, checkpoints signed as C2SP signed notes.
import { createHash, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

interface Proof {
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
type Verifier = { verifyInclusion(proof: Proof, recordText?: string): Promise<{ verified: boolean; message: string }> };

const script = readFileSync(join(__dirname, '../../../../src/http/console/assets/proof.js'), 'utf8');
const context: Record<string, unknown> = { crypto: webcrypto, atob, TextEncoder, TextDecoder, Uint8Array };
context.globalThis = context;
runInNewContext(script, context);
const verifier = context.MayflyProof as Verifier;

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf: Buffer) => sha256(Buffer.of(0), leaf);
/** RFC 9162 2.1.1: the largest power of two smaller than n. */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = split(leaves.length);
  return sha256(Buffer.of(1), treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}
/** RFC 9162 2.1.3.1 PATH(m, D[n]). */
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), treeHash(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

const keys = generateKeyPairSync('ed25519');
const rawKey = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const KEY_NAME = 'mayfly.test/ledger';
const ORIGIN = 'mayfly.test/ledger/chain-1';

function checkpointNote(size: number, root: Buffer, privateKey = keys.privateKey): string {
  const body = `${ORIGIN}\n${size}\n${root.toString('base64')}\n`;
  const keyId = sha256(Buffer.from(`${KEY_NAME}\n`), Buffer.of(1), rawKey).subarray(0, 4);
  const signature = sign(null, Buffer.from(body), privateKey);
  return `${body}\n\u2014 ${KEY_NAME} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

function proofFor(leaves: Buffer[], index: number): Proof {
  return {
    serial: '01',
    origin: ORIGIN,
    leaf_index: index,
    tree_size: leaves.length,
    leaf: leaves[index].toString('base64'),
    inclusion_proof: path(index, leaves).map((hash) => hash.toString('base64')),
    checkpoint: checkpointNote(leaves.length, treeHash(leaves)),
    public_key: rawKey.toString('base64'),
    key_name: KEY_NAME,
  };
}

const records = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ v: 1, seq: i + 1, subject: `CN=r${i}.mayfly.test` })));

describe('the console proof script', () => {
  it('verifies every leaf of trees of many sizes', async () => {
    for (const size of [1, 2, 3, 5, 7, 8, 13, 32, 33]) {
      const leaves = records(size);
      for (let index = 0; index < size; index++) {
        const result = await verifier.verifyInclusion(proofFor(leaves, index), leaves[index].toString('utf8'));
        expect(result).toEqual({ verified: true, message: expect.stringContaining(`signed by ${KEY_NAME}`) });
      }
    }
  });

  it('refuses a proof for other bytes than the record shown', async () => {
    const leaves = records(5);
    expect((await verifier.verifyInclusion(proofFor(leaves, 2), '{"v":1,"forged":true}')).verified).toBe(false);
  });

  it('refuses a rewritten leaf, a wrong index, a bent path, a truncated path', async () => {
    const leaves = records(13);
    const good = proofFor(leaves, 6);
    const variants: Proof[] = [
      { ...good, leaf: Buffer.from('{"v":1,"rewritten":true}').toString('base64') },
      { ...good, leaf_index: 7 },
      { ...good, leaf_index: 13 },
      { ...good, inclusion_proof: [good.inclusion_proof[1], good.inclusion_proof[0], ...good.inclusion_proof.slice(2)] },
      { ...good, inclusion_proof: good.inclusion_proof.slice(0, -1) },
      { ...good, inclusion_proof: [...good.inclusion_proof, good.inclusion_proof[0]] },
    ];
    for (const proof of variants) expect((await verifier.verifyInclusion(proof)).verified).toBe(false);
  });

  it('refuses a checkpoint signed by another key, or with its root changed after signing', async () => {
    const leaves = records(8);
    const good = proofFor(leaves, 3);
    const other = checkpointNote(8, treeHash(leaves), generateKeyPairSync('ed25519').privateKey);
    expect((await verifier.verifyInclusion({ ...good, checkpoint: other })).verified).toBe(false);
    const lines = good.checkpoint.split('\n');
    const rewrittenRoot = treeHash(records(8).map((leaf, i) => (i === 3 ? Buffer.from('{"v":1,"x":1}') : leaf)));
    lines[2] = rewrittenRoot.toString('base64');
    const forged = { ...good, leaf: Buffer.from('{"v":1,"x":1}').toString('base64'), checkpoint: lines.join('\n') };
    forged.inclusion_proof = path(3, records(8).map((leaf, i) => (i === 3 ? Buffer.from('{"v":1,"x":1}') : leaf))).map((h) => h.toString('base64'));
    expect((await verifier.verifyInclusion(forged)).verified).toBe(false);
    expect((await verifier.verifyInclusion({ ...good, tree_size: 9 })).verified).toBe(false);
  });
});
