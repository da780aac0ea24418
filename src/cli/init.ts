import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createAuditKey } from '../audit/audit_key';
import { hashSecret } from '../auth/secret_hash';
import { createCaHierarchy, type CaKeyType } from '../issuance/ca_bootstrap';

/** The commented default config, shipped in the package's config/ (found from src/ and from dist/). */
function templateFile(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'config', 'mayfly.default.yaml');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('config/mayfly.default.yaml is missing from the installation');
}

export const DEV_USER = 'deployer';

/** What init writes; any of them present means the folder is taken. */
const INIT_FILES = ['mayfly.yaml', 'ca/root.key', 'ca/root.pem', 'ca/intermediate.key', 'ca/intermediate.pem', 'dev-credentials', 'audit.key'];

export interface InitResult {
  readonly configFile: string;
  readonly secret: string;
  readonly rootFingerprintSha256: string;
}

/**
 * Creates a data folder: a development root and issuing CA, a commented config and a random
 * static secret. Keys and the secret file are written 0600; nothing is overwritten.
 */
export async function initDataDir(dir: string, keyType: CaKeyType, listen = '127.0.0.1:5016'): Promise<InitResult> {
  const existing = INIT_FILES.find((name) => existsSync(join(dir, name)));
  if (existing !== undefined) {
    throw new Error(`${resolve(dir)} already holds a Mayfly data folder (${existing} exists), and init never overwrites keys. Serve it as it is with \`mayfly serve --config ${join(resolve(dir), 'mayfly.yaml')}\`, or create a new one elsewhere with --dir DIR (or MAYFLY_HOME=DIR)`);
  }
  await mkdir(join(dir, 'ca'), { recursive: true, mode: 0o700 });
  const secret = randomBytes(24).toString('base64url');
  const ca = await createCaHierarchy(keyType, 'Mayfly Development');
  const template = await readFile(templateFile(), 'utf8');
  const config = template.replace('{{SECRET_HASH}}', await hashSecret(secret)).replace('{{LISTEN}}', listen);
  const write = (name: string, content: string, mode: number) => writeFile(join(dir, name), content, { mode, flag: 'wx' });
  await write('ca/root.key', ca.root.privateKey, 0o600);
  await write('ca/root.pem', ca.root.certificate, 0o644);
  await write('ca/intermediate.key', ca.intermediate.privateKey, 0o600);
  await write('ca/intermediate.pem', ca.intermediate.certificate + ca.root.certificate, 0o644);
  await write('dev-credentials', `user=${DEV_USER}\nsecret=${secret}\n`, 0o600);
  await write('mayfly.yaml', config, 0o600);
  await createAuditKey(join(dir, 'audit.key'), join(dir, 'audit.pub'));
  return { configFile: join(dir, 'mayfly.yaml'), secret, rootFingerprintSha256: ca.root.fingerprintSha256 };
}
