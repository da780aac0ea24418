import { renderAcmeMarkdown, type AcmeBenchResult } from './acme_orders';
// The sign benchmark's results: what was measured, the targets judged from it, and the Markdown table.
import type { ProfileSummary } from './cpu_profile';
import { describeErrors, type LoadResult } from './load_generator';
import type { ProcessUsage } from './proc_stats';
import { MAX_PLATEAU_GROWTH_PERCENT, MIN_PLATEAU_SECONDS, SETTLE_SECONDS, type RssPlateau } from './rss_plateau';

export type CaKind = 'p256' | 'rsa2048' | 'hsm-p256';
export type Api = 'form' | 'json' | 'cfssl';

export interface CaseSpec {
  readonly id: string;
  readonly server: 'mayfly' | 'cfssl';
  readonly ca: CaKind;
  readonly api: Api;
  readonly audit: boolean;
  /** Where the ledger is: SQLite (default) or a PostgreSQL the replicas share. */
  readonly store?: 'sqlite' | 'postgres';
  /** Processes serving (`--workers`); each writes its own chain. Default: the run's --workers. */
  readonly workers?: number;
}

/** One timed run of one case. */
export interface CaseRun {
  readonly round: number;
  readonly load: LoadResult;
  readonly serverCpuSeconds: number;
  /** Server CPU over the run's duration: 1.0 is one core busy throughout. */
  readonly serverCores: number;
  readonly cpuMsPerCertificate: number;
  /** Share of the server's CPU spent on JavaScript threads' main (event loop) threads. */
  readonly mainThreadShare: number;
  readonly processes: readonly ProcessUsage[];
  /** Sum of each server process's VmHWM. */
  readonly peakRssMiB: number;
  /** A server process died (crashed) during the run. */
  readonly serverDied: boolean;
  /** Client connections each process held halfway through the run. */
  readonly connectionsPerProcess: Readonly<Record<string, number>>;
  readonly loadGeneratorCores: number;
  /** CPU used by everything else on the machine during the run (other tests, the OS). */
  readonly otherCores: number;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly notes: readonly string[];
}

export interface CaseResult {
  readonly spec: CaseSpec;
  readonly runs: readonly CaseRun[];
  /** Why the case could not run, if it could not. */
  readonly failure?: string;
  /** Medians over the runs (peak RSS: the largest; errors: the sum). */
  readonly summary?: {
    readonly certificatesPerSecond: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly errors: number;
    /** Runs in which a server process died. */
    readonly crashedRuns: number;
    readonly serverCores: number;
    readonly cpuMsPerCertificate: number;
    readonly mainThreadShare: number;
    readonly peakRssMiB: number;
    readonly loadGeneratorCores: number;
    readonly otherCores: number;
  };
}

export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly needed: string;
  /** undefined: could not be judged (a case missing, or not measured in this mode). */
  readonly pass?: boolean;
  /** The Mayfly cases to profile when it fails. */
  readonly mayflyCases: readonly string[];
}

export interface SoakSample {
  readonly seconds: number;
  readonly rssMiB: number;
  readonly perProcessMiB: Readonly<Record<string, number>>;
}

export interface SoakResult {
  readonly caseId: string;
  readonly minutes: number;
  readonly samples: readonly SoakSample[];
  /** RSS right after the warm-up and at the end, and the rise between them (shown, not judged: the heap is still being sized). */
  readonly firstMiB: number;
  readonly lastMiB: number;
  readonly growthPercent: number;
  /** The line through the samples once the heap has settled (bench/rss_plateau.ts); absent in a soak too short to judge. */
  readonly plateau?: RssPlateau;
  /** The plateau rises by at most MAX_PLATEAU_GROWTH_PERCENT and there were no errors; undefined: too short to judge. */
  readonly flat?: boolean;
  readonly load: LoadResult;
}

export interface ProfileResult {
  readonly caseId: string;
  readonly seconds: number;
  readonly certificatesPerSecond: number;
  readonly workerMainThreads: ProfileSummary;
  readonly otherThreads?: ProfileSummary;
  readonly threadCpu: readonly { readonly role: string; readonly mainThreadSeconds: number; readonly otherThreadsSeconds: number }[];
}

export interface BenchReport {
  readonly date: string;
  readonly mode: 'quick' | 'full' | 'soak' | 'profile';
  readonly setup: Readonly<Record<string, string | number>>;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly cases: readonly CaseResult[];
  readonly targets: readonly TargetResult[];
  readonly soak?: SoakResult;
  readonly profiles: readonly ProfileResult[];
  readonly notes: readonly string[];
  readonly durationSeconds: number;
  /** ACME orders/s beside the Anchor API's certs/s (bench/acme_orders.ts). */
  readonly acme?: AcmeBenchResult;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function summarize(runs: readonly CaseRun[]): CaseResult['summary'] {
  if (runs.length === 0) return undefined;
  const of = (pick: (run: CaseRun) => number, digits: number) => Number(median(runs.map(pick)).toFixed(digits));
  return {
    certificatesPerSecond: of((r) => r.load.certificatesPerSecond, 1),
    p50Ms: of((r) => r.load.p50Ms, 2),
    p99Ms: of((r) => r.load.p99Ms, 2),
    errors: runs.reduce((sum, r) => sum + r.load.errors, 0),
    crashedRuns: runs.filter((r) => r.serverDied).length,
    serverCores: of((r) => r.serverCores, 2),
    cpuMsPerCertificate: of((r) => r.cpuMsPerCertificate, 3),
    mainThreadShare: of((r) => r.mainThreadShare, 2),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    loadGeneratorCores: of((r) => r.loadGeneratorCores, 2),
    otherCores: of((r) => r.otherCores, 2),
  };
}

const CA_LABEL: Record<CaKind, string> = { p256: 'P-256 (file)', rsa2048: 'RSA-2048 (file)', 'hsm-p256': 'P-256 (SoftHSM2)' };
const API_LABEL: Record<Api, string> = { form: 'Anchor form', json: 'JSON', cfssl: 'cfssl JSON' };

/** The targets of bench/README.md, judged from the case medians. */
/**
 * The targets of bench/README.md. A ratio is the median over rounds of the ratio within each round
 * (the two cases ran minutes apart, so a change in the machine's other load touches both), or with
 * one round the ratio of the two runs.
 */
export function judgeTargets(cases: readonly CaseResult[], soak: SoakResult | undefined): TargetResult[] {
  const get = (id: string) => cases.find((c) => c.spec.id === id);
  const targets: TargetResult[] = [];
  const ratio = (target: string, numerator: string, denominator: string, needed: number, mayflyCases: string[], pick: (run: CaseRun) => number, lowerIsBetter = false) => {
    const a = get(numerator);
    const b = get(denominator);
    const wanted = `${lowerIsBetter ? '≤' : '≥'} ${needed}×`;
    const rounds = (a?.runs ?? []).filter((run) => b?.runs.some((other) => other.round === run.round)).map((run) => run.round);
    if (!a?.summary || !b?.summary || rounds.length === 0) {
      targets.push({ target, measured: 'not measured', needed: wanted, mayflyCases });
      return;
    }
    const perRound = rounds.map((round) => pick(a.runs.find((r) => r.round === round)!) / pick(b.runs.find((r) => r.round === round)!));
    const value = median(perRound);
    const errorsFree = a.summary.errors === 0 && a.summary.crashedRuns === 0;
    const trouble = [a.summary.errors > 0 ? `${a.summary.errors} errors` : '', a.summary.crashedRuns > 0 ? `a worker crashed in ${a.summary.crashedRuns} run(s)` : ''].filter(Boolean).join(' and ');
    const detail = perRound.length > 1 ? `rounds ${perRound.map((r) => r.toFixed(2)).join(', ')}` : `${pick(a.runs[0])} / ${pick(b.runs[0])}`;
    targets.push({
      target,
      measured: `${value.toFixed(2)}× (${detail})${errorsFree ? '' : `, but ${trouble}`}`,
      needed: wanted,
      pass: (lowerIsBetter ? value <= needed : value >= needed) && errorsFree,
      mayflyCases,
    });
  };
  const rate = (run: CaseRun) => run.load.certificatesPerSecond;
  const p99 = (run: CaseRun) => run.load.p99Ms;
  for (const api of ['form', 'json'] as const) {
    ratio(`P-256 certs/s vs cfssl (${API_LABEL[api]})`, `mayfly-p256-${api}`, 'cfssl-p256', 1.25, [`mayfly-p256-${api}`], rate);
    ratio(`RSA-2048 certs/s vs cfssl (${API_LABEL[api]})`, `mayfly-rsa2048-${api}`, 'cfssl-rsa2048', 1.5, [`mayfly-rsa2048-${api}`], rate);
    ratio(`P-256 p99 vs cfssl's (${API_LABEL[api]})`, `mayfly-p256-${api}`, 'cfssl-p256', 0.5, [`mayfly-p256-${api}`], p99, true);
    ratio(`RSA-2048 p99 vs cfssl's (${API_LABEL[api]})`, `mayfly-rsa2048-${api}`, 'cfssl-rsa2048', 0.5, [`mayfly-rsa2048-${api}`], p99, true);
  }
  ratio('SoftHSM2 P-256 certs/s vs local P-256', 'mayfly-hsm-p256-form', 'mayfly-p256-form', 0.8, ['mayfly-hsm-p256-form'], rate);
  ratio('Audit on certs/s vs audit off', 'mayfly-p256-form', 'mayfly-p256-form-audit-off', 0.9, ['mayfly-p256-form'], rate);
  const needed = `plateau from ${SETTLE_SECONDS} s ≤ +${MAX_PLATEAU_GROWTH_PERCENT} %, 0 errors`;
  targets.push(
    soak
      ? { target: `RSS over ${soak.minutes} min of load: flat`, measured: soakMeasured(soak), needed, pass: soak.flat, mayflyCases: [soak.caseId] }
      : { target: 'RSS over 10 min of load: flat', measured: 'run `npm run bench -- --soak`', needed, mayflyCases: [] },
  );
  return targets;
}

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value}`;

function soakMeasured(soak: SoakResult): string {
  const plateau = soak.plateau
    ? `plateau ${soak.plateau.fromSeconds}–${soak.plateau.toSeconds} s: ${soak.plateau.startMiB} → ${soak.plateau.endMiB} MiB (${signed(soak.plateau.growthPercent)} %, ${signed(soak.plateau.slopeMiBPerMinute)} MiB/min)`
    : `too short to judge: under ${SETTLE_SECONDS} s for the heap to settle plus ${MIN_PLATEAU_SECONDS / 60} min of plateau`;
  const errors = soak.load.errors > 0 ? `; ${soak.load.errors} errors (${describeErrors(soak.load)})` : '';
  return `${plateau}; from t = 0 ${soak.firstMiB} → ${soak.lastMiB} MiB (${signed(soak.growthPercent)} %)${errors}`;
}

const cell = (value: number | undefined, digits = 0) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
const verdict = (pass: boolean | undefined) => (pass === undefined ? '–' : pass ? 'pass' : '**FAIL**');

function profileSection(profile: ProfileResult): string[] {
  const summary = profile.workerMainThreads;
  const lines = [
    `### Profile: ${profile.caseId} (${profile.seconds} s under load, ${profile.certificatesPerSecond} certs/s while profiling)`,
    '',
    `Where each process's CPU went during the profiled run (main thread = the JavaScript event loop; other threads = libuv's pool, which signs, the audit writer, V8's GC helpers):`,
    '',
    '| process | main thread CPU s | other threads CPU s |',
    '|---|---:|---:|',
    ...profile.threadCpu.map((t) => `| ${t.role} | ${t.mainThreadSeconds} | ${t.otherThreadsSeconds} |`),
    '',
    `Workers' main threads, merged (${summary.files} profiles): ${summary.busyMs} ms busy, ${summary.idleMs} ms idle. V8 samples wall time: when other work on the machine keeps a thread waiting for a core, its busy time exceeds its CPU time above, and every function's share grows alike.`,
    '',
    '| top self time | ms | % of busy |',
    '|---|---:|---:|',
    ...summary.topSelf.map((line) => `| \`${line.name}\` | ${line.ms} | ${line.percent} |`),
    '',
    '| self time by package / module | ms | % of busy |',
    '|---|---:|---:|',
    ...summary.byCategory.map((line) => `| ${line.name} | ${line.ms} | ${line.percent} |`),
    '',
    '| Mayfly functions, inclusive | ms | % of busy |',
    '|---|---:|---:|',
    ...summary.mayflyInclusive.map((line) => `| \`${line.name}\` | ${line.ms} | ${line.percent} |`),
    '',
  ];
  if (profile.otherThreads && profile.otherThreads.files > 0) {
    lines.push(
      `Worker threads (the audit writer; ${profile.otherThreads.files} profiles): ${profile.otherThreads.busyMs} ms busy.`,
      '',
      '| top self time | ms | % of busy |',
      '|---|---:|---:|',
      ...profile.otherThreads.topSelf.slice(0, 8).map((line) => `| \`${line.name}\` | ${line.ms} | ${line.percent} |`),
      '',
    );
  }
  return lines;
}

function mayflyToCfssl(cases: readonly CaseResult[]): string[] {
  const rows: string[] = [];
  const x = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–');
  for (const mayfly of cases) {
    if (mayfly.spec.server !== 'mayfly' || !mayfly.summary) continue;
    const cfssl = cases.find((c) => c.spec.server === 'cfssl' && c.spec.ca === (mayfly.spec.ca === 'rsa2048' ? 'rsa2048' : 'p256'));
    if (!cfssl?.summary) continue;
    const [m, c] = [mayfly.summary, cfssl.summary];
    rows.push(`| ${mayfly.spec.id} | ${cfssl.spec.id} | ${x(m.certificatesPerSecond, c.certificatesPerSecond)} | ${x(m.p50Ms, c.p50Ms)} | ${x(m.p99Ms, c.p99Ms)} | ${x(m.cpuMsPerCertificate, c.cpuMsPerCertificate)} | ${x(m.peakRssMiB, c.peakRssMiB)} |`);
  }
  return rows;
}

/** Two replicas sharing a PostgreSQL ledger against one replica on SQLite: what sharing the ledger costs. */
function replicaComparison(cases: readonly CaseResult[]): string[] {
  const shared = cases.find((c) => c.spec.store === 'postgres')?.summary;
  const single = cases.find((c) => c.spec.id === REPLICA_BASELINE)?.summary;
  if (!shared || !single) return [];
  return [
    '| | certs/s | p99 ms |',
    '|---|---:|---:|',
    `| 2 replicas, one PostgreSQL | ${cell(shared.certificatesPerSecond)} | ${cell(shared.p99Ms, 1)} |`,
    `| 1 replica, SQLite | ${cell(single.certificatesPerSecond)} | ${cell(single.p99Ms, 1)} |`,
    `| ratio | ${(shared.certificatesPerSecond / single.certificatesPerSecond).toFixed(2)}× | ${(shared.p99Ms / single.p99Ms).toFixed(2)}× |`,
  ];
}

/** The case the PostgreSQL replicas are compared with. */
export const REPLICA_BASELINE = 'mayfly-p256-form-sqlite-1';

export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [`# Mayfly sign benchmark — ${report.date} (${report.mode})`, ''];
  lines.push(...Object.entries(report.setup).map(([key, value]) => `- ${key}: ${value}`), '');
  lines.push(`Machine: ${Object.entries(report.machine).map(([key, value]) => `${key} ${value}`).join('; ')}.`, '');
  if (report.cases.length > 0) {
    lines.push(
      '| case | server | CA key | API | audit | certs/s | p50 ms | p99 ms | errors | server CPU (cores) | CPU ms/cert | event-loop share | peak RSS MiB | wrk CPU (cores) | other load (cores) |',
      '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const result of report.cases) {
      const { spec, summary } = result;
      const head = `| ${spec.id} | ${spec.server} | ${CA_LABEL[spec.ca]} | ${API_LABEL[spec.api]} | ${spec.server === 'mayfly' ? (spec.audit ? (spec.store === 'postgres' ? 'on (PostgreSQL)' : 'on') : 'off') : 'n/a'}`;
      if (!summary) {
        lines.push(`${head} | failed: ${result.failure ?? 'no run'} ||||||||||`);
        continue;
      }
      lines.push(
        `${head} | ${cell(summary.certificatesPerSecond)} | ${cell(summary.p50Ms, 1)} | ${cell(summary.p99Ms, 1)} | ${summary.errors}${summary.crashedRuns > 0 ? ` (+ crash in ${summary.crashedRuns} run${summary.crashedRuns > 1 ? 's' : ''})` : ''} | ${cell(summary.serverCores, 2)} | ${cell(summary.cpuMsPerCertificate, 2)} | ${spec.server === 'mayfly' ? `${cell(summary.mainThreadShare * 100)} %` : '–'} | ${cell(summary.peakRssMiB)} | ${cell(summary.loadGeneratorCores, 2)} | ${cell(summary.otherCores, 2)} |`,
      );
    }
    lines.push('');
    const perRound = report.cases.filter((c) => c.runs.length > 1);
    if (perRound.length > 0) {
      lines.push('Per round (certs/s; p99 ms):', '');
      for (const c of perRound) lines.push(`- ${c.spec.id}: ${c.runs.map((r) => `${r.load.certificatesPerSecond}; ${r.load.p99Ms}`).join(' | ')}`);
      lines.push('');
    }
  }
  if (report.acme) lines.push(...renderAcmeMarkdown(report.acme));
  const ratios = mayflyToCfssl(report.cases);
  if (ratios.length > 0) {
    lines.push(
      '## Mayfly / cfssl',
      '',
      'Each Mayfly case against cfssl with the same kind of CA key (SoftHSM2 against cfssl with the P-256 file key). Throughput above 1 and latency and CPU below 1 favour Mayfly.',
      '',
      '| Mayfly case | vs | certs/s | p50 | p99 | CPU ms/cert | peak RSS |',
      '|---|---|---:|---:|---:|---:|---:|',
      ...ratios,
      '',
    );
  }
  const replicas = replicaComparison(report.cases);
  if (replicas.length > 0) lines.push('## Replicas on PostgreSQL', '', ...replicas, '');
  lines.push('## Targets', '', '| target | measured | needed | result |', '|---|---|---|---|');
  for (const target of report.targets) lines.push(`| ${target.target} | ${target.measured} | ${target.needed} | ${verdict(target.pass)} |`);
  lines.push('');
  if (report.soak) {
    const soak = report.soak;
    lines.push(
      `## Soak: ${soak.caseId}, ${soak.minutes} min`,
      '',
      `${soak.load.certificatesPerSecond} certs/s, p99 ${soak.load.p99Ms} ms, ${soak.load.errors} errors${soak.load.errors > 0 ? ` (${describeErrors(soak.load)})` : ''} over ${soak.load.issued} certificates. RSS (sum of the server processes) every 30 s after the warm-up; flat is judged on the line through the samples from ${SETTLE_SECONDS} s on, once V8 has sized its heap (bench/README.md, "The soak"):`,
      '',
      '| t (s) | RSS MiB | per process |',
      '|---:|---:|---|',
      ...soak.samples.map((s) => `| ${s.seconds} | ${s.rssMiB} | ${Object.entries(s.perProcessMiB).map(([role, mib]) => `${role} ${mib}`).join(', ')} |`),
      '',
    );
  }
  if (report.notes.length > 0) lines.push('## Notes', '', ...report.notes.map((note) => `- ${note}`), '');
  if (report.profiles.length > 0) {
    lines.push('## Where the time goes', '');
    for (const profile of report.profiles) lines.push(...profileSection(profile));
  }
  lines.push(`Run took ${Math.round(report.durationSeconds)} s.`, '');
  return lines.join('\n');
}
