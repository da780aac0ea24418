// `mayfly serve --workers 2` with server.metrics_listen: the primary answers for the whole server.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, servePlainHttp, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { postForm } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

describe('metrics and readiness of several workers', () => {
  let dir: string;
  let serving: ServingCli;
  let opsUrl: string;
  let secret: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-cluster-ops-'));
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    const configFile = join(dir, 'mayfly.yaml');
    servePlainHttp(configFile);
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('server:\n', 'server:\n  metrics_listen: 127.0.0.1:0\n'), { mode: 0o600 });
    secret = /^secret=(.*)$/m.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0', '--workers', '2']);
    opsUrl = (await serving.waitFor(/Metrics and health of all 2 workers on (http:\/\/\S+)\/metrics/))[1];
    // The primary prints that before its workers run; until both answer, its /metrics waits on the
    // missing one (prom-client gives up after 5 s). Ready means both have joined.
    // Worker starts take seconds each on a loaded machine: a generous deadline.
    for (const deadline = Date.now() + 60_000; (await fetch(`${opsUrl}/readyz`)).status !== 200; ) {
      if (Date.now() > deadline) throw new Error('the workers did not become ready within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 180_000);
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sums the workers\' counters, whichever worker took each request', async () => {
    const csr = makeCsr().pem;
    for (let i = 0; i < 6; i++) {
      // A new connection each time, so the cluster spreads them over the workers.
      const response = await postForm(`${serving.url}/v1/sign/default`, { user: 'deployer', secret, encoding: 'pem', csr }, { Connection: 'close' });
      expect(response.status).toBe(200);
    }
    const text = await (await fetch(`${opsUrl}/metrics`)).text();
    expect(text).toContain('mayfly_certificates_issued_total{ra="default"} 6');
    expect(text).toContain('mayfly_requests_total{ra="default",route="/v1/sign/:ra",outcome="ok"} 6');
    // A gauge is not summed: the CA expires when it expires, however many workers report it.
    const issuing = new X509Certificate(await (await fetch(`${serving.url}/v1/ca/default`)).text());
    const expiry = Number(/^mayfly_ca_expiry_seconds\{signing_ca="local"\} (\d+)$/m.exec(text)?.[1]);
    expect(Math.abs(expiry - (Date.parse(issuing.validTo) - Date.now()) / 1000)).toBeLessThan(60);
  });

  it('is ready when every worker is, and names each worker\'s parts', async () => {
    const response = await fetch(`${opsUrl}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ready: boolean; checks: Record<string, string>; failing: string[] };
    expect(body.ready).toBe(true);
    expect(body.failing).toEqual([]);
    const workers = new Set(Object.keys(body.checks).map((name) => name.split(':')[0]));
    // Fewer than 2 means a worker was gone (it died, and is being replaced): say what the server said.
    if (workers.size !== 2) throw new Error(`/readyz named ${[...workers].join(', ')}, not 2 workers; the server said:\n${serving.output()}`);
    for (const worker of workers) expect(body.checks[`${worker}: ledger`]).toBe('ok');
    expect(await (await fetch(`${opsUrl}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  // Uncapped, V8 grew each worker's new space to 128 MiB minutes into a steady load (the soak's RSS steps).
  it('runs each worker with a capped young generation', () => {
    const primary = serving.child.pid!;
    const workers = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('serve'));
    expect(workers).toHaveLength(2);
    for (const pid of workers) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=16');
  });
});
