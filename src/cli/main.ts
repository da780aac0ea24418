import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { hashSecret } from '../auth/secret_hash';
import { errorMessage } from '../error_message';
import { createToken } from '../auth/token';
import { parseDuration } from '../config/duration';
import { ConfigError, configPath, loadConfig } from '../config/load';
import { CA_KEY_TYPES, type CaKeyType } from '../issuance/ca_bootstrap';
import { SignerConfigError } from '../signers/signer';
import { readFile, writeFile } from 'node:fs/promises';
import { importAnchorConfig } from '../config/import_anchor';
import { initDataDir } from './init';
import { TOKEN_KEY_TYPES, type TokenKeyType } from '../signers/pkcs11/key_generation';
import { pkcs11InitCa } from './pkcs11';
import { rotateSigningCa } from './ca';
import { policyCheck, policyTest } from './policy';
import { auditExport, auditList, auditShow, auditVerify } from './audit';
import type { AuditQuery } from '../audit/store';
import { dataDir, prepareDataDir, serve, splitListen } from './serve';
import { startClusterOpsServer } from './cluster_ops';
import { runRequest, type RequestOptions } from './request';
import { runAgent, type AgentCliOptions } from './agent';
import { CLIENT_KEY_TYPES } from '../client/key_pair';
import { EXIT_CODE_HELP, EXIT_CODES } from '../client/errors';

const print = (line: string) => process.stdout.write(`${line}\n`);

/** Errors a user can fix are printed as they are; anything else without its stack. */
function fail(error: unknown): never {
  if (error instanceof ConfigError) process.stderr.write(`mayfly: the config has errors:\n${error.message}\n`);
  else if (error instanceof SignerConfigError) process.stderr.write(`mayfly: ${error.message}\n`);
  else process.stderr.write(`mayfly: ${errorMessage(error)}\n`);
  process.exit(1);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function buildProgram(): Command {
  const program = new Command('mayfly').description('A short-lived certificate authority: policy in YAML, every decision audited.');
  program
    .command('serve')
    .description('serve the API (on a fresh machine, first creates a development CA and config)')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml, created if missing)')
    .option('--listen <host:port>', 'listen address, overriding server.listen')
    .option('--workers <n>', 'processes sharing the port: a number, or "auto" for one per core', '1')
    .action(async (options: { config?: string; listen?: string; workers: string }) => {
      const workers = options.workers === 'auto' ? availableParallelism() : Number(options.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a whole number ≥ 1, or auto');
      if (workers > 1 && cluster.isPrimary) return superviseWorkers(options, workers);
      const worker = Number(process.env.MAYFLY_WORKER ?? 0);
      const serving = await serve(options, print, worker > 0);
      // Stopping lets requests in progress finish (server.limits.shutdown_grace), then writes a last
      // checkpoint, so the ledger's head at shutdown is signed. A second SIGTERM (systemd signals the
      // whole group, and the primary of --workers passes it on) changes nothing; a second ^C stops at once.
      let stopping: Promise<void> | undefined;
      const stop = () => void (stopping ??= serving.close().then(() => process.exit(0)));
      process.once('SIGINT', stop);
      process.on('SIGTERM', stop);
      process.on('SIGHUP', () => void serving.reloader.reload());
    });
  program
    .command('init')
    .description('create a development CA, a commented config and a static credential')
    .option('--dir <dir>', 'data folder (default: $MAYFLY_HOME or ./mayfly-data)')
    .addOption(new Option('--key-type <type>', 'CA key type').choices(CA_KEY_TYPES).default('p256'))
    .action(async (options: { dir?: string; keyType: CaKeyType }) => {
      const dir = options.dir ?? dataDir();
      const created = await initDataDir(dir, options.keyType);
      print(`Created ${created.configFile} with a ${options.keyType} development CA.`);
      print(`Root SHA-256 fingerprint: ${created.rootFingerprintSha256}`);
      print(`The secret of user "deployer" is shown once: ${created.secret} (also in ${dir}/dev-credentials, mode 0600)`);
    });
  program
    .command('hash-secret')
    .description('read a secret on stdin and print the hash to put in the config as secret_hash')
    .action(async () => {
      const secret = (await readStdin()).replace(/\r?\n$/, '');
      if (secret.length === 0) throw new Error('no secret on stdin');
      print(await hashSecret(secret));
    });
  program
    .command('pkcs11')
    .description('CA keys in a PKCS#11 token')
    .command('init-ca')
    .description('generate a CA key inside the token (non-extractable) and write a self-signed CA certificate or a CSR')
    .requiredOption('--module <path>', 'PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .requiredOption('--token-label <label>', 'token to use')
    .requiredOption('--key-label <label>', 'label of the new key')
    .addOption(new Option('--key-type <type>', 'key type').choices(TOKEN_KEY_TYPES).default('p256'))
    .requiredOption('--subject <dn>', 'subject, e.g. "/CN=Mayfly Issuing CA/O=Acme"')
    .option('--pin-env <VAR>', 'environment variable holding the PIN (default MAYFLY_PKCS11_PIN)')
    .option('--pin-file <file>', 'file (mode 0600) holding the PIN')
    .option('--self-signed', 'write a self-signed CA certificate (with --out)')
    .option('--out <file>', 'where the self-signed certificate goes')
    .option('--csr <file>', 'write a CSR for an external root instead')
    .option('--days <n>', 'validity of the self-signed certificate', (value) => Number(value), 3650)
    .action(async (options: { module: string; tokenLabel: string; keyLabel: string; keyType: TokenKeyType; subject: string; pinEnv?: string; pinFile?: string; selfSigned?: boolean; out?: string; csr?: string; days: number }) =>
      pkcs11InitCa(options, print),
    );
  const defaultConfig = () => join(dataDir(), 'mayfly.yaml');
  program
    .command('token')
    .description('bearer tokens for the token backend')
    .command('create')
    .description('create a bearer token, print it once, and keep only its hash in the tokens file')
    .requiredOption('--auth <name>', 'the authentication entry (backend: token)')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .option('--name <name>', 'who the token is for (shown as the requester)')
    .option('--groups <a,b>', 'groups, comma-separated', '')
    .option('--ttl <duration>', 'lifetime, e.g. 30d or 12h (default: no expiry)')
    .action(async (options: { auth: string; config?: string; name?: string; groups: string; ttl?: string }) => {
      const config = await loadConfig(options.config ?? defaultConfig());
      const entry = config.document.authentication[options.auth];
      if (!entry || entry.backend !== 'token') throw new Error(`authentication ${options.auth} is not a token backend in ${config.source.file}`);
      const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl);
      if (options.ttl !== undefined && ttlMs === undefined) throw new Error(`--ttl ${options.ttl} is not a duration such as 30d or 12h`);
      const { token, entry: created } = await createToken(configPath(config, entry.tokens_file), {
        ...(options.name ? { name: options.name } : {}),
        groups: options.groups.split(',').map((g) => g.trim()).filter(Boolean),
        ...(ttlMs !== undefined ? { ttlMs } : {}),
      });
      print(token);
      process.stderr.write(`Token ${created.id} for ${created.name}${created.expires ? `, expires ${created.expires}` : ''}. It is shown only now; the file keeps its hash.\n`);
    });
  const audit = program.command('audit').description('query and verify the audit ledger');
  const withFilters = (command: Command) =>
    command
      .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
      .option('--ra <name>', 'registration authority')
      .option('--since <time>', 'from this time (ISO 8601, e.g. 2026-11-23 or 2026-11-23T10:00:00Z)')
      .option('--until <time>', 'before this time')
      .option('--name <glob>', 'a DNS name or IP, * and ? allowed, e.g. "*.payments.example.com"')
      .addOption(new Option('--outcome <outcome>').choices(['issued', 'refused', 'error']))
      .option('--serial <serial>', 'certificate serial, hex');
  const queryOf = (options: { ra?: string; since?: string; until?: string; name?: string; outcome?: string; serial?: string }): AuditQuery => ({
    ...(options.ra !== undefined ? { ra: options.ra } : {}),
    ...(options.since !== undefined ? { since: isoTime(options.since) } : {}),
    ...(options.until !== undefined ? { until: isoTime(options.until) } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.outcome !== undefined ? { outcome: options.outcome } : {}),
    ...(options.serial !== undefined ? { serial: options.serial } : {}),
  });
  withFilters(audit.command('list').description('list decisions, oldest first'))
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean } & Parameters<typeof queryOf>[0]) => auditList(options.config ?? defaultConfig(), queryOf(options), options.json === true, print));
  audit
    .command('show <which>')
    .description('one record in full, by certificate serial, sequence number, or chain:seq; the certificate decoded')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .action(async (which: string, options: { config?: string }) => {
      if (!(await auditShow(options.config ?? defaultConfig(), which, print))) process.exitCode = 1;
    });
  audit
    .command('verify')
    .description('walk every chain and checkpoint; exit 1 naming the first bad record')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .action(async (options: { config?: string }) => {
      if (!(await auditVerify(options.config ?? defaultConfig(), print))) process.exitCode = 1;
    });
  withFilters(audit.command('export').description('export records'))
    .addOption(new Option('--format <format>').choices(['jsonl', 'csv', 'cadf']).default('jsonl'))
    .action(async (options: { config?: string; format: 'jsonl' | 'csv' | 'cadf' } & Parameters<typeof queryOf>[0]) =>
      auditExport(options.config ?? defaultConfig(), options.format, queryOf(options), print),
    );
  program
    .command('ca')
    .description('the issuing CAs')
    .command('rotate')
    .description('create a new issuing CA under the same root, beside the old one, and switch the config to it; the old chain stays served and trusted until its certificates have expired')
    .requiredOption('--signing-ca <name>', 'the signing_ca entry to rotate')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .addOption(new Option('--key-type <type>', 'new key type (default: that of the key it replaces)').choices(CA_KEY_TYPES))
    .option('--subject <dn>', 'subject, e.g. "/CN=Acme Issuing CA 2/O=Acme" (default: the current one, its CN dated today)')
    .option('--days <n>', 'validity of the new CA certificate, never past the root\'s', (value) => Number(value), 365)
    .option('--root-cert <file>', 'the root certificate (default: ca/root.pem beside the config)')
    .option('--root-key <file>', 'the root key, mode 0600 (default: ca/root.key beside the config)')
    .option('--root-passphrase-env <VAR>', 'environment variable holding the passphrase of an encrypted root key')
    .option('--out <prefix>', 'write PREFIX.pem (and PREFIX.key) (default: beside the current certificate, dated today)')
    .option('--key-label <label>', 'pkcs11: label of the new key in the token (default: the current label, dated today)')
    .option('--no-edit-config', 'write only the new key and certificate, and print the config change to make')
    .action(async (options: { signingCa: string; config?: string; keyType?: CaKeyType; subject?: string; days: number; rootCert?: string; rootKey?: string; rootPassphraseEnv?: string; out?: string; keyLabel?: string; editConfig: boolean }) => {
      if (!Number.isInteger(options.days) || options.days < 1) throw new Error('--days must be a whole number ≥ 1');
      await rotateSigningCa({ ...options, config: options.config ?? defaultConfig() }, print);
    });
  const policy = program.command('policy').description('check and try out policy without serving');
  policy
    .command('check')
    .description('load and validate the config (keys and plugins included); exit 0 when valid, 1 otherwise')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .action(async (options: { config?: string }) => policyCheck(options.config ?? join(dataDir(), 'mayfly.yaml'), print));
  policy
    .command('test')
    .description('run an RA\'s validators on a CSR without signing; exit 0 pass, 2 refused')
    .option('--config <file>', 'config file (default: $MAYFLY_HOME/mayfly.yaml)')
    .requiredOption('--ra <name>', 'registration authority')
    .requiredOption('--csr <file>', 'the CSR, PEM or DER')
    .option('--source-ip <ip>', 'client address the request would come from', '127.0.0.1')
    .option('--user <name>', 'requester name', 'policy-test')
    .option('--groups <a,b>', 'requester groups, comma-separated', '')
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; ra: string; csr: string; sourceIp: string; user: string; groups: string; json?: boolean }) => {
      process.exitCode = await policyTest(
        {
          config: options.config ?? join(dataDir(), 'mayfly.yaml'),
          ra: options.ra,
          csr: options.csr,
          sourceIp: options.sourceIp,
          user: options.user,
          groups: options.groups.split(',').map((g) => g.trim()).filter(Boolean),
          json: options.json === true,
        },
        print,
      );
    });
  program
    .command('config')
    .description('convert configs')
    .command('import-anchor <config.json>')
    .description('convert an OpenStack Anchor config.json to Mayfly YAML (secrets hashed); what cannot be converted is reported')
    .option('--out <file>', 'write the YAML here (mode 0600) instead of stdout')
    .action(async (file: string, options: { out?: string }) => {
      let anchor: unknown;
      try {
        anchor = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new Error(`${file} is not readable JSON: ${errorMessage(error)}`);
      }
      const converted = await importAnchorConfig(anchor);
      if (options.out) await writeFile(options.out, converted.yaml, { mode: 0o600, flag: 'wx' });
      else process.stdout.write(converted.yaml);
      for (const line of converted.unconverted) process.stderr.write(`not converted: ${line}\n`);
    });
  // request and agent exit with documented codes; a usage error is 2 there, as in their --help.
  const usageExit = (error: { exitCode: number }) => process.exit(error.exitCode === 0 ? 0 : EXIT_CODES.usage);
  program
    .command('request')
    .description('get a certificate now: make a key here (it never leaves the host), send its CSR, check the answer, write key and certificate atomically')
    .requiredOption('--server <url>', 'the Mayfly server, e.g. https://ca.example.com:5016')
    .requiredOption('--ra <name>', 'registration authority')
    .requiredOption('--cn <name>', 'common name; also the DNS or IP subjectAltName when no --san is given')
    .option('--san <DNS:name|IP:address>', 'a subjectAltName (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .addOption(new Option('--key-type <type>', 'key type').choices(CLIENT_KEY_TYPES).default('p256'))
    .requiredOption('--cert <file>', 'where the certificate goes')
    .requiredOption('--key <file>', 'where the private key goes (mode 0600)')
    .option('--chain <file>', 'where the issuing chain goes (intermediates, without the root)')
    .option('--fullchain <file>', 'where the certificate followed by the issuing chain goes')
    .option('--user <name>', 'static credentials: user, with --secret-env')
    .option('--secret-env <VAR>', 'environment variable holding the secret (never the secret itself)')
    .option('--token-env <VAR>', 'environment variable holding a bearer token')
    .option('--mtls-cert <file>', 'authenticate with this client certificate (with --mtls-key)')
    .option('--mtls-key <file>', 'the client certificate\'s key')
    .option('--root-fingerprint <SHA256:hex>', 'trust the root with this SHA-256 fingerprint (as `mayfly init` prints it)')
    .option('--cacert <file>', 'trust the root(s) in this PEM file')
    .option('--timeout <duration>', 'how long to wait for the server', '30s')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`)
    .exitOverride(usageExit)
    .action(async (options: RequestOptions) => {
      process.exitCode = await runRequest(options, print, (line) => process.stderr.write(`${line}\n`));
    });
  program
    .command('agent')
    .description('keep certificates fresh: renew at about 2/3 of their life, retry with back-off, run hooks after each renewal')
    .requiredOption('--config <file>', 'agent config (see config/examples/agent/agent.yaml)')
    .option('--once', 'get every certificate that is missing, unusable or due, then exit: 0 when all are in place (codes as for request)')
    .option('--timeout <duration>', 'with --once: how long to keep retrying an unreachable or busy server', '5m')
    .addHelpText('after', `\nWith --once, the exit codes are those of \`mayfly request\` (0 when every certificate is in place).`)
    .exitOverride(usageExit)
    .action(async (options: AgentCliOptions) => {
      const code = await runAgent(options, (line) => process.stderr.write(`${line}\n`));
      if (code !== undefined) process.exitCode = code;
    });
  return program;
}

/**
 * The primary of `serve --workers N`: prepares the data folder once, then runs N workers that share
 * the port (each its own ledger chain). It passes SIGHUP on, replaces a worker that dies, and on
 * SIGTERM stops them all, each writing its last checkpoint.
 */
async function superviseWorkers(options: { config?: string; listen?: string }, workers: number): Promise<void> {
  await prepareDataDir(options, print);
  const metricsListen = (await loadConfig(options.config ?? join(dataDir(), 'mayfly.yaml'))).document.server.metrics_listen;
  if (metricsListen) {
    const ops = await startClusterOpsServer(...splitListen(metricsListen));
    print(`Metrics and health of all ${workers} workers on ${ops.url}/metrics, /healthz, /readyz`);
  }
  let stopping = false;
  const start = (index: number) => {
    const worker = cluster.fork({ MAYFLY_WORKER: String(index) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`mayfly: worker ${index} stopped (${signal ?? `exit ${code}`}); starting another\n`);
      setTimeout(() => start(index), 1000).unref();
    });
  };
  for (let index = 0; index < workers; index++) start(index);
  process.on('SIGHUP', () => Object.values(cluster.workers ?? {}).forEach((worker) => worker?.process.kill('SIGHUP')));
  const stop = () => {
    stopping = true;
    const running = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    if (running.length === 0) process.exit(0);
    let left = running.length;
    for (const worker of running) {
      worker.once('exit', () => {
        left -= 1;
        if (left === 0) process.exit(0);
      });
      worker.process.kill('SIGTERM');
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A date or time as the ledger's ISO form (UTC); refuses what is not one. */
function isoTime(text: string): string {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new Error(`${JSON.stringify(text)} is not a date or time (use ISO 8601, e.g. 2026-11-23T10:00:00Z)`);
  return new Date(time).toISOString();
}

/** Runs the command line; the `mayfly` bin and `npm start` both come here. */
export function main(argv: readonly string[]): void {
  // `mayfly audit export | head`: the reader has what it wanted; stop quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? process.exit(0) : fail(error)));
  buildProgram().parseAsync([...argv]).catch(fail);
}

if (require.main === module) main(process.argv);
