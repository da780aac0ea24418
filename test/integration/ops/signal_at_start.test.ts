// A SIGTERM sent the moment `mayfly serve` prints where it listens (a service manager stopping a CA
// it has just started, a test stopping its server) drains and exits 0, as at any later moment. The
// handlers used to be set only after that line, and on Node 24 such a signal often ended the process
// by Node's default action: no drain, no last checkpoint, exit by signal.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, servePlainHttp } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';

/** Starts `mayfly serve`, sends SIGTERM on the line that says where it listens; how it ended. */
function stopOnListening(configFile: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const listening = /Mayfly listening/.test(output);
      output += chunk.toString();
      if (!listening && /Mayfly listening/.test(output)) child.kill('SIGTERM');
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('mayfly serve stopped as soon as it listens', () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-signal-'));
    expect((await runCliInProcess(['init', '--dir', work])).code).toBe(0);
    servePlainHttp(join(work, 'mayfly.yaml'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('drains and exits 0 every time', async () => {
    for (let run = 0; run < 8; run++) {
      expect(await stopOnListening(join(work, 'mayfly.yaml'))).toEqual({ code: 0, signal: null });
    }
  }, 180_000);
});
