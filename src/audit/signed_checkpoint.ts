import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

// A chain's signed tree head as a C2SP `checkpoint` (c2sp.org/tlog-checkpoint), which is a C2SP
// signed note (c2sp.org/signed-note): the origin line, the tree size in decimal, the root hash in
// base64, a blank line, then one line per signature: `— <key name> <base64(key hash || signature)>`.
// Any witness or verifier that speaks signed notes (Go's sumdb/note, transparency-dev) reads it.

/** A checkpoint's body: which log, how many leaves, and their RFC 9162 root hash. */
export interface TreeHead {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
}

/** A checkpoint as read from its text, with the signatures it carries (key name → key hash and signature). */
export interface SignedCheckpoint extends TreeHead {
  readonly text: string;
  readonly body: string;
  readonly signatures: readonly { readonly name: string; readonly keyHash: Buffer; readonly signature: Buffer }[];
}

/** Signed-note algorithm identifier of Ed25519. */
const ED25519 = 0x01;

/** The raw 32-byte Ed25519 public key (of a public key, or of a private key's public half). */
export const rawPublicKey = (key: KeyObject): Buffer => {
  const der = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
};

/** c2sp.org/signed-note: the key hash is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key). */
export const noteKeyHash = (name: string, publicKey: KeyObject): Buffer =>
  createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519])).update(rawPublicKey(publicKey)).digest().subarray(0, 4);

/**
 * A chain's origin: `mayfly-audit/<audit key id>/<chain>`. The key id (the first 4 bytes of SHA-256
 * of the raw audit public key, hex) names the CA whose ledger it is; the chain (`<host>-<pid>-<random>`)
 * the process that wrote it. It is also the checkpoint's key name, as tlog-checkpoint advises.
 */
export const checkpointOrigin = (chain: string, publicKey: KeyObject): string =>
  `mayfly-audit/${createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 8)}/${chain}`;

/**
 * The name of the second signature a chain's last checkpoint carries (its writer shut down cleanly,
 * or a later process on its host sealed it after a crash): no record may follow it. Verifiers that
 * know only the origin key ignore it, as signed-note verifiers ignore unknown keys.
 */
export const finalKeyName = (origin: string): string => `${origin}/final`;

const checkpointBody = (head: TreeHead): string => `${head.origin}\n${head.size}\n${head.root.toString('base64')}\n`;

function signatureLine(name: string, body: string, key: KeyObject, publicKey: KeyObject): string {
  const signature = sign(null, Buffer.from(body, 'utf8'), key);
  return `— ${name} ${Buffer.concat([noteKeyHash(name, publicKey), signature]).toString('base64')}\n`;
}

/** The signed checkpoint text; `final` adds the signature that closes the chain. */
export function signCheckpoint(head: TreeHead, key: KeyObject, final = false): string {
  const publicKey = createPublicKey(key);
  const body = checkpointBody(head);
  return `${body}\n${signatureLine(head.origin, body, key, publicKey)}${final ? signatureLine(finalKeyName(head.origin), body, key, publicKey) : ''}`;
}

/** A checkpoint text that is not one. */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses one checkpoint (the signatures are read, not yet verified). */
export function parseCheckpoint(text: string): SignedCheckpoint {
  const separator = text.indexOf('\n\n');
  if (separator < 0 || !text.endsWith('\n')) throw new CheckpointFormatError('not a signed note: no blank line before the signatures, or no final newline');
  const body = text.slice(0, separator + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointFormatError('a checkpoint has an origin line, a tree size and a root hash');
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0 || /\s|\+/.test(origin)) throw new CheckpointFormatError('the origin line is empty or has a space or plus sign');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new CheckpointFormatError(`the tree size ${JSON.stringify(sizeText)} is not a decimal number`);
  const root = Buffer.from(rootText, 'base64');
  if (!BASE64.test(rootText) || root.length !== 32) throw new CheckpointFormatError('the root hash is not 32 bytes of base64');
  const signatures = text
    .slice(separator + 2, -1)
    .split('\n')
    .map((line) => {
      const match = /^— (\S+) (\S+)$/.exec(line);
      const blob = match && BASE64.test(match[2]) ? Buffer.from(match[2], 'base64') : undefined;
      if (!match || !blob || blob.length < 5) throw new CheckpointFormatError(`not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
      return { name: match[1], keyHash: blob.subarray(0, 4), signature: blob.subarray(4) };
    });
  return { text, body, origin, size: Number(sizeText), root, signatures };
}

/** Splits text holding several checkpoints (one per chain, each ending with its signature lines). */
export function parseCheckpoints(text: string): SignedCheckpoint[] {
  const notes: string[] = [];
  let current: string[] = [];
  let inSignatures = false;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (inSignatures && !line.startsWith('— ')) {
      notes.push(`${current.join('\n')}\n`);
      current = [];
      inSignatures = false;
      if (line === '') continue;
    }
    if (current.length === 0 && line === '') continue;
    if (line === '' && current.length > 0) inSignatures = true;
    current.push(line);
  }
  if (inSignatures) notes.push(`${current.join('\n')}\n`);
  else if (current.length > 0) throw new CheckpointFormatError('the text ends inside a checkpoint (no signature line)');
  if (notes.length === 0) throw new CheckpointFormatError('no checkpoint in the text');
  return notes.map(parseCheckpoint);
}

/** Whether a signature by `name` with `publicKey` over the checkpoint's body is present and valid. */
export function signedBy(checkpoint: SignedCheckpoint, name: string, publicKey: KeyObject): boolean {
  const keyHash = noteKeyHash(name, publicKey);
  return checkpoint.signatures.some((s) => s.name === name && s.keyHash.equals(keyHash) && s.signature.length === 64 && verify(null, Buffer.from(checkpoint.body, 'utf8'), publicKey, s.signature));
}

/** The checkpoint carries the audit key's signature under its origin. */
export const verifyCheckpoint = (checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean => signedBy(checkpoint, checkpoint.origin, publicKey);

/** The checkpoint closes its chain: it also carries the final signature. */
export const isFinal = (checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean => signedBy(checkpoint, finalKeyName(checkpoint.origin), publicKey);
