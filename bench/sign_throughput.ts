// How many certificates a second Mayfly issues, and how fast, against Debian's cfssl on the same
// machine and the same CSRs. Usage: npm run bench [-- --quick | --soak | --profile] (bench/README.md).
//
// Mayfly runs as a user runs it (`mayfly serve --workers N`, the default config's validators, the
// audit ledger on, plain HTTP on loopback, rate limits off); wrk drives 32 connections through
// thousands of distinct P-256 CSRs; the servers' CPU and memory come from /proc.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { monotonicMicros, summarizeProfiles, type ProfileSummary, type ProfileWindow } from './cpu_profile';
import { makeCsrs, type BenchCsr } from './csr_factory';
import { describeErrors, runLoad, stopLoadGenerators, type LoadResult } from './load_generator';
import { connectionsByProcess, loadAverage, processTree, round, snapshot, statusMiB, threadCpu, usageBetween } from './proc_stats';
import {
  judgeTargets,
  REPLICA_BASELINE,
  renderMarkdown,
  summarize,
  type Api,
  type BenchReport,
  type CaseResult,
  type CaseRun,
  type CaseSpec,
  type ProfileResult,
  type SoakResult,
  type SoakSample,
} from './sign_report';
import { rssPlateau, soakIsFlat } from './rss_plateau';
import { httpRequest, killAllServers, startProcess, stopProcess, type RunningProcess } from './servers';
import { freePort } from '../test/helpers/free_port';
import { measureAcmeOrders, type AcmeBenchResult } from './acme_orders';
import { startTestPostgres, type TestPostgres } from '../test/helpers/postgres';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  readonly mode: 'quick' | 'full' | 'soak' | 'profile';
  readonly workers: number;
  readonly connections: number;
  readonly wrkThreads: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly csrs: number;
  readonly soakMinutes: number;
  readonly profileFailures: boolean;
  readonly profileSeconds: number;
  readonly cases?: readonly string[];
  readonly keep: boolean;
}

/**
 * The full run's warm-up, per case: V8 is still compiling Mayfly's request path for the first ~20 s of
 * load (~500 compilations in the 4 s after the first 4; a few a second from 20 s on), and a
 * certificate costs more CPU meanwhile (bench/README.md, "2026-12-07"). A CA runs for days; cfssl,
 * compiled ahead of time, has nothing to warm.
 */
const FULL_WARMUP_SECONDS = 20;

const USAGE = `npm run bench -- [options]
  (none)            the full run: every case, 3 rounds of 15 s after ${FULL_WARMUP_SECONDS} s of warm-up (about 20 min)
  --quick           every case once, 5 s after 2 s of warm-up (under 2 min)
  --soak            RSS of Mayfly (P-256, audit on) sampled every 30 s over 10 min of load
  --profile         every case once, then a CPU profile of mayfly-p256-form (or of the Mayfly cases in --cases)
  --workers N       mayfly serve --workers N (default: the number of cores, ${availableParallelism()})
  --connections N   wrk connections (default 32)
  --duration S      measured seconds per run;  --warmup S  warm-up seconds;  --rounds N
  --csrs N          distinct CSRs (keys) to rotate through (at least 1000)
  --soak-minutes M  length of the soak (default 10; under 7 its plateau cannot be judged)
  --cases a,b       only these case ids (see bench/README.md)
  --no-profile      do not profile the Mayfly cases that miss a target
  --keep            keep the temporary folder (configs, logs, ledgers, profiles)`;

function parseOptions(argv: readonly string[]): Options {
  const flag = (name: string) => argv.includes(name);
  const value = (name: string): number | undefined => {
    const index = argv.indexOf(name);
    if (index < 0) return undefined;
    const parsed = Number(argv[index + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} needs a positive number`);
    return parsed;
  };
  const known = new Set(['--quick', '--soak', '--profile', '--workers', '--connections', '--duration', '--warmup', '--rounds', '--csrs', '--soak-minutes', '--cases', '--no-profile', '--keep', '--help']);
  argv.forEach((arg, index) => {
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`unknown option ${arg}\n${USAGE}`);
    if (!arg.startsWith('--') && (index === 0 || !argv[index - 1].startsWith('--'))) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
  });
  if (flag('--help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const mode = flag('--soak') ? 'soak' : flag('--quick') ? 'quick' : flag('--profile') ? 'profile' : 'full';
  const quick = mode === 'quick' || mode === 'profile';
  const casesIndex = argv.indexOf('--cases');
  const csrs = value('--csrs') ?? (quick ? 1000 : 4000);
  if (csrs < 1000) throw new Error('--csrs must be at least 1000');
  return {
    mode,
    workers: value('--workers') ?? availableParallelism(),
    connections: value('--connections') ?? 32,
    wrkThreads: 1,
    warmupSeconds: value('--warmup') ?? (mode === 'soak' ? 30 : quick ? 2 : FULL_WARMUP_SECONDS),
    durationSeconds: value('--duration') ?? (quick ? 5 : 15),
    rounds: value('--rounds') ?? (quick ? 1 : 3),
    csrs,
    soakMinutes: value('--soak-minutes') ?? 10,
    profileFailures: !flag('--no-profile') && mode === 'full',
    profileSeconds: quick ? 6 : 10,
    ...(casesIndex >= 0 ? { cases: (argv[casesIndex + 1] ?? '').split(',').filter(Boolean) } : {}),
    keep: flag('--keep'),
  };
}

// ---------------------------------------------------------------------------------------------
// The cases, as the table lists them.

const CASES: readonly CaseSpec[] = [
  { id: 'mayfly-p256-form', server: 'mayfly', ca: 'p256', api: 'form', audit: true },
  { id: 'cfssl-p256', server: 'cfssl', ca: 'p256', api: 'cfssl', audit: false },
  { id: 'mayfly-p256-json', server: 'mayfly', ca: 'p256', api: 'json', audit: true },
  { id: 'mayfly-p256-form-audit-off', server: 'mayfly', ca: 'p256', api: 'form', audit: false },
  { id: 'mayfly-hsm-p256-form', server: 'mayfly', ca: 'hsm-p256', api: 'form', audit: true },
  { id: 'mayfly-rsa2048-form', server: 'mayfly', ca: 'rsa2048', api: 'form', audit: true },
  { id: 'cfssl-rsa2048', server: 'cfssl', ca: 'rsa2048', api: 'cfssl', audit: false },
  { id: 'mayfly-rsa2048-json', server: 'mayfly', ca: 'rsa2048', api: 'json', audit: true },
  // Replicas: two processes, each its own chain in one shared PostgreSQL, against one process on SQLite.
  { id: REPLICA_BASELINE, server: 'mayfly', ca: 'p256', api: 'form', audit: true, workers: 1 },
  { id: 'mayfly-p256-form-postgres-2', server: 'mayfly', ca: 'p256', api: 'form', audit: true, store: 'postgres', workers: 2 },
];

/**
 * The order a round runs them: each Mayfly case next to what a target compares it with (cfssl, audit
 * off), so that a change in the machine's other load during a round falls on both.
 */
const RUN_ORDER = [
  'mayfly-p256-form-audit-off',
  'mayfly-p256-form',
  'cfssl-p256',
  'mayfly-p256-json',
  'mayfly-hsm-p256-form',
  'mayfly-rsa2048-form',
  'cfssl-rsa2048',
  'mayfly-rsa2048-json',
  REPLICA_BASELINE,
  'mayfly-p256-form-postgres-2',
];

const HSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const HSM_PIN = '246810';

// ---------------------------------------------------------------------------------------------
// Setup: tools, CAs, token, CSRs, request bodies

const repoRoot = (() => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'mayfly')) && existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error('cannot find the Mayfly checkout (bin/mayfly) above this script');
})();
const mayflyBin = join(repoRoot, 'bin', 'mayfly');
const started = performance.now();
const elapsed = () => `${Math.round((performance.now() - started) / 1000)}s`.padStart(5);
const log = (line: string) => process.stdout.write(`[${elapsed()}] ${line}\n`);

const hasCommand = (command: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Debian packages the benchmark runs (never project dependencies): installed when missing. */
function ensurePackage(command: string, debianPackage: string): void {
  if (hasCommand(command) || (command.startsWith('/') && existsSync(command))) return;
  log(`${command} is missing: apt-get install -y ${debianPackage}`);
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', debianPackage], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    install();
  }
  if (!hasCommand(command) && !existsSync(command)) throw new Error(`${command} is still missing; install the Debian package ${debianPackage}`);
}

const mayfly = (args: string[], env: NodeJS.ProcessEnv = process.env, cwd = repoRoot) =>
  execFileSync(process.execPath, [mayflyBin, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });

interface CaFolder {
  readonly dir: string;
  readonly secret: string;
  /** The issuing certificate alone, and its key, for cfssl. */
  readonly issuingCert: string;
  readonly issuingKey: string;
}

function initCa(work: string, keyType: 'p256' | 'rsa2048'): CaFolder {
  const dir = join(work, `ca-${keyType}`);
  mayfly(['init', '--dir', dir, '--key-type', keyType]);
  const secret = /^secret=(.*)$/m.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
  const issuingCert = join(dir, 'ca', 'issuing-only.pem');
  writeFileSync(issuingCert, `${/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(readFileSync(join(dir, 'ca', 'intermediate.pem'), 'utf8'))![0]}\n`);
  return { dir, secret, issuingCert, issuingKey: join(dir, 'ca', 'intermediate.key') };
}

interface Hsm {
  readonly conf: string;
  readonly cert: string;
}

/** A SoftHSM2 token in the work folder, with a P-256 CA key made by `mayfly pkcs11 init-ca`. */
function initHsm(work: string): Hsm {
  const dir = join(work, 'softhsm');
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf, MAYFLY_PKCS11_PIN: HSM_PIN };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', HSM_PIN, '--so-pin', '13579111'], { env, stdio: 'ignore', timeout: 60_000 });
  const cert = join(dir, 'hsm.pem');
  mayfly(['pkcs11', 'init-ca', '--module', HSM_MODULE, '--token-label', 'bench', '--key-label', 'ca', '--key-type', 'p256', '--subject', '/CN=Bench HSM CA', '--self-signed', '--out', cert], env);
  return { conf, cert };
}

interface Bodies {
  /** Form bodies, by CA folder (each has its own deployer secret). */
  readonly form: Map<string, string>;
  readonly json: string;
  readonly cfssl: string;
}

/** One request body a line, for wrk_rotate.lua. JSON escapes the PEM's newlines; the form encodes them. */
function writeBodies(work: string, csrs: readonly BenchCsr[], folders: readonly CaFolder[]): Bodies {
  const write = (name: string, lines: string[]) => {
    const file = join(work, name);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const form = new Map<string, string>();
  folders.forEach((folder, index) => {
    const prefix = `user=deployer&secret=${encodeURIComponent(folder.secret)}&encoding=pem&csr=`;
    form.set(folder.dir, write(`bodies-form-${index}.txt`, csrs.map((csr) => prefix + encodeURIComponent(csr.pem))));
  });
  return {
    form,
    json: write('bodies-json.txt', csrs.map((csr) => JSON.stringify({ csr: csr.pem }))),
    cfssl: write('bodies-cfssl.txt', csrs.map((csr) => JSON.stringify({ certificate_request: csr.pem }))),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Fixture {
  readonly work: string;
  readonly cas: Record<'p256' | 'rsa2048', CaFolder>;
  readonly hsm?: Hsm;
  readonly hsmFailure?: string;
  readonly bodies: Bodies;
  readonly cfsslConfig: string;
  /** The shared ledger of the replica cases, when one of them runs. */
  readonly postgres?: TestPostgres;
}

const AUDIT_URL_ENV = 'MAYFLY_BENCH_AUDIT_URL';

let caseCounter = 0;

/** The config a user would write: the default config from `mayfly init`, with the changes the benchmark needs. */
function writeMayflyConfig(fixture: Fixture, spec: CaseSpec, caseDir: string, port: number): string {
  const folder = fixture.cas[spec.ca === 'rsa2048' ? 'rsa2048' : 'p256'];
  const document = parseDocument(readFileSync(join(folder.dir, 'mayfly.yaml'), 'utf8'));
  document.setIn(['server', 'listen'], `127.0.0.1:${port}`);
  document.setIn(['server', 'tls'], 'off');
  document.setIn(['server', 'limits'], document.createNode({ requests_per_minute_per_identity: 0, requests_per_minute_per_source: 0 }));
  if (spec.store === 'postgres') {
    if (!fixture.postgres) throw new Error('no PostgreSQL server for the replica case');
    document.set('audit', document.createNode({ enabled: spec.audit, store: 'postgres', url_env: AUDIT_URL_ENV, key: join(folder.dir, 'audit.key') }));
  } else document.set('audit', document.createNode({ enabled: spec.audit, database: join(caseDir, 'audit.db'), key: join(folder.dir, 'audit.key') }));
  document.setIn(['signing_ca', 'local', 'cert'], join(folder.dir, 'ca', 'intermediate.pem'));
  document.setIn(['signing_ca', 'local', 'key'], join(folder.dir, 'ca', 'intermediate.key'));
  if (spec.ca === 'hsm-p256') {
    if (!fixture.hsm) throw new Error(`no SoftHSM2 token: ${fixture.hsmFailure ?? 'not set up'}`);
    document.deleteIn(['signing_ca', 'local']);
    document.setIn(
      ['signing_ca', 'hsm'],
      document.createNode({ backend: 'pkcs11', module: HSM_MODULE, token_label: 'bench', key_label: 'ca', pin_env: 'MAYFLY_PKCS11_PIN', cert: fixture.hsm.cert }),
    );
    document.setIn(['registration_authority', 'default', 'signing_ca'], 'hsm');
  }
  const file = join(caseDir, 'mayfly.yaml');
  writeFileSync(file, String(document), { mode: 0o600 });
  return file;
}

async function startServer(fixture: Fixture, spec: CaseSpec, options: Options, nodeFlags: readonly string[] = []): Promise<{ server: RunningProcess; caseDir: string }> {
  const caseDir = join(fixture.work, `${String(++caseCounter).padStart(2, '0')}-${spec.id}`);
  mkdirSync(caseDir, { recursive: true });
  const port = await freePort();
  const logFile = join(caseDir, 'server.log');
  if (spec.server === 'cfssl') {
    const ca = fixture.cas[spec.ca === 'rsa2048' ? 'rsa2048' : 'p256'];
    const server = await startProcess({
      command: 'cfssl',
      args: ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', ca.issuingCert, '-ca-key', ca.issuingKey, '-config', fixture.cfsslConfig],
      env: process.env,
      cwd: caseDir,
      port,
      logFile,
      readyPath: '/api/v1/cfssl/info',
      processes: 1,
      roleOf: () => 'cfssl',
    });
    return { server, caseDir };
  }
  const config = writeMayflyConfig(fixture, spec, caseDir, port);
  const env: NodeJS.ProcessEnv = { ...process.env, MAYFLY_HOME: caseDir, ...(fixture.postgres ? { [AUDIT_URL_ENV]: fixture.postgres.url } : {}) };
  const workers = spec.workers ?? options.workers;
  if (fixture.hsm) Object.assign(env, { SOFTHSM2_CONF: fixture.hsm.conf, MAYFLY_PKCS11_PIN: HSM_PIN });
  const server = await startProcess({
    command: process.execPath,
    // Node flags given to the primary reach the workers too: cluster.fork() passes process.execArgv on.
    args: [...nodeFlags, mayflyBin, 'serve', '--config', config, '--workers', String(workers)],
    env,
    cwd: caseDir,
    port,
    logFile,
    readyPath: '/v1/ca/default',
    processes: workers > 1 ? workers + 1 : 1,
    roleOf: (_pid, index) => (workers > 1 ? (index === 0 ? 'primary' : `worker ${index}`) : 'server'),
  });
  return { server, caseDir };
}

interface Target {
  readonly path: string;
  readonly contentType: string;
  readonly bodiesFile: string;
  readonly authorization?: string;
}

function loadTarget(fixture: Fixture, spec: CaseSpec): Target {
  const folder = fixture.cas[spec.ca === 'rsa2048' ? 'rsa2048' : 'p256'];
  const api: Api = spec.api;
  if (api === 'cfssl') return { path: '/api/v1/cfssl/sign', contentType: 'application/json', bodiesFile: fixture.bodies.cfssl };
  if (api === 'json') {
    return { path: '/v1/sign/default', contentType: 'application/json', bodiesFile: fixture.bodies.json, authorization: `Basic ${Buffer.from(`deployer:${folder.secret}`).toString('base64')}` };
  }
  return { path: '/v1/sign/default', contentType: 'application/x-www-form-urlencoded', bodiesFile: fixture.bodies.form.get(folder.dir)! };
}

/**
 * Requests one at a time before any load, each on a new connection, which the cluster hands to the
 * workers in turn: the server must issue, or the case is reported as failed. Sent one at a time so
 * that each worker's first check of the deployer's secret (scrypt, tens of ms and 32 MiB) happens
 * once, not once per connection as when 32 first requests arrive together.
 */
async function probe(server: RunningProcess, target: Target, count: number): Promise<void> {
  const bodies = readFileSync(target.bodiesFile, 'utf8').split('\n');
  for (let i = 0; i < count; i++) {
    const answer = await httpRequest(`${server.url}${target.path}`, {
      method: 'POST',
      headers: { 'Content-Type': target.contentType, ...(target.authorization ? { Authorization: target.authorization } : {}) },
      body: bodies[i % bodies.length],
      timeoutMs: 15_000,
    });
    if (answer.status < 200 || answer.status > 299 || !answer.body.includes('BEGIN CERTIFICATE')) {
      throw new Error(`request ${i + 1} before the load got ${answer.status}: ${answer.body.slice(0, 400)}`);
    }
  }
}

const probes = (options: Options) => 2 * options.workers;

const load = (server: RunningProcess, target: Target, options: Options, seconds: number): Promise<LoadResult> =>
  runLoad({ url: server.url, ...target, connections: options.connections, threads: options.wrkThreads, durationSeconds: seconds });

/** Starts the case's server, warms it up, measures one run, stops it. */
async function runCase(fixture: Fixture, spec: CaseSpec, options: Options, roundNumber: number): Promise<CaseRun> {
  const { server } = await startServer(fixture, spec, options);
  try {
    const target = loadTarget(fixture, spec);
    await probe(server, target, probes(options));
    const warm = await load(server, target, options, options.warmupSeconds);
    const pids = [...server.roles.keys()];
    const before = snapshot(pids);
    const selfBefore = process.cpuUsage();
    const port = Number(new URL(server.url).port);
    let connections = new Map<number, number>();
    const census = setTimeout(() => (connections = connectionsByProcess(pids, port)), (options.durationSeconds * 1000) / 2);
    const measured = await load(server, target, options, options.durationSeconds).finally(() => clearTimeout(census));
    // Workers started during the run (the cluster replaces one that dies) count from their start.
    const replacements = processTree(server.pid).filter((pid) => !pids.includes(pid));
    replacements.forEach((pid) => server.roles.set(pid, 'worker (replacement)'));
    const after = snapshot([...pids, ...replacements]);
    const self = process.cpuUsage(selfBefore);
    const processes = usageBetween(before, after, server.roles);
    const serverCpu = processes.reduce((sum, p) => sum + p.cpuSeconds, 0);
    const mainThreadCpu = processes.reduce((sum, p) => sum + p.mainThreadCpuSeconds, 0);
    const seconds = (after.at - before.at) / 1000;
    const other = after.machineBusy - before.machineBusy - serverCpu - measured.loadGeneratorCpuSeconds - (self.user + self.system) / 1e6;
    const notes: string[] = [];
    if (warm.errors > 0) notes.push(`warm-up: ${warm.errors} errors (${describeErrors(warm)}) ${warm.firstErrors[0] ?? ''}`.trim());
    if (measured.errors > 0) notes.push(`${measured.errors} errors (${describeErrors(measured)}): ${measured.firstErrors.join(' / ').slice(0, 500)}`);
    const died = pids.filter((pid) => !after.processes.has(pid));
    const serverDied = died.length > 0 || server.exited;
    if (serverDied) {
      const crashes = readFileSync(server.logFile, 'utf8').split('\n').filter((line) => /stopped|SIG[A-Z]+|detected|Error/.test(line)).slice(0, 6);
      notes.push(`${server.exited ? 'the server exited' : `${died.map((pid) => server.roles.get(pid)).join(', ')} died`} during the run; its log says: ${crashes.join(' | ') || '(nothing)'}`);
    }
    const workers = processes.filter((p) => p.role.startsWith('worker'));
    if (workers.length > 1) {
      const busiest = Math.max(...workers.map((w) => w.cpuSeconds));
      const idlest = Math.min(...workers.map((w) => w.cpuSeconds));
      if (busiest > 0 && idlest / busiest < 0.6) {
        notes.push(`workers unbalanced: ${workers.map((w) => `${w.role} ${w.cpuSeconds} CPU s, ${connections.get(w.pid) ?? '?'} of the ${options.connections} connections`).join('; ')}`);
      }
    }
    return {
      round: roundNumber,
      load: measured,
      serverCpuSeconds: round(serverCpu, 2),
      serverCores: round(serverCpu / seconds, 2),
      cpuMsPerCertificate: measured.issued > 0 ? round((1000 * serverCpu) / measured.issued, 3) : NaN,
      mainThreadShare: serverCpu > 0 ? round(mainThreadCpu / serverCpu, 2) : 0,
      processes,
      peakRssMiB: round(processes.reduce((sum, p) => sum + p.peakRssMiB, 0), 1),
      serverDied,
      connectionsPerProcess: Object.fromEntries([...connections].map(([pid, count]) => [server.roles.get(pid) ?? String(pid), count])),
      loadGeneratorCores: round(measured.loadGeneratorCpuSeconds / seconds, 2),
      otherCores: round(Math.max(0, other) / seconds, 2),
      loadAverageBefore: before.loadAverage,
      loadAverageAfter: after.loadAverage,
      notes,
    };
  } finally {
    await stopProcess(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Soak and profile

async function runSoak(fixture: Fixture, spec: CaseSpec, options: Options): Promise<SoakResult> {
  const { server } = await startServer(fixture, spec, options);
  try {
    const target = loadTarget(fixture, spec);
    await probe(server, target, probes(options));
    log(`soak: ${options.warmupSeconds} s warm-up`);
    await load(server, target, options, options.warmupSeconds);
    const samples: SoakSample[] = [];
    const t0 = performance.now();
    const sample = () => {
      const perProcessMiB: Record<string, number> = {};
      let total = 0;
      for (const pid of processTree(server.pid)) {
        const mib = statusMiB(pid, 'VmRSS') ?? 0;
        perProcessMiB[server.roles.get(pid) ?? String(pid)] = round(mib, 1);
        total += mib;
      }
      samples.push({ seconds: Math.round((performance.now() - t0) / 1000), rssMiB: round(total, 1), perProcessMiB });
      log(`soak: t=${samples[samples.length - 1].seconds}s RSS ${round(total, 1)} MiB`);
    };
    sample();
    const timer = setInterval(sample, 30_000);
    let result: LoadResult;
    try {
      result = await load(server, target, options, options.soakMinutes * 60);
    } finally {
      clearInterval(timer);
    }
    if (performance.now() - t0 - samples[samples.length - 1].seconds * 1000 > 5000) sample(); // just as the load stops
    const first = samples[0].rssMiB;
    const last = samples[samples.length - 1].rssMiB;
    const plateau = rssPlateau(samples);
    const flat = soakIsFlat(plateau, result.errors);
    return { caseId: spec.id, minutes: options.soakMinutes, samples, firstMiB: first, lastMiB: last, growthPercent: round((100 * (last - first)) / first, 1), ...(plateau ? { plateau } : {}), ...(flat !== undefined ? { flat } : {}), load: result };
  } finally {
    await stopProcess(server);
  }
}

/** Runs the case with `node --cpu-prof` in every Mayfly process (NODE_OPTIONS may not carry it) and summarises the workers' profiles. */
async function profileCase(fixture: Fixture, spec: CaseSpec, options: Options): Promise<ProfileResult> {
  const profileDir = join(fixture.work, `profile-${spec.id}-${++caseCounter}`);
  mkdirSync(profileDir, { recursive: true });
  const { server } = await startServer(fixture, spec, options, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  let result: LoadResult;
  let window: ProfileWindow | undefined;
  const threadCpu0 = new Map([...server.roles.keys()].map((pid) => [pid, threadCpu(pid)]));
  const threadSplit: ProfileResult['threadCpu'][number][] = [];
  try {
    const target = loadTarget(fixture, spec);
    await probe(server, target, probes(options));
    await load(server, target, options, options.warmupSeconds);
    const before = new Map([...server.roles.keys()].map((pid) => [pid, threadCpu(pid)]));
    const startUs = monotonicMicros();
    result = await load(server, target, options, options.profileSeconds);
    window = { startUs, endUs: monotonicMicros() };
    for (const [pid, role] of server.roles) {
      const start = before.get(pid) ?? threadCpu0.get(pid) ?? new Map<number, number>();
      let main = 0;
      let others = 0;
      for (const [tid, seconds] of threadCpu(pid)) {
        const used = seconds - (start.get(tid) ?? 0);
        if (tid === pid) main += used;
        else others += used;
      }
      threadSplit.push({ role, mainThreadSeconds: round(main, 2), otherThreadsSeconds: round(others, 2) });
    }
  } finally {
    await stopProcess(server);
  }
  // Node names them CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const workerPids = new Set([...server.roles.entries()].filter(([, role]) => role !== 'primary').map(([pid]) => pid));
  const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  const parts = (name: string) => name.split('.');
  const mainFiles = files.filter((name) => workerPids.has(Number(parts(name)[3])) && parts(name)[4] === '0').map((name) => join(profileDir, name));
  const threadFiles = files.filter((name) => workerPids.has(Number(parts(name)[3])) && parts(name)[4] !== '0').map((name) => join(profileDir, name));
  if (mainFiles.length === 0) throw new Error(`no CPU profiles were written in ${profileDir}`);
  const otherThreads: ProfileSummary | undefined = threadFiles.length > 0 ? summarizeProfiles(threadFiles, 10, window) : undefined;
  return {
    caseId: spec.id,
    seconds: options.profileSeconds,
    certificatesPerSecond: result!.certificatesPerSecond,
    workerMainThreads: summarizeProfiles(mainFiles, 20, window),
    ...(otherThreads ? { otherThreads } : {}),
    threadCpu: threadSplit,
  };
}

// ---------------------------------------------------------------------------------------------
// Main

function machineFacts(loadAtStart: readonly number[]): Record<string, string | number> {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      return '?';
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'src', 'validators', 'config']);
  let cfsslVersion = '?';
  try {
    cfsslVersion = /Version: (\S+)/.exec(execFileSync('cfssl', ['version'], { encoding: 'utf8', timeout: 10_000 }))?.[1] ?? '?';
  } catch {
    // reported as ?
  }
  return {
    cpu: `${cpus().length}× ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    cfssl: cfsslVersion,
    commit: git(['rev-parse', '--short', 'HEAD']),
    'src changes not committed': dirty === '' ? 0 : dirty.split('\n').length,
    'load average at start': loadAtStart.join(' '),
  };
}

function writeResults(report: BenchReport): string[] {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.date.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = join(dir, `sign-${stamp}-${report.mode}`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const markdown = renderMarkdown(report);
  writeFileSync(`${base}.json`, json);
  writeFileSync(`${base}.md`, markdown);
  copyFileSync(`${base}.json`, join(dir, 'latest.json'));
  copyFileSync(`${base}.md`, join(dir, 'latest.md'));
  return [`${base}.json`, `${base}.md`, join(dir, 'latest.json'), join(dir, 'latest.md')];
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const date = new Date().toISOString();
  const loadAtStart = loadAverage();
  // Every phase is bounded; this bounds the whole, whatever hangs.
  const limitMinutes = options.mode === 'soak' ? options.soakMinutes + 10 : options.mode === 'full' ? 30 : 6;
  setTimeout(() => {
    process.stderr.write(`bench: still running after ${limitMinutes} min; stopping everything\n`);
    process.exit(2);
  }, limitMinutes * 60_000).unref();

  ensurePackage('wrk', 'wrk');
  ensurePackage('cfssl', 'golang-cfssl');
  ensurePackage('softhsm2-util', 'softhsm2');
  ensurePackage(HSM_MODULE, 'softhsm2');
  if (!existsSync(join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');

  const work = mkdtempSync(join(tmpdir(), 'mayfly-bench-'));
  if (!options.keep) workFolder = work;
  log(`work folder ${work}; mode ${options.mode}; mayfly serve --workers ${options.workers}; wrk -t${options.wrkThreads} -c${options.connections}`);
  try {
    const cas = { p256: initCa(work, 'p256'), rsa2048: initCa(work, 'rsa2048') };
    let hsm: Hsm | undefined;
    let hsmFailure: string | undefined;
    try {
      hsm = initHsm(work);
    } catch (error) {
      hsmFailure = (error as { stderr?: string }).stderr?.toString().trim() || (error as Error).message;
      log(`SoftHSM2 setup failed: ${hsmFailure}`);
    }
    const cfsslConfig = join(work, 'cfssl-config.json');
    // A permissive profile: whatever the CSR asks for, 24 h, the usages Mayfly gives a leaf.
    writeFileSync(cfsslConfig, JSON.stringify({ signing: { default: { expiry: '24h', usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'] } } }, null, 2));
    const csrStarted = performance.now();
    const csrs = makeCsrs(options.csrs, date.replace(/\D/g, '').slice(0, 14));
    if (new Set(csrs.map((csr) => csr.pem)).size !== csrs.length) throw new Error('the CSRs are not all distinct');
    writeFileSync(join(work, 'first.csr'), csrs[0].pem);
    execFileSync('openssl', ['req', '-in', join(work, 'first.csr'), '-noout', '-verify'], { stdio: 'ignore', timeout: 10_000 });
    log(`${csrs.length} distinct P-256 CSRs in ${Math.round(performance.now() - csrStarted)} ms (the first checked by openssl req -verify)`);
    const selected = options.mode === 'soak' ? [] : options.cases ? CASES.filter((c) => options.cases!.includes(c.id)) : CASES;
    if (options.cases && options.mode !== 'soak' && selected.length !== options.cases.length) throw new Error(`unknown case in --cases; the cases are ${CASES.map((c) => c.id).join(', ')}`);
    // The replica case's shared ledger: a throwaway Debian PostgreSQL on loopback, as the tests start.
    if (selected.some((spec) => spec.store === 'postgres')) {
      ensurePackage('/usr/lib/postgresql', 'postgresql');
      postgres = await startTestPostgres();
      log(`PostgreSQL for the replica case on 127.0.0.1:${postgres.port}`);
    }
    const fixture: Fixture = { work, cas, ...(hsm ? { hsm } : {}), ...(hsmFailure ? { hsmFailure } : {}), ...(postgres ? { postgres } : {}), bodies: writeBodies(work, csrs, [cas.p256, cas.rsa2048]), cfsslConfig };

    const notes: string[] = [];
    const results = new Map<string, { runs: CaseRun[]; failure?: string }>(selected.map((spec) => [spec.id, { runs: [] }]));
    let soak: SoakResult | undefined;
    const profiles: ProfileResult[] = [];

    if (options.mode === 'soak') {
      const spec = CASES[0];
      log(`soak: ${spec.id} for ${options.soakMinutes} min`);
      soak = await runSoak(fixture, spec, options);
    } else {
      for (let roundNumber = 1; roundNumber <= options.rounds; roundNumber++) {
        // Every other round runs backwards, so a steady drift in background load evens out.
        const inOrder = [...selected].sort((a, b) => RUN_ORDER.indexOf(a.id) - RUN_ORDER.indexOf(b.id));
        const order = roundNumber % 2 === 1 ? inOrder : inOrder.reverse();
        for (const spec of order) {
          const entry = results.get(spec.id)!;
          if (entry.failure) continue;
          try {
            const run = await runCase(fixture, spec, options, roundNumber);
            entry.runs.push(run);
            log(
              `${spec.id.padEnd(27)} round ${roundNumber}/${options.rounds}: ${String(run.load.certificatesPerSecond).padStart(7)} certs/s  p50 ${run.load.p50Ms} ms  p99 ${run.load.p99Ms} ms  errors ${run.load.errors}  server CPU ${run.serverCores} cores  peak RSS ${run.peakRssMiB} MiB  other load ${run.otherCores} cores`,
            );
            for (const note of run.notes) log(`  note: ${note}`);
          } catch (error) {
            entry.failure = (error as Error).message.split('\n').slice(0, 3).join(' ');
            log(`${spec.id} FAILED: ${(error as Error).message}`);
          }
        }
      }
    }

    const cases: CaseResult[] = selected.map((spec) => {
      const entry = results.get(spec.id)!;
      const summary = summarize(entry.runs);
      return { spec, runs: entry.runs, ...(entry.failure ? { failure: entry.failure } : {}), ...(summary ? { summary } : {}) };
    });
    const targets = options.mode === 'soak' ? judgeTargets([], soak).filter((t) => t.target.startsWith('RSS')) : judgeTargets(cases, soak);

    // Profile what misses a target (full run), or the main case when asked (--profile).
    const toProfile = new Set<string>();
    if (options.mode === 'profile') {
      const mayflyCases = selected.filter((spec) => spec.server === 'mayfly').map((spec) => spec.id);
      (options.cases ? mayflyCases : ['mayfly-p256-form']).forEach((id) => toProfile.add(id));
    }
    if (options.profileFailures) for (const target of targets) if (target.pass === false) target.mayflyCases.forEach((id) => toProfile.add(id));
    // At most three, one of each kind of CA key first: the form API is the one Anchor's clients use.
    const priority = ['mayfly-p256-form', 'mayfly-rsa2048-form', 'mayfly-hsm-p256-form', 'mayfly-p256-json', 'mayfly-rsa2048-json', 'mayfly-p256-form-audit-off'];
    for (const id of [...toProfile].sort((a, b) => priority.indexOf(a) - priority.indexOf(b)).slice(0, 3)) {
      const spec = CASES.find((c) => c.id === id)!;
      try {
        log(`profiling ${id} (${options.profileSeconds} s, node --cpu-prof in every worker)`);
        profiles.push(await profileCase(fixture, spec, options));
      } catch (error) {
        notes.push(`profiling ${id} failed: ${(error as Error).message}`);
      }
    }

    // ACME end to end, beside the Anchor API on the same in-process server (not with --cases or --soak).
    let acme: AcmeBenchResult | undefined;
    if (!options.cases && options.mode !== 'soak') {
      try {
        log(`acme: orders/s end to end beside the Anchor API's certs/s, ${options.durationSeconds} s each`);
        acme = await measureAcmeOrders({ seconds: options.durationSeconds, concurrency: 8 });
        log(`acme: ${acme.acmeOrdersPerSecond} orders/s (${acme.acmeErrors} errors); Anchor API ${acme.anchorCertsPerSecond} certs/s (${acme.anchorErrors} errors)`);
      } catch (error) {
        notes.push(`the ACME case could not run: ${(error as Error).message}`);
      }
    }

    // Notes a reader needs to trust (or distrust) the numbers.
    const allRuns = cases.flatMap((c) => c.runs.map((run) => ({ id: c.spec.id, run })));
    const busy = allRuns.filter(({ run }) => run.otherCores >= 0.25);
    if (busy.length > 0) {
      notes.push(
        `The machine was busy with other work during ${busy.length} of ${allRuns.length} runs (other load ≥ 0.25 cores: ${busy.map(({ id, run }) => `${id} r${run.round} ${run.otherCores}`).join(', ')}); those runs understate what the servers can do, and medians over rounds are meant to absorb it.`,
      );
    }
    for (const { id, run } of allRuns) for (const note of run.notes) notes.push(`${id} round ${run.round}: ${note}`);
    for (const c of cases) if (c.failure) notes.push(`${c.spec.id} could not run: ${c.failure}`);
    if (hsmFailure) notes.push(`SoftHSM2 could not be set up: ${hsmFailure}`);

    const machine = { ...machineFacts(loadAtStart), 'load average at end': loadAverage().join(' ') };
    const report: BenchReport = {
      date,
      mode: options.mode,
      setup: {
        'Mayfly': `\`mayfly serve --workers ${options.workers}\` (one process per core; wrk shares the cores), the config \`mayfly init\` writes (its validator chain), audit ledger on unless the case says off, \`server.tls: off\` on 127.0.0.1, rate limits 0 (off)`,
        'cfssl': '`cfssl serve` (Debian golang-cfssl) with the same issuing CA key and certificate, a permissive default signing profile, no certificate database',
        'load': `wrk -t${options.wrkThreads} -c${options.connections}, ${options.mode === 'soak' ? `${options.soakMinutes} min` : `${options.durationSeconds} s`} measured after ${options.warmupSeconds} s of warm-up on a fresh server${options.rounds > 1 && options.mode !== 'soak' ? `, ${options.rounds} rounds (medians; even rounds in reverse order)` : ''}`,
        'requests': `${options.csrs} distinct P-256 keys/CSRs (CN and DNS SAN svc-<i>-<run>.mayfly.test), rotated; only a 2xx with a certificate counts, everything else is an error`,
        'server CPU': 'utime+stime over the measured run from /proc/<pid>/stat, summed over the primary and its workers (all threads); 2 cores is the whole machine',
        'peak RSS': 'VmHWM of each server process, summed',
      },
      machine,
      cases,
      targets,
      ...(soak ? { soak } : {}),
      profiles,
      notes,
      ...(acme ? { acme } : {}),
      durationSeconds: (performance.now() - started) / 1000,
    };
    const files = writeResults(report);
    process.stdout.write(`\n${renderMarkdown(report)}\n`);
    log(`wrote ${files.join(', ')}`);
    return cases.some((c) => c.failure) || (acme !== undefined && acme.acmeOrders === 0) ? 1 : 0;
  } finally {
    if (options.keep) log(`kept ${work}`);
  }
}

/** Removed on the way out, however the run ends (unless --keep). */
let workFolder: string | undefined;
let postgres: TestPostgres | undefined;

// Whatever happens, no server or wrk is left running.
process.on('exit', () => {
  killAllServers();
  stopLoadGenerators();
  postgres?.destroy();
  if (workFolder) rmSync(workFolder, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}; stopping the servers\n`);
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
