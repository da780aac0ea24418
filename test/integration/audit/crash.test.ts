import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { serveCli, servePlainHttp } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { makeCsr } from '../../helpers/openssl';

describe('a crash under load loses nothing a client received', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('kill -9 mid-load: the ledger verifies and holds every certificate handed out', async () => {
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    const config = join(dir, 'mayfly.yaml');
    servePlainHttp(config);
    const secret = /secret=(.*)/.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    // One CSR a load worker: each is signed again and again (a new serial each time), so more would only add openssl spawns.
    const csrs = Array.from({ length: 8 }, () => makeCsr().pem);
    const mayfly = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);

    const received: string[] = [];
    let failures = 0;
    let killed = false;
    const worker = async (offset: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const response = await fetch(`${mayfly.url}/v1/sign/default`, {
            method: 'POST',
            body: new URLSearchParams({ user: 'deployer', secret, encoding: 'pem', csr: csrs[(offset + i) % csrs.length] }),
          });
          if (response.status === 200) received.push(new X509Certificate(await response.text()).serialNumber.toLowerCase());
        } catch {
          failures += 1; // the connection died with the server
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    while (received.length < 30) await new Promise((resolve) => setTimeout(resolve, 20));
    mayfly.child.kill('SIGKILL');
    killed = true;
    await load;
    await new Promise((resolve) => mayfly.child.exitCode !== null || mayfly.child.signalCode !== null ? resolve(undefined) : mayfly.child.once('exit', resolve));
    expect(mayfly.child.signalCode).toBe('SIGKILL');
    expect(failures).toBeGreaterThan(0); // requests were in flight when it died

    const verify = await runCliInProcess(['audit', 'verify', '--config', config]);
    expect(verify.stdout).toMatch(/^OK: 1 chain\(s\) verified$/m);
    expect(verify.code).toBe(0);
    const store = new SqliteAuditStore(join(dir, 'audit.db'), { readonly: true });
    try {
      const recorded = new Set((await store.query({ outcome: 'issued' })).map((record) => (JSON.parse(record.body) as { certificate: { serial: string } }).certificate.serial));
      expect(received.filter((serial) => !recorded.has(serial))).toEqual([]);
      expect(recorded.size).toBeGreaterThanOrEqual(received.length);
    } finally {
      await store.close();
    }

    // It starts again on the same ledger with a chain of its own; both verify.
    const again = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);
    const response = await fetch(`${again.url}/v1/sign/default`, { method: 'POST', body: new URLSearchParams({ user: 'deployer', secret, csr: csrs[0] }) });
    expect(response.status).toBe(200);
    await again.stop();
    const after = await runCliInProcess(['audit', 'verify', '--config', config]);
    expect(after.stdout).toMatch(/^OK: 2 chain\(s\) verified$/m);
  }, 180_000);
});
