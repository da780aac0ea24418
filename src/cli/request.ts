import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CaClient, type ClientCredentials, type TrustSource } from '../client/ca_client';
import { buildCertificationRequest, readCertificationRequest, type CertificationRequest } from '../client/certification_request';
import { readPrivateFile, resolveCredentials, type CredentialSource } from '../client/credentials';
import { writeCertificateFiles } from '../client/certificate_files';
import { ClientUsageError, exitCodeOf, PolicyRefusedError, EXIT_CODES } from '../client/errors';
import { generateKeyPair, importKeyPair, publicKeyOf, type ClientKeyType } from '../client/key_pair';
import { submitRequest } from '../client/request_certificate';
import { requestedNames } from '../client/requested_names';
import { parseRootFingerprint, TrustAnchors } from '../client/trust';
import { parseDuration } from '../config/duration';
import { errorMessage } from '../error_message';

export interface RequestOptions {
  readonly server: string;
  readonly ra: string;
  readonly cn?: string;
  readonly san: readonly string[];
  readonly keyType?: ClientKeyType;
  /** Send this CSR as it is (its names, its key) instead of making one. */
  readonly csr?: string;
  /** With --key: use the key already there instead of making a new one. */
  readonly reuseKey?: boolean;
  readonly cert: string;
  readonly key?: string;
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
    const { client, credentials, request, paths } = await prepare(options, env);
    const issued = await submitRequest(client, options.ra, request.csr, credentials);
    await writeCertificateFiles(paths, { ...issued, ...(request.newKeyPem !== undefined ? { privateKeyPem: request.newKeyPem } : {}) });
    const which = request.newKeyPem !== undefined ? `and its key ${paths.key}` : options.key ? `for the key in ${resolve(options.key)}` : `for the key of ${resolve(options.csr!)}`;
    print(`Wrote ${paths.cert} (serial ${issued.certificate.serialNumber.toLowerCase()}, valid until ${issued.notAfter.toISOString()}) ${which}.`);
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
  const request = await certificationRequest(options);
  const paths = {
    cert: resolve(options.cert),
    ...(request.newKeyPem !== undefined ? { key: resolve(options.key!) } : {}),
    ...(options.chain ? { chain: resolve(options.chain) } : {}),
    ...(options.fullchain ? { fullchain: resolve(options.fullchain) } : {}),
  };
  // A key brought with --key is not written, but must not be overwritten by a certificate either.
  const files = [...Object.values(paths), ...(paths.key === undefined && options.key !== undefined ? [resolve(options.key)] : [])];
  if (new Set(files).size !== files.length) throw usage('--cert, --key, --chain and --fullchain must be different files');
  // A certificate that could not be written would be issued for nothing.
  for (const target of Object.values(paths)) {
    await access(dirname(target), constants.W_OK).catch(() => {
      throw usage(`the folder of ${target} does not exist or is not writable`);
    });
  }
  return { client: new CaClient(server, trust, timeoutMs), credentials, request, paths };
}

/**
 * The CSR to send, three ways: a new key made here (written to --key), the key already at --key
 * (--reuse-key), or the user's own CSR (--csr; with --key, checked to be that CSR's key). A key the
 * user brings must be private to its owner, as a secret file must be, and is never rewritten.
 */
async function certificationRequest(options: RequestOptions): Promise<{ csr: CertificationRequest; newKeyPem?: string }> {
  const usage = (message: string) => new ClientUsageError(message);
  if (options.csr !== undefined) {
    if (options.cn !== undefined || options.san.length > 0 || options.keyType !== undefined || options.reuseKey) {
      throw usage('--csr brings the names and the key: give no --cn, --san, --key-type or --reuse-key with it');
    }
    const csr = readCertificationRequest(await readFile(options.csr).catch(() => {
      throw usage(`--csr ${options.csr} cannot be read`);
    }), options.csr);
    if (options.key !== undefined && !publicKeyOf(await readPrivateFile(options.key, 'key'))?.equals(csr.spki)) {
      throw usage(`the key in ${options.key} is not the key of the CSR ${options.csr}`);
    }
    return { csr };
  }
  if (options.cn === undefined) throw usage('give --cn (or --csr)');
  if (options.key === undefined) throw usage('give --key: where the new key goes, or with --reuse-key, the key to use');
  const names = requestedNames(options.cn, options.san);
  if (options.reuseKey) {
    if (options.keyType !== undefined) throw usage('--reuse-key uses the key in --key as it is: give no --key-type with it');
    return { csr: await buildCertificationRequest(await importKeyPair(await readPrivateFile(options.key, 'key'), options.key), names) };
  }
  const keyPair = await generateKeyPair(options.keyType ?? 'p256');
  return { csr: await buildCertificationRequest(keyPair, names), newKeyPem: keyPair.privateKeyPem };
}

async function chooseCredentials(options: RequestOptions, env: NodeJS.ProcessEnv): Promise<ClientCredentials> {
  const kinds = [options.user !== undefined || options.secretEnv !== undefined, options.tokenEnv !== undefined, options.mtlsCert !== undefined || options.mtlsKey !== undefined];
  if (kinds.filter(Boolean).length !== 1) throw new ClientUsageError('give one kind of credentials: --user with --secret-env, --token-env, or --mtls-cert with --mtls-key');
  if (kinds[0] && (options.user === undefined || options.secretEnv === undefined)) throw new ClientUsageError('--user and --secret-env go together');
  if (kinds[2] && (options.mtlsCert === undefined || options.mtlsKey === undefined)) throw new ClientUsageError('--mtls-cert and --mtls-key go together');
  const source: CredentialSource = kinds[0] ? { kind: 'static', user: options.user!, secretEnv: options.secretEnv! } : kinds[1] ? { kind: 'token', tokenEnv: options.tokenEnv! } : { kind: 'mtls', certFile: options.mtlsCert!, keyFile: options.mtlsKey! };
  return resolveCredentials(source, env);
}
