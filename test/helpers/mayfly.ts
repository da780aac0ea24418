// A real Mayfly CA in a temporary data folder, served over loopback on an ephemeral port.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequestRaw } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDataDir } from '../../src/cli/init';
import { disabledLedger, type Ledger } from '../../src/audit/ledger';
import type { AuditReader } from '../../src/audit/store';
import { openAcmeStore } from '../../src/config/acme_store';
import { assembleRuntime, type Runtime } from '../../src/config/assemble';
import { ledgerPublicKey, ledgerVerifyResultFile, openAuditReader, openLedger } from '../../src/config/ledger';
import { configPath, loadConfig } from '../../src/config/load';
import { DEFAULT_LIMITS, type LimitOptions } from '../../src/http/limits';
import { startServer, type RunningServer } from '../../src/http/server';
import { issueServerCertificate, serverNames } from '../../src/http/server_certificate';
import type { CaKeyType } from '../../src/issuance/ca_bootstrap';
import { ValidatorRegistry } from '../../src/policy/registry';

export interface TestCa {
  readonly dir: string;
  readonly configFile: string;
  readonly secret: string;
  readonly rootFile: string;
  readonly chainFile: string;
  readonly runtime: Runtime;
  readonly server: RunningServer;
  readonly url: string;
  /** The audit ledger, when started with `audit: true`. */
  readonly ledger?: Ledger;
  readonly auditDatabase: string;
  /** What a `mayfly` command run against this CA's config needs in its environment (the ledger's URL). */
  readonly cliEnv: NodeJS.ProcessEnv;
  /** Reads the ledger from whichever store the CA writes (close it after use). */
  openAuditReader(): Promise<AuditReader>;
  stop(): Promise<void>;
}

export interface TestCaOptions {
  readonly keyType?: CaKeyType;
  /** Rewrites the generated mayfly.yaml before it is loaded; `dir` is the data folder. */
  readonly editConfig?: (yaml: string, dir: string) => string;
  readonly bodyLimit?: number;
  /** Record every decision in the config's audit ledger (`auditDatabase`: audit.db in the data folder unless the config says otherwise). */
  readonly audit?: boolean;
  /** With `audit`: the ledger in this PostgreSQL database (test/helpers/postgres.ts) instead of SQLite. */
  readonly auditPostgresUrl?: string;
  /** Serve HTTPS with a server certificate from the first signing CA (clients trust `rootFile`). */
  readonly tls?: boolean;
  readonly limits?: Partial<LimitOptions>;
  readonly trustedProxies?: readonly string[];
  /** Serve ACME (RAs with an `acme:` profile), its state in acme.db in the data folder. */
  readonly acme?: boolean;
}

/**
 * Tests send many requests, and many deliberately bad ones, from 127.0.0.1 to one server: the rate
 * limits, the caps on unauthenticated requests and credential checks, and the authentication back-off
 * are lifted unless a test sets them (test/integration/limits.test.ts, front_door.test.ts).
 */
export const TEST_LIMITS: LimitOptions = {
  ...DEFAULT_LIMITS,
  requestsPerMinutePerIdentity: 0,
  requestsPerMinutePerSource: 0,
  authFailuresBeforeBackoff: 1_000_000,
  authFailuresPerSourceBeforeBackoff: 1_000_000,
  maxUnauthenticatedPerSource: 1_000_000,
  maxCredentialChecksPerSource: 1_000_000,
  maxCredentialChecks: 1_000_000,
};

const AUDIT_URL_ENV = 'MAYFLY_TEST_AUDIT_URL';

/** `mayfly init` into a temp folder, then load, assemble and serve it on 127.0.0.1:0. */
export async function startTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-ca-'));
  const created = await initDataDir(dir, options.keyType ?? 'p256');
  if (options.editConfig) writeFileSync(created.configFile, options.editConfig(readFileSync(created.configFile, 'utf8'), dir), { mode: 0o600 });
  const cliEnv = options.auditPostgresUrl ? { [AUDIT_URL_ENV]: options.auditPostgresUrl } : {};
  const env = { ...process.env, ...cliEnv };
  if (options.auditPostgresUrl) writeFileSync(created.configFile, `${readFileSync(created.configFile, 'utf8')}\naudit:\n  store: postgres\n  url_env: ${AUDIT_URL_ENV}\n`, { mode: 0o600 });
  const config = await loadConfig(created.configFile, new ValidatorRegistry());
  const runtime = await assembleRuntime(config);
  const ledger = options.audit ? await openLedger(config, undefined, env) : undefined;
  const auditDatabase = configPath(config, config.document.audit.database);
  const auditReader = ledger ? await openAuditReader(config, { offThread: false }, env) : undefined;
  const acmeStore = options.acme ? await openAcmeStore(config, env) : undefined;
  const tls = options.tls ? await issueServerCertificate([...runtime.signingCas.values()][0], serverNames('127.0.0.1', []), ledger ?? disabledLedger) : undefined;
  const server = await startServer(
    {
      runtime: () => runtime,
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(ledger ? { ledger } : {}),
      ...(auditReader ? { auditReader, auditPublicKey: await ledgerPublicKey(config), verifyResultFile: ledgerVerifyResultFile(config) } : {}),
      ...(acmeStore ? { acmeStore } : {}),
      limits: { ...TEST_LIMITS, ...options.limits },
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    },
    '127.0.0.1',
    0,
    tls,
  );
  return {
    dir,
    configFile: created.configFile,
    secret: created.secret,
    rootFile: join(dir, 'ca', 'root.pem'),
    chainFile: join(dir, 'ca', 'intermediate.pem'),
    runtime,
    server,
    url: server.url,
    ...(ledger ? { ledger } : {}),
    auditDatabase,
    cliEnv,
    openAuditReader: () => openAuditReader(config, { offThread: false }, env),
    async stop() {
      await server.close();
      await ledger?.close();
      await auditReader?.close();
      await acmeStore?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs Anchor's form fields, urlencoded. */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), headers });
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTPS request with Node's client: trusting `ca`, optionally presenting a client certificate. */
export function httpsRequest(
  url: string,
  options: { ca: string; cert?: string; key?: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequestRaw(
      url,
      { method: options.method ?? 'GET', ca: options.ca, ...(options.cert ? { cert: options.cert, key: options.key } : {}), headers: options.headers ?? {}, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
