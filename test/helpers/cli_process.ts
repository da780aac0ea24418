// The real `mayfly` command (bin/mayfly), run without blocking the test's event loop, so that a
// server in the test process (startTestCa, a fake server) can answer it.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mayfly ARGS` (or another build of it: `cli`) to its exit; kills it and rejects if it outlives `timeoutMs`. */
export function runCliAsync(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; cli?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mayfly ${args.join(' ')} still running after ${timeoutMs} ms; output:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes are drained.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves once `pattern` (global) matches at least `count` times in the output. */
  waitForCount(pattern: RegExp, count: number, timeoutMs: number): Promise<RegExpMatchArray[]>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `mayfly ARGS` (the agent), or another build of it (`cli`). */
export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; cli?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [options.cli ?? CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    waitForCount(pattern, count, timeoutMs) {
      if (!pattern.global) throw new Error('waitForCount needs a global pattern');
      return new Promise((resolve, reject) => {
        const check = () => {
          const matches = [...output.matchAll(pattern)];
          if (matches.length >= count) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(matches);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${count} × ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`mayfly exited before ${count} × ${pattern}; output:\n${output}`));
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}
