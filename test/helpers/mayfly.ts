// A real Mayfly CA in a temporary data folder, served over loopback on an ephemeral port.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDataDir } from '../../src/cli/init';
import { assembleRuntime, type Runtime } from '../../src/config/assemble';
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
  stop(): Promise<void>;
}

export interface TestCaOptions {
  readonly keyType?: CaKeyType;
  /** Rewrites the generated mayfly.yaml before it is loaded; `dir` is the data folder. */
  readonly editConfig?: (yaml: string, dir: string) => string;
  readonly bodyLimit?: number;
}

/** `mayfly init` into a temp folder, then load, assemble and serve it on 127.0.0.1:0. */
export async function startTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-ca-'));
  const created = await initDataDir(dir, options.keyType ?? 'p256');
  if (options.editConfig) writeFileSync(created.configFile, options.editConfig(readFileSync(created.configFile, 'utf8'), dir), { mode: 0o600 });
  const runtime = await assembleRuntime(await loadConfig(created.configFile, new ValidatorRegistry()));
  const server = await startServer({ runtime: () => runtime, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) }, '127.0.0.1', 0);
  return {
    dir,
    configFile: created.configFile,
    secret: created.secret,
    rootFile: join(dir, 'ca', 'root.pem'),
    chainFile: join(dir, 'ca', 'intermediate.pem'),
    runtime,
    server,
    url: server.url,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs Anchor's form fields, urlencoded. */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), headers });
}
