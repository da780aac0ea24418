// SIGTERM on the real `mayfly serve` (a child process), alone and with --workers: it stops accepting,
// lets the requests in flight finish — signed, answered and recorded — and only then exits.
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinal, parseCheckpoints, verifyCheckpoint } from '../../../src/audit/signed_checkpoint';
import { serveCli, servePlainHttp, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { heldSign } from '../../helpers/held_sign';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether connections to `url` are refused (fetch fails) within `withinMs`: true as soon as one is. */
async function refusesConnections(url: string, withinMs: number): Promise<boolean> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; await pause(100)) {
    try {
      await fetch(url, { headers: { Connection: 'close' }, signal: AbortSignal.timeout(2000) });
    } catch (error) {
      // A connection accepted but not answered yet is not a refusal.
      if ((error as Error).name !== 'TimeoutError') return true;
    }
  }
  return false;
}

describe.each([1, 2])('SIGTERM with --workers %i', (workers) => {
  let dir: string;
  let serving: ServingCli;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-drain-'));
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    servePlainHttp(join(dir, 'mayfly.yaml'));
    // The held requests' bodies may take longer than the default 10 s on a loaded machine while the test
    // waits for the listener to close; their deadline is not what this test is about.
    const configFile = join(dir, 'mayfly.yaml');
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/^server:\n/m, 'server:\n  limits:\n    body_timeout: 60s\n'), { mode: 0o600 });
  });
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops accepting, lets the slow requests in flight be signed and recorded, then exits 0', async () => {
    const configFile = join(dir, 'mayfly.yaml');
    const secret = /^secret=(.*)$/m.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0', '--workers', String(workers)]);
    // Every worker up (each takes connections in turn): a few quick requests all answered.
    for (let i = 0; i < 4; i++) expect((await fetch(`${serving.url}/healthz`, { headers: { Connection: 'close' } })).status).toBe(200);
    const inFlight = await Promise.all([0, 1, 2, 3].map(() => heldSign(serving.url, secret)));
    const exited = new Promise<number | null>((resolve) => serving.child.once('exit', (code) => resolve(code)));
    serving.child.kill('SIGTERM');
    // No longer accepting, while the requests in flight are still held open… (the primary passes the
    // signal on and each worker closes its listener: on a loaded machine that can take over a second)
    await expect(refusesConnections(`${serving.url}/healthz`, 15_000)).resolves.toBe(true);
    // …but what was in flight finishes.
    for (const request of inFlight) request.finish();
    const answers = await Promise.all(inFlight.map((request) => request.answer));
    const serials = answers.map((answer) => {
      expect(answer).toMatch(/^HTTP\/1.1 200 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      return (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { serial_number: string }).serial_number;
    });
    expect(await exited).toBe(0);
    const ledger = await runCliInProcess(['audit', 'list', '--config', configFile, '--outcome', 'issued', '--json']);
    expect(ledger.code).toBe(0);
    for (const serial of serials) expect(ledger.stdout).toContain(serial);
    const verified = await runCliInProcess(['audit', 'verify', '--config', configFile]);
    expect(verified.code).toBe(0);
    // The drain sealed everything: every chain that recorded (one a worker) ends with its final checkpoint.
    expect(verified.stdout).not.toMatch(/UNSEALED/);
    const checkpoints = await runCliInProcess(['audit', 'checkpoint', '--config', configFile]);
    expect(checkpoints.code).toBe(0);
    const publicKey = createPublicKey(readFileSync(join(dir, 'audit.pub')));
    const notes = parseCheckpoints(checkpoints.stdout);
    expect(notes.length).toBeGreaterThanOrEqual(1);
    for (const note of notes) expect(verifyCheckpoint(note, publicKey) && isFinal(note, publicKey)).toBe(true);
  }, 60_000);
});

describe('readiness while draining', () => {
  let dir: string;
  let serving: ServingCli;
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/readyz says "shutting down" from the first moment of the drain, so a load balancer stops sending', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-drain-ready-'));
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    const configFile = join(dir, 'mayfly.yaml');
    servePlainHttp(configFile);
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/^server:\n/m, 'server:\n  metrics_listen: 127.0.0.1:0\n'), { mode: 0o600 });
    const secret = /^secret=(.*)$/m.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0']);
    const readyz = `${(await serving.waitFor(/Metrics and health on (http:\/\/\S+)\/metrics/))[1]}/readyz`;
    expect((await fetch(readyz, { headers: { Connection: 'close' } })).status).toBe(200);
    const inFlight = await heldSign(serving.url, secret); // keeps the drain going
    serving.child.kill('SIGTERM');
    // The signal's arrival is not instant on a loaded machine: poll, and the first 503 must say why.
    let draining = await fetch(readyz, { headers: { Connection: 'close' } });
    for (const deadline = Date.now() + 15_000; draining.status === 200 && Date.now() < deadline; await pause(100)) {
      draining = await fetch(readyz, { headers: { Connection: 'close' } });
    }
    expect(draining.status).toBe(503);
    expect(await draining.text()).toContain('shutting down');
    inFlight.finish();
    expect(await inFlight.answer).toMatch(/^HTTP\/1.1 200 /);
  });
});
