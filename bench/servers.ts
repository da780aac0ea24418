// Starting and stopping the servers under test — `mayfly serve --workers N` and `cfssl serve` — as a
// user would run them, each in its own process group, always on 127.0.0.1. Every server started is
// remembered, so that whatever happens the benchmark leaves none running.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { processTree } from './proc_stats';

export interface RunningProcess {
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
  /** pid → role, e.g. primary, worker 1, cfssl. */
  readonly roles: Map<number, string>;
  exited: boolean;
}

const started = new Set<RunningProcess>();

/** One HTTP request to 127.0.0.1; resolves with the status and body, or rejects (bounded by `timeoutMs`). */
export function httpRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${url}: the benchmark only talks to 127.0.0.1`);
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: options.timeoutMs ?? 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 5000} ms`)));
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

export interface StartOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly port: number;
  readonly logFile: string;
  /** Any HTTP answer on this path means the server is up. */
  readonly readyPath: string;
  /** How many processes make the server once it is up (1 + workers for Mayfly). */
  readonly processes: number;
  readonly roleOf: (pid: number, index: number) => string;
}

/** Starts a server in its own process group and waits (at most 60 s) until it answers HTTP. */
export async function startProcess(options: StartOptions): Promise<RunningProcess> {
  const log = openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  const running: RunningProcess = { pid: child.pid, url: `http://127.0.0.1:${options.port}`, logFile: options.logFile, roles: new Map(), exited: false };
  started.add(running);
  child.on('exit', () => (running.exited = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (running.exited) throw new Error(`${options.command} ${options.args[0] ?? ''} exited while starting; its log (${options.logFile}) ends:\n${tail(options.logFile)}`);
    if (Date.now() > deadline) {
      await stopProcess(running);
      throw new Error(`${options.command} did not answer on ${running.url} within 60 s; its log ends:\n${tail(options.logFile)}`);
    }
    const answered = await httpRequest(`${running.url}${options.readyPath}`, { timeoutMs: 2000 }).then(
      () => true,
      () => false,
    );
    if (answered && processTree(running.pid).length >= options.processes) break;
    await sleep(100);
  }
  processTree(running.pid).forEach((pid, index) => running.roles.set(pid, options.roleOf(pid, index)));
  return running;
}

/** SIGTERM (so Mayfly's workers write their last checkpoint and profiles), then SIGKILL to the group after 20 s. */
export async function stopProcess(running: RunningProcess): Promise<void> {
  if (!running.exited) {
    try {
      process.kill(running.pid, 'SIGTERM');
    } catch {
      running.exited = true;
    }
    const deadline = Date.now() + 20_000;
    while (!running.exited && Date.now() < deadline) await sleep(50);
  }
  killGroup(running);
  started.delete(running);
}

function killGroup(running: RunningProcess): void {
  try {
    process.kill(-running.pid, 'SIGKILL'); // the whole group: workers too, should the primary have gone first
  } catch {
    // nothing left
  }
}

/** Synchronous last resort, for process exit and signals: kill every server group still known. */
export function killAllServers(): void {
  for (const running of started) killGroup(running);
  started.clear();
}
