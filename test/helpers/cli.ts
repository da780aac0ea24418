// The real `mayfly` command as a user runs it: bin/mayfly, which runs the bundle `npm run build` makes
// (dist/server/mayfly.js).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess } from './cli_in_process';

export const CLI = join(__dirname, '..', '..', 'bin', 'mayfly');

/** Runs `mayfly ARGS` to completion. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    input: options.input,
    timeout: 60_000,
  });
}

export interface ServingCli {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves when the output matches `pattern`, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/**
 * Starts `mayfly serve ARGS` and resolves once it prints where it listens. `command` is how `mayfly`
 * is started: by default the test's own Node running dist/.
 */
export async function serveCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; command?: readonly string[] } = {}): Promise<ServingCli> {
  const [program, ...programArgs] = options.command ?? [process.execPath, CLI];
  const child = spawn(program, [...programArgs, 'serve', ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
      }, timeoutMs);
      listeners.add(check);
      child.once('exit', () => {
        if (listeners.has(check)) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`mayfly exited before printing ${pattern}; output:\n${output}`));
        }
      });
      check();
    });
  // The first start makes a CA: on a loaded machine that alone can take tens of seconds.
  const [, url] = await waitFor(/Mayfly listening on (https?:\/\/\S+)/, 90_000);
  return {
    child,
    url,
    output: () => output,
    waitFor,
    stop: () =>
      new Promise<void>((resolve) => {
        // A child killed by a signal has a signalCode and no exitCode.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Turns HTTPS off in a config (loopback only), for tests about something else than TLS. */
export function servePlainHttp(configFile: string): void {
  const yaml = readFileSync(configFile, 'utf8');
  writeFileSync(configFile, yaml.replace(/^server:\n/m, 'server:\n  tls: off\n'), { mode: 0o600 });
}

export interface InitialisedServer {
  readonly serving: ServingCli;
  /** The deployer's secret from dev-credentials. */
  readonly secret: string;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

/**
 * `mayfly init` (in this process) into a temp folder, plain HTTP, the config edited by `editConfig`, then `mayfly serve
 * --workers N` in a child process: a crash there is the server's, not the test worker's.
 */
export async function serveFreshWorkers(workers: number, editConfig: (yaml: string) => string = (yaml) => yaml): Promise<InitialisedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-workers-'));
  const init = await runCliInProcess(['init', '--dir', dir]);
  if (init.code !== 0) throw new Error(`mayfly init failed: ${init.stderr}`);
  const configFile = join(dir, 'mayfly.yaml');
  servePlainHttp(configFile);
  writeFileSync(configFile, editConfig(readFileSync(configFile, 'utf8')), { mode: 0o600 });
  const secret = /^secret=(.*)$/m.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
  const serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0', '--workers', String(workers)]);
  return {
    serving,
    secret,
    async stop() {
      await serving.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
