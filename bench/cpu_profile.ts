// Reads V8 .cpuprofile files (node --cpu-prof) and says where the JavaScript thread's time went:
// the top functions by self time, the same rolled up by package or Mayfly module, and the Mayfly
// functions by inclusive time (which stage of a request costs what).
import { existsSync, readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly ms: number;
  /** Share of the thread's busy (non-idle) time, percent. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly files: number;
  readonly sampledMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly topSelf: readonly ProfileLine[];
  readonly byCategory: readonly ProfileLine[];
  /** Inclusive time of Mayfly's own functions (src/, validators/). */
  readonly mayflyInclusive: readonly ProfileLine[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/**
 * `mayfly serve` runs a bundle (dist/server/mayfly.js, scripts/bundle.mjs): every module in one file,
 * each after a comment naming it at the start of a line (`// dist/src/csr/parse.js`). The modules'
 * first lines, per bundle file, so that a frame in the bundle is charged to the module it is from.
 */
const bundles = new Map<string, { readonly starts: readonly number[]; readonly modules: readonly string[] }>();

function bundleModules(path: string) {
  let found = bundles.get(path);
  if (!found) {
    const starts: number[] = [];
    const modules: string[] = [];
    if (existsSync(path)) {
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          const marker = /^\/\/ (\S+\.(?:[cm]?js|json))$/.exec(line);
          if (!marker) return;
          starts.push(index);
          modules.push(marker[1]);
        });
    }
    found = { starts, modules };
    bundles.set(path, found);
  }
  return found;
}

/** The frame as if its module were not bundled: its url the module's own file; unchanged when it is not in a bundle. */
function unbundled(frame: CallFrame): CallFrame {
  const path = frame.url.replace(/^file:\/\//, '');
  const bundle = /^(.*)\/dist\/server\/[^/]+\.js$/.exec(path);
  if (!bundle) return frame;
  const { starts, modules } = bundleModules(path);
  let low = 0;
  let high = starts.length - 1;
  let at = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle] <= frame.lineNumber) [at, low] = [middle, middle + 1];
    else high = middle - 1;
  }
  // The bundle's line numbers say nothing about the module's own: -1 leaves them out of labels.
  return at < 0 ? frame : { functionName: frame.functionName, url: `${bundle[1]}/${modules[at]}`, lineNumber: -1 };
}

/** node_modules/<pkg>, node:<module>, src/<dir>/<file>, or V8's own pseudo-frames. */
function where(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/((?:src|validators|bench)\/.+)\.js$/.exec(url);
  if (own) return own[1].replace(/^(src\/[^/]+)\/.*$/, '$1/');
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').replace(/^(node:[^/]+).*$/, '$1');
  if (url === '') return SPECIAL.has(frame.functionName) ? frame.functionName : 'native (V8 builtins, C++ bindings)';
  return url;
}

function label(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const short = /\/dist\/(.+)$/.exec(url)?.[1] ?? /node_modules\/(.+)$/.exec(url)?.[1] ?? url.replace(/^node:/, '');
  const name = frame.functionName || '(anonymous)';
  return short ? `${name} ${short}${frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ''}` : name;
}

const isMayfly = (frame: CallFrame) => /\/dist\/(src|validators)\//.test(frame.url);

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

/** A stretch of time on the monotonic clock, in microseconds (process.hrtime; V8 stamps samples on it). */
export interface ProfileWindow {
  readonly startUs: number;
  readonly endUs: number;
}

/** Now on the clock V8's profiler stamps samples with (CLOCK_MONOTONIC on Linux), in microseconds. */
export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Merges the profiles (e.g. of each worker's main thread) and summarises them; with `window`, only
 * the samples taken within it (the measured run, not start-up or warm-up).
 */
export function summarizeProfiles(files: readonly string[], top = 20, window?: ProfileWindow): ProfileSummary {
  const self = new Map<string, number>();
  const category = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, { ...node, callFrame: unbundled(node.callFrame) }]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    let stamp = profile.startTime;
    profile.samples.forEach((id, index) => {
      stamp += profile.timeDeltas[index] ?? 0;
      if (window && (stamp < window.startUs || stamp > window.endUs)) return;
      // timeDeltas[i] is the time since the previous sample: charge the next delta to this sample.
      const micros = profile.timeDeltas[index + 1] ?? 0;
      if (micros <= 0) return;
      const node = byId.get(id);
      if (!node) return;
      sampled += micros;
      if (node.callFrame.functionName === '(idle)') {
        idle += micros;
        return;
      }
      add(self, label(node.callFrame), micros);
      add(category, where(node.callFrame), micros);
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        if (!isMayfly(frame)) continue;
        const key = label(frame);
        if (!seen.has(key)) add(inclusive, key, micros);
        seen.add(key);
      }
    });
  }
  const busy = sampled - idle;
  const lines = (map: Map<string, number>, count: number): ProfileLine[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), percent: busy > 0 ? Number(((100 * micros) / busy).toFixed(1)) : 0 }));
  return {
    files: files.length,
    sampledMs: Math.round(sampled / 1000),
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    topSelf: lines(self, top),
    byCategory: lines(category, 15),
    mayflyInclusive: lines(inclusive, 15),
  };
}
