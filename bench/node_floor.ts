// Node's own floor for the benchmark's sign request: what any JavaScript CA must spend on it here, to
// tell Mayfly's own cost from Node's and the crypto's (bench/README.md, "2026-12-07"). Not a CA: it
// checks the CSR's signature and signs, but what it signs is a stand-in of a certificate's length.
//
//   npx node dist/bench/node_floor.js FOLDER [--issue] [--seconds S] [--warmup S] [--workers N] [--connections N]
//
// FOLDER is one that `npm run bench -- --keep` left (its P-256 CA, request bodies and Mayfly config).
// Each request: read the urlencoded body, take `csr`, PEM → DER, find the request's info, key and
// signature, verify from the SPKI (as src/csr/signature.ts does), one P-256 signature over a 420-byte
// stand-in, a PEM answer. --issue does Mayfly's issue() instead of the verify and the signature
// (decode, parse, verify, policy, TBS, sign, the audit event; the ledger disabled), on the same HTTP.
import cluster from 'node:cluster';
import { createPrivateKey, sign, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { disabledLedger } from '../src/audit/ledger';
import { assembleRuntime } from '../src/config/assemble';
import { loadConfig } from '../src/config/load';
import { decodeCsr } from '../src/csr/decode';
import { readDer } from '../src/der';
import { certificatePem } from '../src/pem';
import { ValidatorRegistry } from '../src/policy/registry';
import { issue } from '../src/ra/issue';
import { freePort } from '../test/helpers/free_port';
import { runLoad } from './load_generator';
import { cpuSeconds } from './proc_stats';

const STAND_IN_TBS = new Uint8Array(420).fill(3);

type Answer = (csrPem: string) => Promise<Uint8Array>;

function floorAnswer(folder: string): Answer {
  const caKey = createPrivateKey(readFileSync(join(folder, 'ca-p256', 'ca', 'intermediate.key')));
  return (csrPem) => {
    const der = decodeCsr(csrPem);
    const [info, , signature] = readDer(der).children();
    const spki = info.children()[2].encoded;
    const key = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
    if (!verify('sha256', info.encoded, { key, format: 'der', type: 'spki' }, signature.bitString())) throw new Error('bad CSR signature');
    return Promise.resolve(sign('sha256', STAND_IN_TBS, caKey));
  };
}

async function issueAnswer(folder: string): Promise<Answer> {
  const caseDir = readdirSync(folder).find((name) => name.endsWith('-mayfly-p256-form'));
  if (!caseDir) throw new Error(`${folder} has no mayfly-p256-form case: keep a run that has it (npm run bench -- --keep)`);
  const ra = (await assembleRuntime(await loadConfig(join(folder, caseDir, 'mayfly.yaml'), new ValidatorRegistry()))).registrationAuthorities.get('default')!;
  const requester = { user: 'deployer', groups: [], authentication: 'deployers' };
  return async (csrPem) => (await issue(ra, disabledLedger, { requester, csr: csrPem, source: '127.0.0.1', protocol: 'anchor-form' })).der;
}

async function serve(folder: string, withIssue: boolean, port: number): Promise<void> {
  const answer = withIssue ? await issueAnswer(folder) : floorAnswer(folder);
  const respond = (response: ServerResponse, body: string) =>
    answer(new URLSearchParams(body).get('csr') ?? '').then(
      (der) => {
        response.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
        response.end(certificatePem(der));
      },
      (error: Error) => {
        response.writeHead(400, { 'Content-Type': 'text/plain' });
        response.end(error.message);
      },
    );
  createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void respond(response, Buffer.concat(chunks).toString('latin1')));
  }).listen(port, '127.0.0.1', () => process.send?.('listening'));
}

async function drive(folder: string, options: Options): Promise<void> {
  const port = await freePort();
  const pids = await Promise.all(
    Array.from({ length: Number(options.workers) }, () => {
      const worker = cluster.fork({ NODE_FLOOR_PORT: String(port) });
      return new Promise<number>((resolve) => worker.once('message', () => resolve(worker.process.pid!)));
    }),
  );
  const load = { url: `http://127.0.0.1:${port}`, path: '/v1/sign/default', contentType: 'application/x-www-form-urlencoded', bodiesFile: join(folder, 'bodies-form-0.txt'), connections: Number(options.connections), threads: 1 };
  await runLoad({ ...load, durationSeconds: Number(options.warmup) }); // as long as the full run's (sign_throughput.ts)
  const cpu = () => pids.reduce((total, pid) => total + (cpuSeconds(pid) ?? 0), 0);
  const before = cpu();
  const measured = await runLoad({ ...load, durationSeconds: Number(options.seconds) });
  const cores = (cpu() - before) / measured.durationSeconds;
  const what = options.issue ? "the floor's HTTP with Mayfly's issue()" : 'the floor';
  console.log(`${what}: ${measured.certificatesPerSecond} certs/s, p99 ${measured.p99Ms} ms, ${measured.errors} errors, ${cores.toFixed(2)} cores, ${Math.round((cores / measured.certificatesPerSecond) * 1e6)} µs CPU a request (${options.workers} workers)`);
  for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
}

const USAGE = 'usage: node dist/bench/node_floor.js FOLDER [--issue] [--seconds S] [--warmup S] [--workers N] [--connections N]';
function parseOptions() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        issue: { type: 'boolean', default: false },
        seconds: { type: 'string', default: '15' },
        warmup: { type: 'string', default: '20' },
        workers: { type: 'string', default: String(availableParallelism()) },
        connections: { type: 'string', default: '32' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
type Options = ReturnType<typeof parseOptions>['values'];

const { values: options, positionals } = parseOptions();
const folder = positionals[0];
if (folder === undefined || positionals.length > 1) {
  console.error(USAGE);
  process.exit(2);
}
const run = cluster.isPrimary ? drive(folder, options) : serve(folder, options.issue, Number(process.env.NODE_FLOOR_PORT));
run.catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
