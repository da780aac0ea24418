// A real Mayfly CA in a temporary data folder, served over loopback on an ephemeral port.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDataDir } from '../../src/cli/init';
import type { Ledger } from '../../src/audit/ledger';
import { SqliteAuditStore } from '../../src/audit/sqlite_store';
import { assembleRuntime, openLedger, type Runtime } from '../../src/config/assemble';
import { loadConfig } from '../../src/config/load';
import { startServer, type RunningServer } from '../../src/http/server';
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
  stop(): Promise<void>;
}

export interface TestCaOptions {
  readonly keyType?: CaKeyType;
  /** Rewrites the generated mayfly.yaml before it is loaded; `dir` is the data folder. */
  readonly editConfig?: (yaml: string, dir: string) => string;
  readonly bodyLimit?: number;
  /** Record every decision in the config's audit ledger (audit.db in the data folder). */
  readonly audit?: boolean;
}

/** `mayfly init` into a temp folder, then load, assemble and serve it on 127.0.0.1:0. */
export async function startTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-ca-'));
  const created = await initDataDir(dir, options.keyType ?? 'p256');
  if (options.editConfig) writeFileSync(created.configFile, options.editConfig(readFileSync(created.configFile, 'utf8'), dir), { mode: 0o600 });
  const config = await loadConfig(created.configFile, new ValidatorRegistry());
  const runtime = await assembleRuntime(config);
  const ledger = options.audit ? await openLedger(config) : undefined;
  const auditDatabase = join(dir, 'audit.db');
  const auditReader = ledger ? new SqliteAuditStore(auditDatabase, { readonly: true }) : undefined;
  const server = await startServer(
    { runtime: () => runtime, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}), ...(ledger ? { ledger } : {}), ...(auditReader ? { auditReader } : {}) },
    '127.0.0.1',
    0,
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
    async stop() {
      await server.close();
      await ledger?.close();
      auditReader?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs Anchor's form fields, urlencoded. */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), headers });
}
