import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import ipaddr from 'ipaddr.js';
import type { Ledger } from '../audit/ledger';
import { assembleRuntime, type Runtime } from '../config/assemble';
import { ledgerPublicKey, ledgerVerifyResultFile, openAuditReader, openLedger } from '../config/ledger';
import { openAcmeStore, servesAcme } from '../config/acme_store';
import { parseDuration } from '../config/duration';
import { ConfigError, configPath, loadConfig, type MayflyConfig } from '../config/load';
import { ConfigReloader } from '../config/reloader';
import { errorMessage } from '../error_message';
import { issueServerCertificate, renewalDelay, serverNames } from '../http/server_certificate';
import { startOpsServer, startServer, type RunningServer, type TlsCredentials } from '../http/server';
import { MayflyMetrics } from '../http/metrics';
import { Readiness } from '../http/readiness';
import { joinClusterOps } from './cluster_ops';
import { ValidatorRegistry } from '../policy/registry';
import { DEV_USER, initDataDir } from './init';
import { dataDir, defaultConfigFile } from './data_dir';
import { shellWord } from './shell_word';

export interface ServeOptions {
  readonly config?: string;
  readonly listen?: string;
  /** Plain HTTP instead of HTTPS: on loopback, or anywhere the config allows (server.allow_plaintext). */
  readonly allowPlaintext?: boolean;
}

export interface Serving {
  readonly server: RunningServer;
  readonly reloader: ConfigReloader;
  close(): Promise<void>;
}

/** On a fresh machine (no --config, no config in the data folder), creates the development CA. */
export async function prepareDataDir(options: ServeOptions, logger: Logger): Promise<void> {
  const home = resolve(dataDir());
  if (options.config || existsSync(defaultConfigFile())) return;
  const created = await initDataDir(home, 'p256');
  logger.info(`Created a development CA and config in ${home}/ (root SHA-256 fingerprint ${created.rootFingerprintSha256}).`);
  // Never the secret itself: log lines travel to collectors that the dev-credentials file (0600) does not.
  logger.info(`The secret of user ${DEV_USER} is in ${join(home, 'dev-credentials')} (mode 0600, secret=…); the config holds only its hash.`);
}

/**
 * Loads (or, on a fresh machine, creates) the config and serves until the process is stopped.
 * Everything it says goes through `logger`: JSON lines, or readable ones on a terminal.
 */
export async function serve(options: ServeOptions, logger: Logger, quiet = false): Promise<Serving> {
  await prepareDataDir(options, logger);
  const home = resolve(dataDir());
  const configFile = options.config ?? defaultConfigFile();
  const config = await loadConfig(configFile, new ValidatorRegistry());
  const server = config.document.server;
  logger.level = server.log_level;
  const runtime = await assembleRuntime(config);
  const [host, port] = options.listen ? splitListen(options.listen) : [config.listen.host, config.listen.port];
  const loopback = isLoopback(host);
  const plaintext = server.tls === 'off' || options.allowPlaintext === true;
  // Anchor's form API carries secrets: never serve it in clear by accident. The command-line flag
  // alone never exposes it beyond this host; another address needs the config to say so too.
  if (plaintext && !loopback && !server.allow_plaintext) {
    const how = options.allowPlaintext ? 'Drop --allow-plaintext to serve HTTPS, listen on 127.0.0.1 behind a proxy on this host' : 'Remove server.tls: off to serve HTTPS';
    throw new Error(`refusing to serve plain HTTP on ${host}: secrets would cross the network in clear. ${how}, or set server.allow_plaintext: true behind a TLS-terminating proxy`);
  }
  // The ledger opens first: the server certificate Mayfly issues itself is recorded like any other.
  const ledger = await openLedger(config, (line) => logger.info(line));
  const tls = plaintext ? undefined : await serverCredentials(config, runtime, host, ledger, logger).catch(async (error: unknown) => {
    await ledger.close();
    throw error;
  });
  const auditReader = config.document.audit.enabled ? await openAuditReader(config, { offThread: true }) : undefined;
  const auditPublicKey = config.document.audit.enabled ? await ledgerPublicKey(config) : undefined;
  // ACME's state is opened when an RA serves ACME at start (turning ACME on later takes a restart).
  const acmeStore = servesAcme(config) ? await openAcmeStore(config) : undefined;
  const limits = server.limits;
  const reloader = new ConfigReloader(runtime, (result) => {
    metrics.reloaded(result);
    if (!result.ok) {
      const problems = result.error instanceof ConfigError ? result.error.message.split('\n') : [describe(result.error)];
      logger.error({ config: configFile, problems }, 'Refused the changed config; the previous one stays in force');
    } else if (result.restartRequired.length > 0) {
      logger.warn({ config: configFile, restart_required: result.restartRequired }, `Reloaded ${configFile}; restart required for: ${result.restartRequired.join(', ')} (these settings are read only at start)`);
    } else logger.info({ config: configFile }, `Reloaded ${configFile}`);
  });
  const metrics = new MayflyMetrics(reloader.current);
  metrics.watchLedger(ledger);
  reloader.watchFile();
  const opsListen = server.metrics_listen ? splitListen(server.metrics_listen) : undefined;
  const readiness = new Readiness(reloader.current, ledger);
  // A worker of `serve --workers` leaves metrics_listen to the primary, which asks every worker.
  if (cluster.isWorker) joinClusterOps(metrics, readiness);
  const ops = opsListen && !cluster.isWorker ? await startOpsServer({ metrics: metrics.registry, readiness, serveMetrics: true, readinessReasons: true }, ...opsListen).catch(explainListenFailure(server.metrics_listen!, 'server.metrics_listen', configFile)) : undefined;
  const running = await startServer(
    {
      runtime: reloader.current,
      ledger,
      ...(auditReader ? { auditReader } : {}),
      ...(auditPublicKey ? { auditPublicKey, verifyResultFile: ledgerVerifyResultFile(config) } : {}),
      ...(acmeStore ? { acmeStore } : {}),
      bodyLimit: limits.body_bytes,
      trustedProxies: server.trusted_proxies,
      limits: {
        requestsPerMinutePerIdentity: limits.requests_per_minute_per_identity,
        requestsPerMinutePerSource: limits.requests_per_minute_per_source,
        authFailuresBeforeBackoff: limits.auth_failures_before_backoff,
        authFailuresPerSourceBeforeBackoff: limits.auth_failures_per_source_before_backoff,
        authFailureWindowMs: parseDuration(limits.auth_failure_window)!,
        authBackoffMs: parseDuration(limits.auth_backoff)!,
        maxConcurrentSigning: limits.max_concurrent_signing,
        maxUnauthenticatedPerSource: limits.max_unauthenticated_per_source,
        maxCredentialChecksPerSource: limits.max_credential_checks_per_source,
        maxCredentialChecks: limits.max_credential_checks,
        bodyTimeoutMs: parseDuration(limits.body_timeout)!,
      },
      logError: (error) => logger.error({ error: describe(error) }, 'internal error'),
      logger,
      metrics,
      readiness,
      serveMetrics: opsListen === undefined,
    },
    host,
    port,
    tls,
    { headersTimeoutMs: parseDuration(limits.header_timeout)!, requestTimeoutMs: parseDuration(limits.request_timeout)! },
  ).catch(explainListenFailure(options.listen ?? server.listen, options.listen ? '--listen' : 'server.listen', configFile));
  const renewal = tls?.renew?.(running, reloader.current);
  if (!quiet) {
    logger.info(`Mayfly listening on ${running.url} (registration authorities: ${[...runtime.registrationAuthorities.keys()].join(', ')})`);
    if (ops) logger.info(`Metrics and health on ${ops.url}/metrics, /healthz, /readyz`);
    if (!tls) logger.warn(`WARNING: serving plain HTTP (${options.allowPlaintext ? '--allow-plaintext' : 'server.tls: off'})${loopback ? ' on loopback only' : ` on ${host}: credentials travel in clear unless a proxy terminates TLS`}`);
    if (!options.config && existsSync(join(home, 'dev-credentials'))) logNextSteps(logger, running.url, home, Boolean(tls));
  }
  return {
    server: running,
    reloader,
    async close() {
      renewal?.stop();
      reloader.close();
      // Not ready from the first moment of the drain; signings in progress finish and are recorded before the ledger closes.
      readiness.shutDown();
      await running.close(parseDuration(limits.shutdown_grace)!);
      await ops?.close();
      await ledger.close();
      await auditReader?.close();
      await acmeStore?.close();
      await new Promise<void>((done) => logger.flush(() => done()));
    },
  };
}

type Credentials = TlsCredentials & { renew?: (running: RunningServer, current: () => Runtime) => { stop(): void } };

/** The server's TLS key and chain: the files configured, or a certificate Mayfly issues itself and renews. */
async function serverCredentials(config: MayflyConfig, runtime: Runtime, host: string, ledger: Ledger, logger: Logger): Promise<Credentials> {
  const server = config.document.server;
  if (server.tls !== undefined && server.tls !== 'off') {
    return { key: await readFile(configPath(config, server.tls.key), 'utf8'), cert: await readFile(configPath(config, server.tls.cert), 'utf8') };
  }
  const caName = server.tls_signing_ca ?? Object.keys(config.document.signing_ca)[0];
  const ca = runtime.signingCas.get(caName);
  if (!ca) throw new ConfigError([config.source.problem(['server', 'tls_signing_ca'], `no signing_ca named ${JSON.stringify(caName)} to issue the server certificate`)]);
  const names = serverNames(host, server.names);
  const first = await issueServerCertificate(ca, names, ledger);
  return {
    ...first,
    renew(running, current) {
      let timer: NodeJS.Timeout;
      const schedule = (delayMs: number) => {
        timer = setTimeout(async () => {
          try {
            // The CA in force now: after a rotation (and reload) the new issuing CA signs it.
            const renewed = await issueServerCertificate(current().signingCas.get(caName) ?? ca, names, ledger);
            running.updateCredentials(renewed);
            schedule(renewalDelay(renewed.notAfter));
          } catch (error) {
            logger.error({ error: describe(error) }, 'could not renew the server certificate; trying again in a minute');
            schedule(60_000);
          }
        }, delayMs);
        timer.unref();
      };
      schedule(renewalDelay(first.notAfter));
      return { stop: () => clearTimeout(timer) };
    },
  };
}

/**
 * The commands that take a newcomer from here to a verified certificate, one log line each, with
 * absolute paths (they work from any folder). The chain to verify against is fetched from
 * /v1/ca/<ra>, which serves the previous issuing CAs too: the steps still work after `ca rotate`.
 */
function logNextSteps(logger: Logger, url: string, home: string, tls: boolean): void {
  const root = shellWord(join(home, 'ca', 'root.pem'));
  const trust = tls ? `--cacert ${root} ` : '';
  const steps = [
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr -subj "/CN=svc.mayfly.test" -addext "subjectAltName=DNS:svc.mayfly.test"`,
    `curl -sS --fail-with-body ${trust}-F user=${DEV_USER} -F "secret=$(sed -n 's/^secret=//p' ${shellWord(join(home, 'dev-credentials'))})" -F encoding=pem -F csr=@svc.csr ${url}/v1/sign/default -o svc.pem`,
    `curl -sS --fail-with-body ${trust}${url}/v1/ca/default -o chain.pem`,
    `openssl verify -CAfile ${root} -untrusted chain.pem svc.pem`,
  ];
  logger.info('Request a certificate (the commands work from any folder):');
  for (const step of steps) logger.info({ next_step: true }, step);
}

/** A listen that failed, as a sentence naming the address and the setting that moves it. */
function explainListenFailure(address: string, setting: string, configFile: string): (error: NodeJS.ErrnoException) => never {
  return (error) => {
    const elsewhere = setting === 'server.metrics_listen' ? `choose another server.metrics_listen in ${configFile}` : `listen elsewhere with --listen HOST:PORT (or server.listen in ${configFile})`;
    if (error.code === 'EADDRINUSE') throw new Error(`${address} (${setting}) is already in use: another Mayfly or another program listens there. Stop it, or ${elsewhere}`);
    if (error.code === 'EACCES') throw new Error(`no permission to listen on ${address} (${setting}): ports below 1024 need privileges. Use a port above 1023, or ${elsewhere}`);
    if (error.code === 'EADDRNOTAVAIL') throw new Error(`${address} (${setting}) is not an address of this machine: ${elsewhere}`);
    throw error;
  };
}

export function splitListen(listen: string): [string, number] {
  const match = /^\[?(.*?)\]?:(\d{1,5})$/.exec(listen);
  if (!match) throw new Error(`--listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  return [match[1], Number(match[2])];
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : errorMessage(error));
