import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../error_message';
import type { AgentLog } from './agent_log';
import { formatDuration, systemClock, type Clock, type TimerHandle } from './clock';

/** What to do after a renewal so the service uses the new certificate. */
export type Hook =
  | { readonly kind: 'command'; readonly argv: readonly string[]; readonly timeoutMs: number }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals; readonly pid?: number; readonly pidFile?: string };

export class HookError extends Error {
  override readonly name = 'HookError';
}

export function describeHook(hook: Hook): string {
  if (hook.kind === 'command') return `command ${JSON.stringify(hook.argv.join(' ')).slice(0, 120)}`;
  return `${hook.signal} to ${hook.pidFile ? `the pid in ${hook.pidFile}` : `pid ${hook.pid}`}`;
}

// How long a command has to stop after SIGTERM, before SIGKILL.
const KILL_GRACE_MS = 5_000;
const OUTPUT_TAIL = 2_000;

/** Runs one hook with `env` added to `inherited`; throws HookError saying why it failed. */
export async function runHook(hook: Hook, env: Readonly<Record<string, string>>, inherited: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (hook.kind === 'signal') return signalProcess(hook);
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout stops what a shell command started too.
    const child = spawn(hook.argv[0], hook.argv.slice(1), { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    }, hook.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new HookError(`${describeHook(hook)} cannot start: ${errorMessage(error)}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const tail = output.trim() ? `; output: ${output.trim().split('\n').slice(-5).join(' | ')}` : '';
      if (timedOut) reject(new HookError(`${describeHook(hook)} timed out after ${formatDuration(hook.timeoutMs)} and was stopped${tail}`));
      else if (code !== 0) reject(new HookError(`${describeHook(hook)} failed (${signal ? `killed by ${signal}` : `exit ${code}`})${tail}`));
      else resolve();
    });
  });
}

async function signalProcess(hook: Extract<Hook, { kind: 'signal' }>): Promise<void> {
  let pid = hook.pid;
  if (hook.pidFile) {
    const text = await readFile(hook.pidFile, 'utf8').catch(() => undefined);
    if (text === undefined) throw new HookError(`cannot read the pid file ${hook.pidFile}`);
    pid = Number(text.trim());
  }
  // Never 0, 1 or negative: those would signal a process group, init, or everything.
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) throw new HookError(`${describeHook(hook)}: ${pid} is not a process id`);
  try {
    process.kill(pid, hook.signal);
  } catch (error) {
    throw new HookError(`${describeHook(hook)}: ${(error as NodeJS.ErrnoException).code === 'ESRCH' ? `no process ${pid}` : errorMessage(error)}`);
  }
}

/** Back-off for hooks that failed. */
export interface HookRetry {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Runs a certificate's hooks after each renewal, in order. A hook that fails is logged and tried
 * again (doubling delays up to the cap) until it succeeds; a failed hook never stops the agent and
 * never blocks the other hooks. A newer renewal replaces the retries of the one before.
 */
export class HookRunner {
  private readonly generations = new Map<string, number>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly retry: HookRetry,
    private readonly log: AgentLog,
    private readonly clock: Clock = systemClock,
    /** The environment hooks inherit: the agent's, without the variables that hold its credentials. */
    private readonly inherited: NodeJS.ProcessEnv = process.env,
  ) {}

  trigger(name: string, hooks: readonly Hook[], env: Readonly<Record<string, string>>): void {
    if (hooks.length === 0) return;
    const generation = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, generation);
    this.cancelTimer(name);
    this.start(name, generation, hooks, env, 1);
  }

  /** Cancels pending retries and waits for hooks that are running. */
  async stop(): Promise<void> {
    for (const name of [...this.timers.keys()]) this.cancelTimer(name);
    this.generations.clear();
    await Promise.all(this.running);
  }

  private start(name: string, generation: number, hooks: readonly Hook[], env: Readonly<Record<string, string>>, attempt: number): void {
    const run = this.runAll(name, generation, hooks, env, attempt).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async runAll(name: string, generation: number, hooks: readonly Hook[], env: Readonly<Record<string, string>>, attempt: number): Promise<void> {
    const failed: Hook[] = [];
    for (const hook of hooks) {
      if (this.generations.get(name) !== generation) return;
      try {
        await runHook(hook, env, this.inherited);
        this.log.info(name, `hook ${describeHook(hook)} done`);
      } catch (error) {
        failed.push(hook);
        this.log.warn(name, `hook ${errorMessage(error)}`);
      }
    }
    if (failed.length === 0 || this.generations.get(name) !== generation) return;
    const delay = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** Math.min(attempt - 1, 30));
    this.log.warn(name, `${failed.length} hook(s) failed (attempt ${attempt}); trying them again in ${formatDuration(delay)}`);
    this.timers.set(
      name,
      this.clock.setTimer(() => {
        this.timers.delete(name);
        if (this.generations.get(name) === generation) this.start(name, generation, failed, env, attempt + 1);
      }, delay),
    );
  }

  private cancelTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer) this.clock.clearTimer(timer);
    this.timers.delete(name);
  }
}
