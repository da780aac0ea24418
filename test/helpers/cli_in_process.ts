// `mayfly ARGS` run by the command's own main() (src/cli/main.ts) inside the test's process: the same
// program, options, output and exit code as bin/mayfly's, without a process and its ~0.4 s of CPU.
// For the many cases of one command; every command keeps cases run as real processes
// (cli_process.ts), and the process-level behaviour (signals, exit on a timer) is only seen there.
import { main } from '../../src/cli/main';
import type { CliResult } from './cli_process';

/** What the mocked process.exit throws: the command ends there, as the real one would. */
class ProcessExit extends Error {}

// The environment, the working folder and the output streams are the process's: one run at a time.
let previous: Promise<unknown> = Promise.resolve();

/** Runs `mayfly ARGS` in this process with `env` added to its environment, in `cwd`; resolves with what a process would have printed and its exit code. */
export function runCliInProcess(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const run = previous.then(() => runAlone(args, options));
  previous = run.catch(() => undefined);
  return run;
}

async function runAlone(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let exitCode: number | undefined;
  // Once the command has exited, what it would still print never reaches anyone.
  const capture = (append: (text: string) => void) => ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    if (exitCode === undefined) append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  }) as typeof process.stdout.write;
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture((text) => (stdout += text))),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture((text) => (stderr += text))),
    jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      exitCode ??= Number(code ?? 0);
      throw new ProcessExit(`mayfly exited with ${exitCode}`);
    }),
  ];
  const stdoutListeners = process.stdout.listeners('error');
  const environment = process.env;
  const folder = process.cwd();
  process.env = { ...environment, ...options.env };
  if (options.cwd) process.chdir(options.cwd);
  process.exitCode = undefined;
  try {
    await main(['node', 'mayfly', ...args]);
  } catch (error) {
    if (!(error instanceof ProcessExit)) throw error;
  } finally {
    exitCode ??= Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    process.env = environment;
    process.chdir(folder);
    for (const listener of process.stdout.listeners('error')) if (!stdoutListeners.includes(listener)) process.stdout.off('error', listener as () => void);
    for (const spy of spies) spy.mockRestore();
  }
  return { code: exitCode, stdout, stderr };
}
