// What the kernel says about the processes under test (Linux /proc): CPU time, peak and current
// RSS, the process tree, and how busy the rest of the machine was.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks a second (USER_HZ), for the tick counts in /proc/<pid>/stat. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** proc(5) stat fields after the command name, which may hold spaces and parentheses. */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
}

/** utime + stime of a process (all its threads), or of one thread, in seconds; undefined once gone. */
export function cpuSeconds(pid: number, tid?: number): number | undefined {
  const text = read(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
  if (!text) return undefined;
  const fields = statFields(text); // fields[0] is field 3 (state): utime is field 14, stime 15
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The CPU time of the children a process has reaped (cutime + cstime), in seconds. */
export function parseReapedChildrenCpu(statLine: string): number {
  const fields = statFields(statLine);
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

function parentOf(pid: number): number | undefined {
  const text = read(`/proc/${pid}/stat`);
  return text ? Number(statFields(text)[1]) : undefined;
}

/** `root` and every live descendant (cluster workers, helpers), root first. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    if (tree.length > 64 || read(`/proc/${pid}/stat`) === undefined) return;
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM). */
export function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(read(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) / 1024 : undefined;
}

/** CPU seconds of each thread of a process, by thread id. */
export function threadCpu(pid: number): Map<number, number> {
  const result = new Map<number, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const task of tasks) {
    const seconds = cpuSeconds(pid, Number(task));
    if (seconds !== undefined) result.set(Number(task), seconds);
  }
  return result;
}

/** A snapshot of a set of processes, to difference over a timed window. */
export interface ProcessSnapshot {
  readonly at: number;
  readonly processes: ReadonlyMap<number, { readonly cpu: number; readonly mainThreadCpu: number }>;
  /** Busy CPU seconds of the whole machine since boot (all cores; everything but idle and iowait). */
  readonly machineBusy: number;
  readonly loadAverage: readonly number[];
}

export function machineBusySeconds(): number {
  const line = (read('/proc/stat') ?? '').split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / CLOCK_TICKS;
}

export function loadAverage(): number[] {
  return (read('/proc/loadavg') ?? '0 0 0').split(/\s+/).slice(0, 3).map(Number);
}

export function snapshot(pids: readonly number[]): ProcessSnapshot {
  const processes = new Map<number, { cpu: number; mainThreadCpu: number }>();
  for (const pid of pids) {
    const cpu = cpuSeconds(pid);
    if (cpu !== undefined) processes.set(pid, { cpu, mainThreadCpu: cpuSeconds(pid, pid) ?? 0 });
  }
  return { at: performance.now(), processes, machineBusy: machineBusySeconds(), loadAverage: loadAverage() };
}

/** CPU used by one process between two snapshots. */
export interface ProcessUsage {
  readonly pid: number;
  readonly role: string;
  readonly cpuSeconds: number;
  /** The thread that runs JavaScript (Node's event loop; for Go, just the first thread). */
  readonly mainThreadCpuSeconds: number;
  readonly peakRssMiB: number;
}

export function usageBetween(before: ProcessSnapshot, after: ProcessSnapshot, roles: ReadonlyMap<number, string>): ProcessUsage[] {
  const usage: ProcessUsage[] = [];
  for (const [pid, end] of after.processes) {
    const start = before.processes.get(pid) ?? { cpu: 0, mainThreadCpu: 0 };
    usage.push({
      pid,
      role: roles.get(pid) ?? 'process',
      cpuSeconds: round(end.cpu - start.cpu, 2),
      mainThreadCpuSeconds: round(end.mainThreadCpu - start.mainThreadCpu, 2),
      peakRssMiB: round(statusMiB(pid, 'VmHWM') ?? 0, 1),
    });
  }
  return usage;
}

export const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/**
 * Established TCP connections to `port` held by each process: which worker the cluster handed
 * each client connection to (a keep-alive connection stays with its worker for the whole run).
 */
export function connectionsByProcess(pids: readonly number[], port: number): Map<number, number> {
  const inodes = new Set<string>();
  for (const line of (read('/proc/net/tcp') ?? '').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const localPort = parseInt(fields[1].split(':')[1] ?? '', 16);
    if (localPort === port && fields[3] === '01') inodes.add(fields[9]);
  }
  const counts = new Map<number, number>();
  for (const pid of pids) {
    let count = 0;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // gone
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match && inodes.has(match[1])) count += 1;
      } catch {
        // closed meanwhile
      }
    }
    counts.set(pid, count);
  }
  return counts;
}
