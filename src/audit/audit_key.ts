import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';

/**
 * The audit key signs ledger checkpoints. It is Ed25519 and separate from every CA key: whoever
 * can issue certificates should not also be able to vouch for the record of what was issued.
 */
export async function createAuditKey(keyFile: string, publicFile: string): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  await writeFile(publicFile, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644, flag: 'wx' });
}

/** The audit private key's PEM; refuses a key file others can read. */
export async function readAuditKey(keyFile: string): Promise<string> {
  const info = await stat(keyFile);
  if ((info.mode & 0o077) !== 0) throw new Error(`the audit key ${keyFile} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
  const pem = await readFile(keyFile, 'utf8');
  if (createPrivateKey(pem).asymmetricKeyType !== 'ed25519') throw new Error(`the audit key ${keyFile} is not an Ed25519 key`);
  return pem;
}

/** The public key checkpoints are verified with: the .pub file, or derived from the private key. */
export async function readAuditPublicKey(publicFile: string, keyFile: string): Promise<KeyObject> {
  const pem = await readFile(publicFile, 'utf8').catch(() => undefined);
  return pem ? createPublicKey(pem) : createPublicKey(await readFile(keyFile, 'utf8'));
}
