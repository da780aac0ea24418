import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { checkpointOrigin, CheckpointFormatError, isFinal, noteKeyHash, parseCheckpoint, parseCheckpoints, signCheckpoint, verifyCheckpoint } from '../../../src/audit/signed_checkpoint';

// The signed-note example of golang.org/x/mod/sumdb/note (note_test.go), which c2sp.org/signed-note
// describes: the key PeterNeumann+c74f20a3+ARpc…, and the signature line Go writes for the text.
const GO_PUBLIC = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64').subarray(1);
const GO_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';

const goKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: GO_SEED.toString('base64url'), x: GO_PUBLIC.toString('base64url') }, format: 'jwk' });

describe('signed notes (c2sp.org/signed-note)', () => {
  it('computes the key hash and signature line of the Go sumdb/note example', () => {
    const keyHash = noteKeyHash('PeterNeumann', createPublicKey(goKey));
    expect(keyHash.toString('hex')).toBe('c74f20a3');
    expect(Buffer.concat([keyHash, sign(null, Buffer.from(GO_TEXT), goKey)]).toString('base64')).toBe(GO_SIGNATURE);
  });
});

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const origin = checkpointOrigin('ca1.example.com-4242-0a1b2c3d', publicKey);
  const root = Buffer.alloc(32, 7);

  it('is the origin, the size, the base64 root, a blank line and a signature line that verifies', () => {
    const text = signCheckpoint({ origin, size: 1234, root }, privateKey);
    expect(origin).toMatch(/^mayfly-audit\/[0-9a-f]{8}\/ca1\.example\.com-4242-0a1b2c3d$/);
    expect(text).toMatch(new RegExp(`^${origin.replace(/\./g, '\\.')}\\n1234\\n${root.toString('base64').replace(/[+/]/g, '\\$&')}\\n\\n— ${origin.replace(/\./g, '\\.')} [A-Za-z0-9+/]{91}=\\n$`));
    const parsed = parseCheckpoint(text);
    expect(parsed).toMatchObject({ origin, size: 1234 });
    expect(parsed.root).toEqual(root);
    expect(verifyCheckpoint(parsed, publicKey)).toBe(true);
    expect(isFinal(parsed, publicKey)).toBe(false);
    // The signature is made like Go's: key hash of the origin as key name, Ed25519 over the body.
    expect(parsed.signatures[0].keyHash).toEqual(noteKeyHash(origin, publicKey));
  });

  it('refuses an altered size or root, another key, a signature under another name', () => {
    const text = signCheckpoint({ origin, size: 10, root }, privateKey);
    expect(verifyCheckpoint(parseCheckpoint(text.replace('\n10\n', '\n11\n')), publicKey)).toBe(false);
    expect(verifyCheckpoint(parseCheckpoint(text.replace(root.toString('base64'), Buffer.alloc(32, 8).toString('base64'))), publicKey)).toBe(false);
    expect(verifyCheckpoint(parseCheckpoint(text), generateKeyPairSync('ed25519').publicKey)).toBe(false);
    const renamed = text.split(`— ${origin} `).join(`— ${origin}x `);
    expect(verifyCheckpoint(parseCheckpoint(renamed), publicKey)).toBe(false);
  });

  it('a final checkpoint carries a second signature, which an altered one lacks', () => {
    const text = signCheckpoint({ origin, size: 10, root }, privateKey, true);
    const parsed = parseCheckpoint(text);
    expect(parsed.signatures.map((s) => s.name)).toEqual([origin, `${origin}/final`]);
    expect(verifyCheckpoint(parsed, publicKey) && isFinal(parsed, publicKey)).toBe(true);
    const lines = text.split('\n');
    expect(isFinal(parseCheckpoint(lines.slice(0, -2).join('\n') + '\n'), publicKey)).toBe(false);
  });

  it('reads several checkpoints separated by a blank line, with or without a final newline', () => {
    const a = signCheckpoint({ origin, size: 1, root }, privateKey);
    const b = signCheckpoint({ origin: `${origin}2`, size: 2, root }, privateKey, true);
    expect(parseCheckpoints(`${a}\n${b}`).map((c) => c.size)).toEqual([1, 2]);
    expect(parseCheckpoints(`${a}\n${b}`.trimEnd()).map((c) => c.text)).toEqual([a, b]);
  });

  it.each([
    ['', /no checkpoint/],
    ['origin\n12\n\n— a AAAA\n', /origin line, a tree size and a root hash/],
    ['origin\n-1\nAAAA\n\n— a AAAAAAAA\n', /tree size/],
    ['origin\n1\nAAAA\n\n— a AAAAAAAA\n', /root hash is not 32 bytes/],
    ['origin with space\n1\nAAAA\n\n— a AAAAAAAA\n', /origin line/],
    [`o\n1\n${Buffer.alloc(32).toString('base64')}\n\nnot a signature\n`, /signature line/],
  ])('refuses a text that is not a checkpoint: %j', (text, message) => {
    expect(() => parseCheckpoints(text)).toThrow(CheckpointFormatError);
    expect(() => parseCheckpoints(text)).toThrow(message);
  });
});
