import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basicAuth, DEV_USER } from '../support';
import { httpsRequest } from '../../helpers/mayfly';
import { LEGO, expectSucceeded, ledgerEvents, opensslVerify, runTool, serialOf, startAcmeCa, type AcmeTestCa } from './support';
import { itWithTools } from '../../interop/tools';

// lego (Debian) with each challenge type: its own http-01 and tls-alpn-01 servers on the ports
// Mayfly validates, and dns-01 through its `exec` provider writing into the test's DNS server.

let acme: AcmeTestCa;
beforeAll(async () => {
  acme = await startAcmeCa();
});
afterAll(async () => {
  await acme?.stop();
});

const lego = (path: string, args: readonly string[], options: { ra?: string; env?: NodeJS.ProcessEnv } = {}) =>
  runTool('lego', ['--server', acme.directory(options.ra), '--path', join(acme.work, path), '--email', 'ops@mayfly.test', '--accept-tos', ...args], { LEGO_CA_CERTIFICATES: acme.ca.rootFile, ...options.env });

const certificate = (path: string, domain: string) => readFileSync(join(acme.work, path, 'certificates', `${domain}.crt`), 'utf8');

async function issuedInLedger(serial: string): Promise<void> {
  const events = await ledgerEvents(acme);
  expect(events.find((event) => event.event === 'sign' && event.outcome === 'issued' && event.certificate?.serial === serial)).toMatchObject({ protocol: 'acme' });
  expect(events.find((event) => event.event === 'acme' && event.acme?.action === 'finalize' && event.acme.serial === serial)).toMatchObject({ outcome: 'issued', protocol: 'acme' });
}

itWithTools([LEGO], 'lego obtains with http-01 and renews', async () => {
  expectSucceeded(await lego('http', ['--domains', 'lego-http.mayfly.test', '--http', '--http.port', `127.0.0.1:${acme.httpPort}`, 'run']));
  const first = certificate('http', 'lego-http.mayfly.test');
  expect(opensslVerify(acme, first)).toContain(': OK');
  await issuedInLedger(serialOf(first));

  expectSucceeded(await lego('http', ['--domains', 'lego-http.mayfly.test', '--http', '--http.port', `127.0.0.1:${acme.httpPort}`, 'renew', '--days', '3650', '--no-random-sleep']));
  const renewed = certificate('http', 'lego-http.mayfly.test');
  expect(serialOf(renewed)).not.toBe(serialOf(first));
  expect(opensslVerify(acme, renewed)).toContain(': OK');
  await issuedInLedger(serialOf(renewed));
}, 300_000);

itWithTools([LEGO], 'lego obtains with tls-alpn-01', async () => {
  expectSucceeded(await lego('tls', ['--domains', 'lego-tls.mayfly.test', '--tls', '--tls.port', `127.0.0.1:${acme.tlsAlpnPort}`, 'run']));
  const issued = certificate('tls', 'lego-tls.mayfly.test');
  expect(opensslVerify(acme, issued)).toContain(': OK');
  await issuedInLedger(serialOf(issued));
  const events = await ledgerEvents(acme);
  expect(events.some((event) => event.acme?.action === 'challenge' && event.acme.challenge === 'tls-alpn-01' && event.outcome === 'accepted')).toBe(true);
}, 300_000);

itWithTools([LEGO], 'lego obtains with dns-01 through its exec provider', async () => {
  // lego's exec provider: `<script> present|cleanup <fqdn> <value>`; the test's DNS server serves the file.
  const hook = join(acme.work, 'dns-hook.sh');
  writeFileSync(hook, `#!/bin/sh\nset -e\ncase "$1" in\n  present) echo "$2 $3" >> '${acme.txtFile}' ;;\n  cleanup) grep -v -F "$2 $3" '${acme.txtFile}' > '${acme.txtFile}.new' || true; mv '${acme.txtFile}.new' '${acme.txtFile}' ;;\nesac\n`);
  chmodSync(hook, 0o755);
  const env = { EXEC_PATH: hook, EXEC_PROPAGATION_TIMEOUT: '30', EXEC_POLLING_INTERVAL: '1' };
  const result = await lego('dns', ['--domains', 'lego-dns.mayfly.test', '--dns', 'exec', '--dns.resolvers', `127.0.0.1:${acme.dns.port}`, '--dns.disable-cp', 'run'], { env });
  expectSucceeded(result);
  const issued = certificate('dns', 'lego-dns.mayfly.test');
  expect(opensslVerify(acme, issued)).toContain(': OK');
  await issuedInLedger(serialOf(issued));
  expect(acme.dns.queries.some((query) => query.name === '_acme-challenge.lego-dns.mayfly.test' && query.type === 16)).toBe(true);
}, 300_000);

itWithTools([LEGO], 'lego registers with an external account binding and acts as the bound identity', async () => {
  const refused = await httpsRequest(`${acme.ca.url}/acme/bound/eab`, { ca: readFileSync(acme.ca.rootFile, 'utf8'), method: 'POST', headers: { Authorization: basicAuth(DEV_USER, 'wrong secret') } });
  expect(refused.status).toBe(403);
  expect(JSON.parse(refused.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:unauthorized' });
  expect((await ledgerEvents(acme)).find((event) => event.event === 'auth' && event.ra === 'bound')).toMatchObject({ protocol: 'acme', outcome: 'refused' });
  const eab = await httpsRequest(`${acme.ca.url}/acme/bound/eab`, { ca: readFileSync(acme.ca.rootFile, 'utf8'), method: 'POST', headers: { Authorization: basicAuth(DEV_USER, acme.ca.secret) } });
  expect(eab.status).toBe(201);
  const { kid, hmac_key: hmac } = JSON.parse(eab.body) as { kid: string; hmac_key: string };
  // Without the binding the RA refuses the account (lego reads externalAccountRequired in the directory).
  const unbound = await lego('unbound', ['--domains', 'eab.mayfly.test', '--http', '--http.port', `127.0.0.1:${acme.httpPort}`, 'run'], { ra: 'bound' });
  expect(unbound.code).not.toBe(0);
  expect(`${unbound.stdout}${unbound.stderr}`).toMatch(/External Account Binding/);

  expectSucceeded(await lego('eab', ['--eab', '--kid', kid, '--hmac', hmac, '--domains', 'eab.mayfly.test', '--http', '--http.port', `127.0.0.1:${acme.httpPort}`, 'run'], { ra: 'bound' }));
  const issued = certificate('eab', 'eab.mayfly.test');
  expect(opensslVerify(acme, issued)).toContain(': OK');
  const record = (await ledgerEvents(acme)).find((event) => event.event === 'sign' && event.certificate?.serial === serialOf(issued));
  expect(record).toMatchObject({ ra: 'bound', protocol: 'acme', requester: { user: DEV_USER, authentication: 'deployers' } });

  // The key binds one account only.
  const reused = await lego('eab-again', ['--eab', '--kid', kid, '--hmac', hmac, '--domains', 'eab.mayfly.test', '--http', '--http.port', `127.0.0.1:${acme.httpPort}`, 'run'], { ra: 'bound' });
  expect(reused.code).not.toBe(0);
}, 300_000);
