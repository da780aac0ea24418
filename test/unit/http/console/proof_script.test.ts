// The console's in-page proof check (src/http/console/assets/proof.js), run under Node's WebCrypto:
// RFC 9162 trees and proofs made here independently, checkpoints signed as C2SP signed notes.
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { CheckpointSigner, inclusionPath, treeHash, type RecordProof } from '../../../helpers/merkle_proof';

type Proof = RecordProof;
type Verifier = { verifyInclusion(proof: Proof, recordText?: string): Promise<{ verified: boolean; message: string }> };

const script = readFileSync(join(__dirname, '../../../../src/http/console/assets/proof.js'), 'utf8');
const context: Record<string, unknown> = { crypto: webcrypto, atob, TextEncoder, TextDecoder, Uint8Array };
context.globalThis = context;
runInNewContext(script, context);
const verifier = context.MayflyProof as Verifier;

const signer = new CheckpointSigner();
const KEY_NAME = signer.keyName;
const proofFor = (leaves: Buffer[], index: number): Proof => signer.prove(leaves, index);

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
    const other = signer.note(8, treeHash(leaves), generateKeyPairSync('ed25519').privateKey);
    expect((await verifier.verifyInclusion({ ...good, checkpoint: other })).verified).toBe(false);
    const lines = good.checkpoint.split('\n');
    const rewrittenRoot = treeHash(records(8).map((leaf, i) => (i === 3 ? Buffer.from('{"v":1,"x":1}') : leaf)));
    lines[2] = rewrittenRoot.toString('base64');
    const forged = { ...good, leaf: Buffer.from('{"v":1,"x":1}').toString('base64'), checkpoint: lines.join('\n') };
    forged.inclusion_proof = inclusionPath(3, records(8).map((leaf, i) => (i === 3 ? Buffer.from('{"v":1,"x":1}') : leaf))).map((h) => h.toString('base64'));
    expect((await verifier.verifyInclusion(forged)).verified).toBe(false);
    expect((await verifier.verifyInclusion({ ...good, tree_size: 9 })).verified).toBe(false);
  });
});
