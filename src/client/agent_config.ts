import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../config/duration';
import { ConfigError, ConfigSource, type ConfigProblem } from '../config/source';
import { errorMessage } from '../error_message';
import type { TrustSource } from './ca_client';
import type { CredentialSource } from './credentials';
import { ClientUsageError } from './errors';
import type { Hook } from './hooks';
import { CLIENT_KEY_TYPES } from './key_pair';
import type { CertificateOrder } from './request_certificate';
import { requestedNames } from './requested_names';
import type { CertificatePaths } from './certificate_files';
import { DEFAULT_RENEWAL, type RenewalSettings } from './renewal_scheduler';
import { parseRootFingerprint, TrustAnchors } from './trust';

// agent.yaml: which certificates the agent keeps fresh, from which server, trusting which root.
// Checked like mayfly.yaml: every problem is reported with file:line:column and its key.

const name = z.string().min(1);
const path = z.string().min(1);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const duration = z.string().refine((text) => parseDuration(text) !== undefined, 'expected a duration such as 30s, 5m or 1h30m');
const refusePlaintext = z
  .unknown()
  .refine((value) => value === undefined, { message: 'secrets are not accepted in the file itself; use secret_env or secret_file (token_env or token_file)' })
  .optional();

const credentials = z
  .strictObject({
    user: name.optional(),
    secret_env: envName.optional(),
    secret_file: path.optional(),
    secret: refusePlaintext,
    token_env: envName.optional(),
    token_file: path.optional(),
    token: refusePlaintext,
    mtls_cert: path.optional(),
    mtls_key: path.optional(),
  })
  .superRefine((entry, context) => {
    const kinds = [
      entry.user !== undefined || entry.secret_env !== undefined || entry.secret_file !== undefined,
      entry.token_env !== undefined || entry.token_file !== undefined,
      entry.mtls_cert !== undefined || entry.mtls_key !== undefined,
    ].filter(Boolean).length;
    const problem = (message: string) => context.addIssue({ code: 'custom', message });
    if (kinds !== 1) return problem('give one kind of credentials: user with secret_env or secret_file; token_env or token_file; or mtls_cert with mtls_key');
    if (entry.user !== undefined || entry.secret_env !== undefined || entry.secret_file !== undefined) {
      if (entry.user === undefined) problem('user is missing');
      if ((entry.secret_env === undefined) === (entry.secret_file === undefined)) problem('give exactly one of secret_env and secret_file');
    }
    if (entry.token_env !== undefined && entry.token_file !== undefined) problem('give exactly one of token_env and token_file');
    if ((entry.mtls_cert === undefined) !== (entry.mtls_key === undefined)) problem('give both mtls_cert and mtls_key');
  });

const hook = z
  .strictObject({
    /** A program and its arguments (run directly), or one string run by /bin/sh -c. */
    command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a list of strings (the program and its arguments), or one string for /bin/sh -c' }).optional(),
    timeout: duration.optional(),
    signal: z.string().refine((signal) => /^SIG[A-Z0-9]+$/.test(signal) && signal in constants.signals, 'expected a signal name such as SIGHUP').optional(),
    pid_file: path.optional(),
    pid: z.number().int().min(2).optional(),
  })
  .superRefine((entry, context) => {
    const problem = (message: string) => context.addIssue({ code: 'custom', message });
    if ((entry.command === undefined) === (entry.signal === undefined)) return problem('a hook is either a command or a signal');
    if (entry.command !== undefined && (entry.pid_file !== undefined || entry.pid !== undefined)) problem('pid_file and pid go with signal, not command');
    if (entry.signal !== undefined && (entry.pid_file === undefined) === (entry.pid === undefined)) problem('give exactly one of pid_file and pid');
    if (entry.signal !== undefined && entry.timeout !== undefined) problem('timeout goes with command');
  });

const renewal = z
  .strictObject({
    /** Fraction of the lifetime after which to renew. */
    at: z.number().gt(0).lt(1).default(DEFAULT_RENEWAL.fraction),
    /** ± this fraction of the lifetime, at random. */
    jitter: z.number().min(0).lt(0.5).default(DEFAULT_RENEWAL.jitter),
    min_wait: duration.default('30s'),
    retry_initial: duration.default('5s'),
    retry_max: duration.default('5m'),
    check_interval: duration.default('10s'),
  })
  .refine((entry) => entry.at - entry.jitter > 0 && entry.at + entry.jitter < 1, { message: 'at ± jitter must stay between 0 and 1 (renew after some of the lifetime, before all of it)' });

const certificate = z.strictObject({
  /** Names the certificate in logs and in the hooks' environment. */
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ".", "_" or "-"'),
  ra: name,
  /** The RA to renew at with the current certificate (mTLS); default: `ra`. */
  renew_ra: name.optional(),
  /** auto: mTLS when renew_ra is set or there are no credentials; mtls: always mTLS first; credentials: never mTLS. */
  renew_with: z.enum(['auto', 'mtls', 'credentials']).default('auto'),
  common_name: z.string().min(1),
  sans: z.array(z.string().min(1)).default([]),
  key_type: z.enum(CLIENT_KEY_TYPES).default('p256'),
  cert: path,
  key: path,
  chain: path.optional(),
  fullchain: path.optional(),
  key_mode: z.string({ error: 'write the mode in quotes, e.g. "0640" (unquoted, YAML reads it as a decimal number)' }).regex(/^0?[0-7]{3}$/, 'expected an octal mode such as "0600"').default('0600'),
  credentials: credentials.optional(),
  hooks: z.array(hook).default([]),
});

const agentSchema = z.strictObject({
  server: z.string().min(1),
  root_fingerprint: z.string().optional(),
  cacert: path.optional(),
  credentials: credentials.optional(),
  request_timeout: duration.default('30s'),
  renewal: renewal.default({ at: DEFAULT_RENEWAL.fraction, jitter: DEFAULT_RENEWAL.jitter, min_wait: '30s', retry_initial: '5s', retry_max: '5m', check_interval: '10s' }),
  certificates: z.array(certificate).min(1, 'list at least one certificate'),
});

type CredentialsDocument = z.infer<typeof credentials>;

export type RenewWith = 'auto' | 'mtls' | 'credentials';

export interface ManagedCertificate {
  readonly name: string;
  readonly order: CertificateOrder;
  readonly renewRa: string;
  readonly renewWith: RenewWith;
  readonly paths: CertificatePaths;
  readonly keyMode: number;
  readonly credentials?: CredentialSource;
  readonly hooks: readonly Hook[];
}

export interface AgentConfig {
  readonly file: string;
  readonly server: URL;
  readonly trust: TrustSource;
  readonly requestTimeoutMs: number;
  readonly renewal: RenewalSettings;
  readonly certificates: readonly ManagedCertificate[];
  /** Every environment variable a secret or token is read from, the top level's included: hooks never see them. */
  readonly secretVariables: readonly string[];
}

const secretVariable = (source: CredentialSource | undefined): string[] =>
  source?.kind === 'static' && source.secretEnv ? [source.secretEnv] : source?.kind === 'token' && source.tokenEnv ? [source.tokenEnv] : [];

/** What is checked beyond the file itself. */
export interface AgentConfigChecks {
  /** That each secret_env and token_env is set (not for `agent status`, run from an operator's shell). */
  readonly environment?: boolean;
  /** That the folder of each file to write exists and is writable (`agent --check`). */
  readonly folders?: boolean;
}

/** Reads and checks agent.yaml; throws ConfigError listing every problem with its file and line. */
export async function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env, checks: AgentConfigChecks = {}): Promise<AgentConfig> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ConfigError([{ file: path, line: 1, column: 1, key: '', message: 'the agent config cannot be read' }]);
  });
  return parseAgentConfig(path, text, env, checks);
}

export function parseAgentConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env, checks: AgentConfigChecks = {}): AgentConfig {
  const { environment = true, folders = false } = checks;
  const source = new ConfigSource(file, text);
  if (source.document.errors.length > 0) {
    throw new ConfigError(source.document.errors.map((error) => ({ ...source.position(error.pos[0]), file, key: '', message: `YAML: ${error.message.split('\n')[0]}` })));
  }
  const parsed = agentSchema.safeParse(source.document.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap((issue) => issueProblems(source, issue)));
  const document = parsed.data;
  const problems: ConfigProblem[] = [];
  const at = (keyPath: readonly (string | number)[], message: string) => problems.push(source.problem(keyPath, message));
  const relative = (target: string) => resolve(dirname(file), target);

  let server: URL | undefined;
  try {
    server = new URL(document.server);
    if (server.protocol !== 'https:') at(['server'], 'the server URL must be https:// (credentials never travel in clear)');
    if (server.username || server.password) at(['server'], 'the server URL must not hold a user name or password; use credentials');
  } catch {
    at(['server'], 'expected a URL such as https://ca.example.com:5016');
  }

  let trust: TrustSource | undefined;
  if ((document.root_fingerprint === undefined) === (document.cacert === undefined)) at([], 'give exactly one of root_fingerprint and cacert');
  else if (document.root_fingerprint !== undefined) {
    try {
      trust = { kind: 'fingerprint', fingerprint: parseRootFingerprint(document.root_fingerprint) };
    } catch (error) {
      at(['root_fingerprint'], errorMessage(error));
    }
  } else {
    try {
      const cacert = relative(document.cacert!);
      trust = { kind: 'anchors', anchors: TrustAnchors.fromPem(readFileSync(cacert, 'utf8'), cacert) };
    } catch (error) {
      at(['cacert'], `the root certificates cannot be read: ${errorMessage(error)}`);
    }
  }

  const credentialSource = (entry: CredentialsDocument, keyPath: readonly (string | number)[]): CredentialSource | undefined => {
    if (environment && entry.secret_env !== undefined && env[entry.secret_env] === undefined) at([...keyPath, 'secret_env'], `the environment variable ${entry.secret_env} is not set`);
    if (environment && entry.token_env !== undefined && env[entry.token_env] === undefined) at([...keyPath, 'token_env'], `the environment variable ${entry.token_env} is not set`);
    if (entry.user !== undefined) return { kind: 'static', user: entry.user, ...(entry.secret_env ? { secretEnv: entry.secret_env } : { secretFile: relative(entry.secret_file!) }) };
    if (entry.token_env !== undefined || entry.token_file !== undefined) return { kind: 'token', ...(entry.token_env ? { tokenEnv: entry.token_env } : { tokenFile: relative(entry.token_file!) }) };
    return { kind: 'mtls', certFile: relative(entry.mtls_cert!), keyFile: relative(entry.mtls_key!) };
  };
  const defaultCredentials = document.credentials ? credentialSource(document.credentials, ['credentials']) : undefined;

  const names = new Set<string>();
  const files = new Map<string, string>();
  const certificates = document.certificates.flatMap((entry, index): ManagedCertificate[] => {
    const keyPath = ['certificates', index];
    if (names.has(entry.name)) at([...keyPath, 'name'], `another certificate is named ${JSON.stringify(entry.name)}`);
    names.add(entry.name);
    const paths = {
      cert: relative(entry.cert),
      key: relative(entry.key),
      ...(entry.chain ? { chain: relative(entry.chain) } : {}),
      ...(entry.fullchain ? { fullchain: relative(entry.fullchain) } : {}),
    };
    for (const [role, target] of Object.entries(paths)) {
      const owner = files.get(target);
      if (owner) at([...keyPath, role], `${target} is already written as ${owner}`);
      files.set(target, `${entry.name}'s ${role}`);
      if (folders && !writableFolder(dirname(target))) at([...keyPath, role], `the folder ${dirname(target)} does not exist or is not writable by this user`);
    }
    const keyMode = parseInt(entry.key_mode, 8);
    if ((keyMode & 0o007) !== 0) at([...keyPath, 'key_mode'], 'a private key must not be readable or writable by others (last digit 0)');
    const own = entry.credentials ? credentialSource(entry.credentials, [...keyPath, 'credentials']) : undefined;
    const chosen = own ?? defaultCredentials;
    if (!chosen && entry.renew_with === 'credentials') at([...keyPath, 'renew_with'], 'renew_with: credentials needs credentials (here or at the top level)');
    let order: CertificateOrder | undefined;
    try {
      order = { ra: entry.ra, names: requestedNames(entry.common_name, entry.sans), keyType: entry.key_type };
    } catch (error) {
      at([...keyPath, error instanceof ClientUsageError && /subjectAltName/.test(error.message) ? 'sans' : 'common_name'], errorMessage(error));
    }
    const hooks = entry.hooks.map(
      (item): Hook =>
        item.command !== undefined
          ? { kind: 'command', argv: typeof item.command === 'string' ? ['/bin/sh', '-c', item.command] : item.command, timeoutMs: parseDuration(item.timeout ?? '30s')! }
          : { kind: 'signal', signal: item.signal as NodeJS.Signals, ...(item.pid_file ? { pidFile: relative(item.pid_file) } : { pid: item.pid! }) },
    );
    if (!order) return [];
    return [{ name: entry.name, order, renewRa: entry.renew_ra ?? entry.ra, renewWith: entry.renew_with, paths, keyMode, ...(chosen ? { credentials: chosen } : {}), hooks }];
  });

  if (problems.length > 0 || !server || !trust) throw new ConfigError(problems);
  const settings = document.renewal;
  return {
    file,
    server,
    trust,
    requestTimeoutMs: parseDuration(document.request_timeout)!,
    renewal: {
      fraction: settings.at,
      jitter: settings.jitter,
      minWaitMs: parseDuration(settings.min_wait)!,
      retryInitialMs: parseDuration(settings.retry_initial)!,
      retryMaxMs: Math.max(parseDuration(settings.retry_max)!, parseDuration(settings.retry_initial)!),
      checkIntervalMs: parseDuration(settings.check_interval)!,
    },
    certificates,
    secretVariables: [...new Set([defaultCredentials, ...certificates.map((entry) => entry.credentials)].flatMap(secretVariable))],
  };
}

function writableFolder(folder: string): boolean {
  try {
    accessSync(folder, fsConstants.W_OK);
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

function issueProblems(source: ConfigSource, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => source.problem(path, 'unknown key', key));
  return [source.problem(path, issue.message)];
}
