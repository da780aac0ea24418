// ACME orders per second, end to end, beside the Anchor API's certificates per second on the same
// server, the same client concurrency and the same kind of CSRs. Mayfly runs in this process over
// HTTPS on loopback with the audit ledger on; every ACME order is the whole exchange a client makes:
// newOrder, the authorization, http-01 (answered by a web server in this process, validated by Mayfly
// over a resolver the benchmark starts), polling, finalize and the certificate download.
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountKey, TestAcmeClient } from '../test/helpers/acme_client';
import { startTestDns } from '../test/helpers/dns_server';
import { freePort } from '../test/helpers/free_port';
import { httpsRequest, startTestCa } from '../test/helpers/mayfly';
import { makeCsr } from './csr_factory';

export interface AcmeBenchResult {
  readonly seconds: number;
  readonly concurrency: number;
  readonly acmeOrdersPerSecond: number;
  readonly acmeOrders: number;
  readonly acmeErrors: number;
  readonly anchorCertsPerSecond: number;
  readonly anchorCerts: number;
  readonly anchorErrors: number;
  readonly firstErrors: readonly string[];
}

/** Clients poll a pending authorization this often: short, so the server's work, not the wait, is measured. */
const POLL_MS = 10;

const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');

/** Runs `concurrency` loops of `attempt` for `seconds`; counts what succeeded and what did not. */
async function drive(seconds: number, concurrency: number, attempt: (loop: number, n: number) => Promise<void>, errors: string[]): Promise<{ done: number; failed: number; elapsed: number }> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let n = 0; performance.now() < deadline; n++) {
        try {
          await attempt(loop, n);
          done++;
        } catch (error) {
          failed++;
          if (errors.length < 5) errors.push((error as Error).message.slice(0, 300));
        }
      }
    }),
  );
  return { done, failed, elapsed: (performance.now() - started) / 1000 };
}

export async function measureAcmeOrders(options: { readonly seconds: number; readonly concurrency: number }): Promise<AcmeBenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'mayfly-bench-acme-'));
  const dns = await startTestDns({ addresses: { '*.mayfly.test': ['127.0.0.1'] }, txtFile: join(work, 'txt') });
  const httpPort = await freePort();
  const answers = new Map<string, string>();
  const web = createServer((request, response) => {
    const token = (request.url ?? '').split('/').pop() ?? '';
    response.writeHead(answers.has(token) ? 200 : 404).end(answers.get(token) ?? '');
  });
  await new Promise<void>((resolve) => web.listen(httpPort, '127.0.0.1', resolve));
  const ca = await startTestCa({
    tls: true,
    audit: true,
    acme: true,
    editConfig: (yaml) => yaml.replace('  default:\n', `  default:\n    acme: { validation: { http_port: ${httpPort}, resolver: "127.0.0.1:${dns.port}", timeout: 5s, allow_loopback: true } }\n`),
  });
  const root = readFileSync(ca.rootFile, 'utf8');
  const errors: string[] = [];
  try {
    const clients = await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        const client = await new TestAcmeClient(`${ca.url}/acme/default/directory`, root, accountKey(), POLL_MS).start();
        await client.post(client.directory.newAccount, { termsOfServiceAgreed: true }).then((answer) => (client.kid = String(answer.headers.location)));
        return client;
      }),
    );
    const run = `${process.pid}-${Date.now()}`;
    const acme = await drive(options.seconds, options.concurrency, async (loop, n) => {
      const client = clients[loop];
      const name = `acme-${loop}-${n}-${run}.mayfly.test`;
      const order = await client.authorizedOrder([{ type: 'dns', value: name }], (token, keyAuthorization) => answers.set(token, keyAuthorization));
      if (order.json.status !== 'ready') throw new Error(`order ${order.json.status}: ${JSON.stringify(order.json.error ?? {})}`);
      const finalized = await client.post(order.json.finalize, { csr: pemToDer(makeCsr(name).pem).toString('base64url') });
      if (finalized.json?.status !== 'valid') throw new Error(`finalize answered ${finalized.status}: ${finalized.body.slice(0, 200)}`);
      const certificate = await client.post(finalized.json.certificate, '');
      if (!certificate.body.includes('BEGIN CERTIFICATE')) throw new Error(`the download answered ${certificate.status}`);
    }, errors);
    const authorization = `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}`;
    const anchor = await drive(options.seconds, options.concurrency, async (loop, n) => {
      const answer = await httpsRequest(`${ca.url}/v1/sign/default`, {
        ca: root,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: authorization },
        body: JSON.stringify({ csr: makeCsr(`anchor-${loop}-${n}-${run}.mayfly.test`).pem }),
      });
      if (answer.status !== 200) throw new Error(`POST /v1/sign answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    }, errors);
    const rate = (count: number, seconds: number) => Math.round((count / seconds) * 10) / 10;
    return {
      seconds: options.seconds,
      concurrency: options.concurrency,
      acmeOrdersPerSecond: rate(acme.done, acme.elapsed),
      acmeOrders: acme.done,
      acmeErrors: acme.failed,
      anchorCertsPerSecond: rate(anchor.done, anchor.elapsed),
      anchorCerts: anchor.done,
      anchorErrors: anchor.failed,
      firstErrors: errors,
    };
  } finally {
    await ca.stop();
    await new Promise<void>((resolve) => web.close(() => resolve()));
    await dns.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The report's section: the two doors side by side. */
export function renderAcmeMarkdown(result: AcmeBenchResult): string[] {
  return [
    '## ACME orders beside the Anchor API',
    '',
    `One Mayfly in the benchmark's own process (HTTPS on loopback, audit ledger on), ${result.concurrency} concurrent clients, ${result.seconds} s each. An ACME order is the whole exchange (newOrder, authorization, http-01 validated over loopback, polling every ${POLL_MS} ms, finalize, download); the Anchor API is one POST /v1/sign (JSON).`,
    '',
    '| door | per second | completed | errors |',
    '|---|---:|---:|---:|',
    `| ACME (RFC 8555), orders | ${result.acmeOrdersPerSecond} | ${result.acmeOrders} | ${result.acmeErrors} |`,
    `| Anchor API, certificates | ${result.anchorCertsPerSecond} | ${result.anchorCerts} | ${result.anchorErrors} |`,
    '',
    ...(result.firstErrors.length > 0 ? [`First errors: ${result.firstErrors.join(' / ')}`, ''] : []),
  ];
}

// `node dist/bench/acme_orders.js [seconds] [concurrency]` runs this case alone.
if (require.main === module) {
  const [seconds = '10', concurrency = '8'] = process.argv.slice(2);
  measureAcmeOrders({ seconds: Number(seconds), concurrency: Number(concurrency) }).then(
    (result) => {
      process.stdout.write(`${renderAcmeMarkdown(result).join('\n')}\n`);
      process.exit(result.acmeOrders > 0 && result.anchorCerts > 0 ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
