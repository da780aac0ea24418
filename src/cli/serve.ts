import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import ipaddr from 'ipaddr.js';
import { SqliteAuditStore } from '../audit/sqlite_store';
import { assembleRuntime, openLedger } from '../config/assemble';
import { ConfigError, configPath, loadConfig } from '../config/load';
import { ConfigReloader } from '../config/reloader';
import { errorMessage } from '../error_message';
import { startServer, type RunningServer } from '../http/server';
import { ValidatorRegistry } from '../policy/registry';
import { DEV_USER, initDataDir } from './init';

export interface ServeOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly allowPlaintext?: boolean;
}

/** The data folder: MAYFLY_HOME, or ./mayfly-data. */
export const dataDir = (): string => process.env.MAYFLY_HOME ?? 'mayfly-data';

/** Loads (or, on a fresh machine, creates) the config and serves until the process is stopped. */
export interface Serving {
  readonly server: RunningServer;
  readonly reloader: ConfigReloader;
  close(): Promise<void>;
}

export async function serve(options: ServeOptions, print: (line: string) => void): Promise<Serving> {
  const home = dataDir();
  const configFile = options.config ?? join(home, 'mayfly.yaml');
  // Refuse an unsafe listen address before creating anything.
  if (options.listen) refusePlaintext(splitListen(options.listen)[0], options);
  if (!options.config && !existsSync(configFile)) {
    const created = await initDataDir(home, 'p256');
    print(`Created a development CA and config in ${home}/ (root SHA-256 fingerprint ${created.rootFingerprintSha256}).`);
    print(`The secret of user "${DEV_USER}" is shown once: ${created.secret}`);
    print(`It is also in ${join(home, 'dev-credentials')} (mode 0600); the config holds only its hash.`);
  }
  const config = await loadConfig(configFile, new ValidatorRegistry());
  const runtime = await assembleRuntime(config);
  const [host, port] = options.listen ? splitListen(options.listen) : [config.listen.host, config.listen.port];
  refusePlaintext(host, options);
  const loopback = isLoopback(host);
  const reloader = new ConfigReloader(runtime, (result) => {
    if (result.ok) print(`Reloaded ${configFile}`);
    else console.error(`Refused the changed config; the previous one stays in force:\n${result.error instanceof ConfigError ? result.error.message : describe(result.error)}`);
  });
  reloader.watchFile();
  const ledger = await openLedger(config, print);
  const auditReader = config.document.audit.enabled ? new SqliteAuditStore(configPath(config, config.document.audit.database), { readonly: true }) : undefined;
  const running = await startServer(
    { runtime: reloader.current, ledger, ...(auditReader ? { auditReader } : {}), logError: (error) => console.error(`internal error: ${describe(error)}`) },
    host,
    port,
  );
  print(`Mayfly listening on ${running.url} (registration authorities: ${[...runtime.registrationAuthorities.keys()].join(', ')})`);
  if (!loopback) print(`WARNING: plain HTTP on a non-loopback address (${host}); credentials travel in clear unless a proxy terminates TLS`);
  const credentials = join(home, 'dev-credentials');
  if (!options.config && existsSync(credentials)) printNextSteps(print, running.url, relative(process.cwd(), home) || '.');
  return {
    server: running,
    reloader,
    async close() {
      reloader.close();
      await running.close();
      await ledger.close();
      auditReader?.close();
    },
  };
}

function printNextSteps(print: (line: string) => void, url: string, home: string): void {
  print('');
  print('Request a certificate:');
  print(`  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr -subj "/CN=svc.mayfly.test" -addext "subjectAltName=DNS:svc.mayfly.test"`);
  print(`  curl -sS --fail-with-body -F user=${DEV_USER} -F "secret=$(sed -n 's/^secret=//p' ${shellWord(join(home, 'dev-credentials'))})" -F encoding=pem -F csr=@svc.csr ${url}/v1/sign/default -o svc.pem`);
  print(`  openssl verify -CAfile ${shellWord(join(home, 'ca', 'root.pem'))} -untrusted ${shellWord(join(home, 'ca', 'intermediate.pem'))} svc.pem`);
  print('');
}

function refusePlaintext(host: string, options: ServeOptions): void {
  if (!isLoopback(host) && !options.allowPlaintext) {
    throw new Error(`refusing to serve plain HTTP on ${host}: secrets would cross the network in clear. Listen on a loopback address, or pass --allow-plaintext behind a TLS-terminating proxy`);
  }
}

/** A path as one shell word, so printed commands work when it holds spaces or quotes. */
const shellWord = (text: string): string => (/^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

function splitListen(listen: string): [string, number] {
  const match = /^\[?(.*?)\]?:(\d{1,5})$/.exec(listen);
  if (!match) throw new Error(`--listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  return [match[1], Number(match[2])];
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : errorMessage(error));
