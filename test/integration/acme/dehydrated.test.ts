import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { DEHYDRATED, expectSucceeded, ledgerEvents, opensslVerify, runTool, serialOf, startAcmeCa, type AcmeTestCa } from './support';
import { itWithTools } from '../../interop/tools';

// dehydrated (Debian), a shell ACME client on curl, with a hook that publishes the http-01 token
// where the test's web server serves it.

let acme: AcmeTestCa;
let web: Server;
let published: string;

beforeAll(async () => {
  acme = await startAcmeCa();
  published = join(acme.work, 'published');
  mkdirSync(published);
  web = createServer((request, response) => {
    const token = (request.url ?? '').split('/').pop() ?? '';
    let body: string | undefined;
    try {
      body = /^[A-Za-z0-9_-]+$/.test(token) ? readFileSync(join(published, token), 'utf8') : undefined;
    } catch {
      body = undefined;
    }
    response.writeHead(body === undefined ? 404 : 200).end(body ?? '');
  });
  await new Promise<void>((resolve) => web.listen(acme.httpPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  await acme?.stop();
});

itWithTools([DEHYDRATED], 'dehydrated obtains a certificate with an http-01 hook', async () => {
  const base = join(acme.work, 'dehydrated');
  mkdirSync(join(base, 'wellknown'), { recursive: true });
  const hook = join(base, 'hook.sh');
  // dehydrated's hook: deploy_challenge <domain> <token> <key authorization>, clean_challenge likewise.
  writeFileSync(hook, `#!/bin/sh\ncase "$1" in\n  deploy_challenge) printf '%s' "$4" > '${published}/'"$3" ;;\n  clean_challenge) rm -f '${published}/'"$3" ;;\nesac\nexit 0\n`);
  chmodSync(hook, 0o755);
  const config = join(base, 'config');
  // KEYSIZE is the account key's (an RSA key in dehydrated): 2048 instead of its default 4096, whose
  // generation alone took 1-5 s of CPU; the certificate's key is P-256 (KEY_ALGO).
  writeFileSync(
    config,
    [`CA="${acme.directory()}"`, `BASEDIR="${base}"`, `WELLKNOWN="${join(base, 'wellknown')}"`, `HOOK="${hook}"`, 'CHALLENGETYPE="http-01"', 'CONTACT_EMAIL="ops@mayfly.test"', 'KEY_ALGO="prime256v1"', 'KEYSIZE="2048"', ''].join('\n'),
  );
  const env = { CURL_CA_BUNDLE: acme.ca.rootFile };
  expectSucceeded(await runTool('dehydrated', ['--register', '--accept-terms', '-f', config], env));
  expectSucceeded(await runTool('dehydrated', ['-c', '-d', 'dehydrated.mayfly.test', '-f', config], env));
  const fullchain = readFileSync(join(base, 'certs', 'dehydrated.mayfly.test', 'fullchain.pem'), 'utf8');
  expect(opensslVerify(acme, fullchain)).toContain(': OK');
  const serial = serialOf(fullchain);
  const events = await ledgerEvents(acme);
  expect(events.find((event) => event.event === 'sign' && event.certificate?.serial === serial)).toMatchObject({ outcome: 'issued', protocol: 'acme' });
  expect(events.find((event) => event.acme?.action === 'finalize' && event.acme.serial === serial)).toMatchObject({ outcome: 'issued' });
}, 300_000);
