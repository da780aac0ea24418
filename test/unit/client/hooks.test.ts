import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentLog } from '../../../src/client/agent_log';
import { HookError, HookRunner, runHook, type Hook } from '../../../src/client/hooks';

const waitUntil = async (condition: () => boolean, timeoutMs = 10_000) => {
  for (const start = Date.now(); !condition(); ) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('hooks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-hooks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a command with the certificate in its environment', async () => {
    const out = join(dir, 'out');
    await runHook({ kind: 'command', argv: ['/bin/sh', '-c', `printf '%s %s' "$MAYFLY_CERT_NAME" "$MAYFLY_SERIAL" > ${out}`], timeoutMs: 5000 }, { MAYFLY_CERT_NAME: 'web', MAYFLY_SERIAL: 'ab12' });
    expect(readFileSync(out, 'utf8')).toBe('web ab12');
  });

  it('fails on a non-zero exit, naming the exit code and the output', async () => {
    await expect(runHook({ kind: 'command', argv: ['/bin/sh', '-c', 'echo nginx: configuration invalid >&2; exit 3'], timeoutMs: 5000 }, {})).rejects.toThrow(
      /failed \(exit 3\); output: nginx: configuration invalid/,
    );
    await expect(runHook({ kind: 'command', argv: [join(dir, 'missing-program')], timeoutMs: 5000 }, {})).rejects.toThrow(/cannot start/);
  });

  it('stops a command that outlives its timeout, and what it started', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const started = Date.now();
    // A few seconds, so the shell (slow to start on a loaded machine) has written the pid before it is stopped.
    const hook = runHook({ kind: 'command', argv: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], timeoutMs: 3000 }, {});
    const outcome = expect(hook).rejects.toThrow(/timed out after 3s and was stopped/);
    const written = () => existsSync(pidFile) && /^\d+\n$/.test(readFileSync(pidFile, 'utf8'));
    await waitUntil(written);
    await outcome;
    expect(Date.now() - started).toBeLessThan(20_000);
    // Number('') is 0, and process.kill(0, 0) always succeeds: the pid must be a real one.
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(1);
    await waitUntil(() => !alive(grandchild));
  });

  it('signals the process in a pid file, and fails clearly when there is none', async () => {
    const marker = join(dir, 'got-hup');
    const pidFile = join(dir, 'service.pid');
    const service = spawn(process.execPath, ['-e', `process.on('SIGHUP', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready');`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => service.stdout.once('data', resolve));
      writeFileSync(pidFile, `${service.pid}\n`);
      await runHook({ kind: 'signal', signal: 'SIGHUP', pidFile }, {});
      await waitUntil(() => existsSync(marker));
    } finally {
      service.kill('SIGKILL');
    }
    await expect(runHook({ kind: 'signal', signal: 'SIGHUP', pidFile: join(dir, 'none.pid') }, {})).rejects.toThrow(/cannot read the pid file/);
    writeFileSync(pidFile, '1\n');
    await expect(runHook({ kind: 'signal', signal: 'SIGHUP', pidFile }, {})).rejects.toThrow(HookError);
    writeFileSync(pidFile, 'nginx\n');
    await expect(runHook({ kind: 'signal', signal: 'SIGHUP', pidFile }, {})).rejects.toThrow(/is not a process id/);
  });

  it('HookRunner retries a failed hook until it succeeds, without holding up the others', async () => {
    const lines: string[] = [];
    const record = (level: string) => (subject: string, message: string) => void lines.push(`${level} [${subject}] ${message}`);
    const log: AgentLog = { info: record('INFO'), warn: record('WARN'), error: record('ERROR') };
    const counter = join(dir, 'runs');
    const other = join(dir, 'other');
    // Fails on its first two runs, then succeeds.
    const flaky: Hook = { kind: 'command', argv: ['/bin/sh', '-c', `echo run >> ${counter}; [ $(wc -l < ${counter}) -ge 3 ]`], timeoutMs: 5000 };
    const steady: Hook = { kind: 'command', argv: ['/bin/sh', '-c', `echo run >> ${other}`], timeoutMs: 5000 };
    const runner = new HookRunner({ initialMs: 50, maxMs: 200 }, log);
    runner.trigger('web', [flaky, steady], {});
    await waitUntil(() => lines.some((line) => line.includes('done') && line.includes(counter)), 30_000);
    await runner.stop();
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(3);
    // The steady hook ran once, on the first round, and was not repeated with the failing one.
    expect(readFileSync(other, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(lines.filter((line) => /^WARN \[web\] 1 hook\(s\) failed \(attempt \d\); trying them again in/.test(line))).toHaveLength(2);
  });
});
