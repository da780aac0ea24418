import { readFile, stat } from 'node:fs/promises';
import type { ClientCredentials } from './ca_client';
import { ClientUsageError } from './errors';

/** Where credentials come from; read at each attempt, so a rotated secret or token file is picked up. */
export type CredentialSource =
  | { readonly kind: 'static'; readonly user: string; readonly secretEnv?: string; readonly secretFile?: string }
  | { readonly kind: 'token'; readonly tokenEnv?: string; readonly tokenFile?: string }
  | { readonly kind: 'mtls'; readonly certFile: string; readonly keyFile: string };

/** The credentials to send now, read from the environment or their files. */
export async function resolveCredentials(source: CredentialSource, env: NodeJS.ProcessEnv = process.env): Promise<ClientCredentials> {
  const fromEnv = (variable: string) => {
    const value = env[variable];
    if (value === undefined || value === '') throw new ClientUsageError(`the environment variable ${variable} is not set`);
    return value;
  };
  if (source.kind === 'static') return { kind: 'static', user: source.user, secret: source.secretEnv ? fromEnv(source.secretEnv) : await readPrivateFile(source.secretFile!, 'secret') };
  if (source.kind === 'token') return { kind: 'token', token: source.tokenEnv ? fromEnv(source.tokenEnv) : await readPrivateFile(source.tokenFile!, 'token') };
  return { kind: 'mtls', cert: await readText(source.certFile, 'client certificate'), key: await readPrivateFile(source.keyFile, 'client key') };
}

async function readText(file: string, what: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ClientUsageError(`the ${what} file ${file} cannot be read`);
  });
  return text.replace(/\r?\n$/, '');
}

/** A secret, token or key file others can read is refused, as the server refuses a loose PIN file. */
export async function readPrivateFile(file: string, what: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (info && (info.mode & 0o077) !== 0) throw new ClientUsageError(`the ${what} file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
  return readText(file, what);
}
