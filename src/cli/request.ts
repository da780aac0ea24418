import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CaClient, type ClientCredentials, type TrustSource } from '../client/ca_client';
import { resolveCredentials, type CredentialSource } from '../client/credentials';
import { writeCertificateFiles } from '../client/certificate_files';
import { ClientUsageError, exitCodeOf, PolicyRefusedError, EXIT_CODES } from '../client/errors';
import type { ClientKeyType } from '../client/key_pair';
import { requestCertificate } from '../client/request_certificate';
import { requestedNames } from '../client/requested_names';
import { parseRootFingerprint, TrustAnchors } from '../client/trust';
import { parseDuration } from '../config/duration';
import { errorMessage } from '../error_message';

export interface RequestOptions {
  readonly server: string;
  readonly ra: string;
  readonly cn: string;
  readonly san: readonly string[];
  readonly keyType: ClientKeyType;
  readonly cert: string;
  readonly key: string;
  readonly chain?: string;
  readonly fullchain?: string;
  readonly user?: string;
  readonly secretEnv?: string;
  readonly tokenEnv?: string;
  readonly mtlsCert?: string;
  readonly mtlsKey?: string;
  readonly rootFingerprint?: string;
  readonly cacert?: string;
  readonly timeout: string;
}

/**
 * `mayfly request`: one certificate, now. Returns the exit code (errors.ts): every failure is
 * printed as one line on stderr, a policy refusal with each validator's reason below it.
 */
export async function runRequest(options: RequestOptions, print: (line: string) => void, printError: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const { client, credentials, order, paths } = await prepare(options, env);
    const issued = await requestCertificate(client, order, credentials);
    await writeCertificateFiles(paths, issued);
    print(`Wrote ${paths.cert} (serial ${issued.certificate.serialNumber.toLowerCase()}, valid until ${issued.notAfter.toISOString()}) and its key ${paths.key}.`);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof PolicyRefusedError) {
      printError('mayfly: refused by policy:');
      for (const { validator, reason } of error.reasons) printError(`  - ${validator}: ${reason}`);
    } else printError(`mayfly: ${errorMessage(error)}`);
    return exitCodeOf(error);
  }
}

/** Everything is checked before anything is sent: the arguments, the trust, the credentials, the target folders. */
async function prepare(options: RequestOptions, env: NodeJS.ProcessEnv) {
  const usage = (message: string) => new ClientUsageError(message);
  let server: URL;
  try {
    server = new URL(options.server);
  } catch {
    throw usage(`--server ${JSON.stringify(options.server)} is not a URL such as https://ca.example.com:5016`);
  }
  const timeoutMs = parseDuration(options.timeout);
  if (timeoutMs === undefined) throw usage(`--timeout ${options.timeout} is not a duration such as 30s`);

  if ((options.rootFingerprint === undefined) === (options.cacert === undefined)) throw usage('give exactly one of --root-fingerprint and --cacert');
  const trust: TrustSource = options.rootFingerprint !== undefined
    ? { kind: 'fingerprint', fingerprint: parseRootFingerprint(options.rootFingerprint) }
    : { kind: 'anchors', anchors: TrustAnchors.fromPem(await readFile(options.cacert!, 'utf8').catch(() => {
        throw new ClientUsageError(`--cacert ${options.cacert} cannot be read`);
      }), options.cacert!) };

  const credentials = await chooseCredentials(options, env);
  const order = { ra: options.ra, names: requestedNames(options.cn, options.san), keyType: options.keyType };
  const paths = {
    cert: resolve(options.cert),
    key: resolve(options.key),
    ...(options.chain ? { chain: resolve(options.chain) } : {}),
    ...(options.fullchain ? { fullchain: resolve(options.fullchain) } : {}),
  };
  const targets = Object.values(paths);
  if (new Set(targets).size !== targets.length) throw usage('--cert, --key, --chain and --fullchain must be different files');
  // A certificate that could not be written would be issued for nothing.
  for (const target of targets) {
    await access(dirname(target), constants.W_OK).catch(() => {
      throw usage(`the folder of ${target} does not exist or is not writable`);
    });
  }
  return { client: new CaClient(server, trust, timeoutMs), credentials, order, paths };
}

async function chooseCredentials(options: RequestOptions, env: NodeJS.ProcessEnv): Promise<ClientCredentials> {
  const kinds = [options.user !== undefined || options.secretEnv !== undefined, options.tokenEnv !== undefined, options.mtlsCert !== undefined || options.mtlsKey !== undefined];
  if (kinds.filter(Boolean).length !== 1) throw new ClientUsageError('give one kind of credentials: --user with --secret-env, --token-env, or --mtls-cert with --mtls-key');
  if (kinds[0] && (options.user === undefined || options.secretEnv === undefined)) throw new ClientUsageError('--user and --secret-env go together');
  if (kinds[2] && (options.mtlsCert === undefined || options.mtlsKey === undefined)) throw new ClientUsageError('--mtls-cert and --mtls-key go together');
  const source: CredentialSource = kinds[0] ? { kind: 'static', user: options.user!, secretEnv: options.secretEnv! } : kinds[1] ? { kind: 'token', tokenEnv: options.tokenEnv! } : { kind: 'mtls', certFile: options.mtlsCert!, keyFile: options.mtlsKey! };
  return resolveCredentials(source, env);
}
