// The load generator: wrk (Debian's), driven by wrk_rotate.lua over pre-built request bodies.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseReapedChildrenCpu, round } from './proc_stats';

/** What one wrk run measured. Latencies in milliseconds. */
export interface LoadResult {
  readonly durationSeconds: number;
  readonly requests: number;
  /** 2xx responses carrying a certificate. */
  readonly issued: number;
  /** Non-2xx responses, 2xx without a certificate, and socket errors (connect, read, write, timeout). */
  readonly errors: number;
  /** The errors by kind. */
  readonly errorKinds: { readonly non2xx: number; readonly withoutCertificate: number; readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** The non-2xx answers by status code ("429": 200, "503": 41): which limit or failure they were. */
  readonly non2xxByStatus: Readonly<Record<string, number>>;
  readonly certificatesPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** CPU seconds wrk itself used. */
  readonly loadGeneratorCpuSeconds: number;
  /** The first error body of each wrk thread, to say why. */
  readonly firstErrors: readonly string[];
}

export interface LoadOptions {
  readonly url: string; // http://127.0.0.1:PORT, never anything else
  readonly path: string;
  readonly contentType: string;
  readonly bodiesFile: string;
  readonly authorization?: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationSeconds: number;
}

/** bench/wrk_rotate.lua, found from dist/bench/ or from bench/. */
export function wrkScript(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'bench', 'wrk_rotate.lua');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('bench/wrk_rotate.lua is missing');
}

const running = new Set<ChildProcess>();

/** Stops any wrk still running (on the way out after a failure). */
export function stopLoadGenerators(): void {
  for (const child of running) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** "3 non-2xx (429: 2, 503: 1), 2 timeout": the kinds of error that occurred, each non-2xx by its status. */
export function describeErrors(result: LoadResult): string {
  const statuses = Object.entries(result.non2xxByStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, count]) => `${status}: ${count}`);
  return Object.entries(result.errorKinds)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind}${kind === 'non2xx' && statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}`)
    .join(', ');
}

/** Runs wrk for `durationSeconds` and parses what the script's done() printed. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(options.url)) throw new Error(`refusing to load anything but 127.0.0.1 (got ${options.url})`);
  const wrkArgs = [
    '-t', String(options.threads),
    '-c', String(options.connections),
    '-d', `${options.durationSeconds}s`,
    '--timeout', '10s',
    '-s', wrkScript(),
    `${options.url}${options.path}`,
    '--', options.path, options.contentType, options.bodiesFile, options.authorization ?? '',
  ];
  // The shell reaps wrk and then reads its own cutime/cstime: exactly the CPU wrk used.
  const script = 'wrk "$@"; status=$?; echo "WRKPROC $(cat /proc/$$/stat)"; exit $status';
  const child = spawn('sh', ['-c', script, 'sh', ...wrkArgs], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    // Bounded: wrk stops itself after the duration; past this, something hangs.
    const deadline = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, (options.durationSeconds + 30) * 1000);
    child.on('error', (error) => {
      clearTimeout(deadline);
      running.delete(child);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      running.delete(child);
      const values = new Map<string, string>();
      const non2xxByStatus: Record<string, number> = {};
      const firstErrors: string[] = [];
      let wrkCpu = 0;
      for (const line of stdout.split('\n')) {
        const match = /^WRK (\S+) (.*)$/.exec(line);
        if (match && match[1] === 'first_error') firstErrors.push(match[2]);
        else if (match?.[1].startsWith('status_')) non2xxByStatus[match[1].slice('status_'.length)] = Number(match[2]);
        else if (match) values.set(match[1], match[2]);
        if (line.startsWith('WRKPROC ')) wrkCpu = parseReapedChildrenCpu(line.slice('WRKPROC '.length));
      }
      if (code !== 0 || !values.has('duration_us')) {
        reject(new Error(`wrk failed (${signal ?? `exit ${code}`}): ${stderr.trim() || stdout.trim()}`.slice(0, 2000)));
        return;
      }
      const number = (key: string) => Number(values.get(key) ?? 0);
      const durationSeconds = number('duration_us') / 1e6;
      const issued = number('issued');
      const ms = (key: string) => round(number(key) / 1000, 2);
      resolve({
        durationSeconds: round(durationSeconds, 2),
        requests: number('requests'),
        issued,
        errors: number('non2xx') + number('empty2xx') + number('socket_errors'),
        errorKinds: {
          non2xx: number('non2xx'),
          withoutCertificate: number('empty2xx'),
          connect: number('connect_errors'),
          read: number('read_errors'),
          write: number('write_errors'),
          timeout: number('timeouts'),
        },
        non2xxByStatus,
        certificatesPerSecond: round(issued / durationSeconds, 1),
        p50Ms: ms('p50_us'),
        p90Ms: ms('p90_us'),
        p99Ms: ms('p99_us'),
        p999Ms: ms('p99.9_us'),
        maxMs: ms('max_us'),
        loadGeneratorCpuSeconds: round(wrkCpu, 2),
        firstErrors,
      });
    });
  });
}
