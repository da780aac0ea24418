import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditList } from '../../../src/cli/audit';
import { CERTBOT, expectSucceeded, ledgerEvents, opensslVerify, runTool, serialOf, startAcmeCa, type AcmeTestCa } from './support';
import { itWithTools } from '../../interop/tools';

// certbot (Debian) in standalone mode: it answers http-01 itself on the port Mayfly validates.

let acme: AcmeTestCa;
beforeAll(async () => {
  acme = await startAcmeCa();
});
afterAll(async () => {
  await acme?.stop();
});

/** Runs certbot; on failure its log's ACME problem is added to stderr (Debian's certbot 2.1 cannot print it under Python 3.11). */
const certbot = async (args: readonly string[]) => {
  const result = await runTool(
    'certbot',
    [...args, '--config-dir', join(acme.work, 'certbot', 'config'), '--work-dir', join(acme.work, 'certbot', 'work'), '--logs-dir', join(acme.work, 'certbot', 'logs'), '--server', acme.directory(), '--non-interactive'],
    { REQUESTS_CA_BUNDLE: acme.ca.rootFile },
  );
  if (result.code === 0) return result;
  const log = readFileSync(join(acme.work, 'certbot', 'logs', 'letsencrypt.log'), 'utf8');
  return { ...result, stderr: `${result.stderr}\n${log.split('\n').filter((line) => /urn:ietf:params:acme:error|Error|error:/.test(line)).slice(-8).join('\n')}` };
};

const live = (file: string) => readFileSync(join(acme.work, 'certbot', 'config', 'live', 'web.mayfly.test', file), 'utf8');

itWithTools([CERTBOT], 'certbot obtains, renews and revokes a certificate over http-01', async () => {
  const obtain = await certbot(['certonly', '--standalone', '--http-01-port', String(acme.httpPort), '--http-01-address', '127.0.0.1', '--register-unsafely-without-email', '--agree-tos', '-d', 'web.mayfly.test']);
  expectSucceeded(obtain);
  const first = live('fullchain.pem');
  expect(opensslVerify(acme, first)).toContain(': OK');
  const firstSerial = serialOf(first);

  const renew = await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew']);
  expectSucceeded(renew);
  const second = live('fullchain.pem');
  expect(opensslVerify(acme, second)).toContain(': OK');
  const secondSerial = serialOf(second);
  expect(secondSerial).not.toBe(firstSerial);

  const events = await ledgerEvents(acme);
  const issued = events.filter((event) => event.event === 'sign' && event.outcome === 'issued' && event.protocol === 'acme').map((event) => event.certificate!.serial);
  expect(issued).toEqual(expect.arrayContaining([firstSerial, secondSerial]));
  const finalized = events.filter((event) => event.event === 'acme' && event.acme?.action === 'finalize' && event.outcome === 'issued');
  expect(finalized.map((event) => event.acme!.serial)).toEqual(expect.arrayContaining([firstSerial, secondSerial]));
  expect(finalized.every((event) => event.acme!.account && event.acme!.order)).toBe(true);
  expect(events.some((event) => event.event === 'acme' && event.acme?.action === 'challenge' && event.outcome === 'accepted')).toBe(true);

  // `mayfly audit list` shows each ACME step with its account and order, and the serial it issued.
  const lines: string[] = [];
  await auditList(acme.ca.configFile, { name: 'web.mayfly.test' }, false, (line) => lines.push(line));
  expect(lines.some((line) => line.includes('acme finalize account=') && line.includes(' order=') && line.includes(secondSerial))).toBe(true);
  expect(lines.some((line) => line.includes('acme challenge account='))).toBe(true);

  const revoke = await certbot(['revoke', '--cert-path', join(acme.work, 'certbot', 'config', 'live', 'web.mayfly.test', 'cert.pem'), '--reason', 'keycompromise', '--no-delete-after-revoke']);
  expectSucceeded(revoke);
  const revoked = (await ledgerEvents(acme)).find((event) => event.event === 'acme' && event.acme?.action === 'revoke');
  expect(revoked).toMatchObject({ outcome: 'accepted', acme: { serial: secondSerial } });
  expect(readFileSync(acme.denyFile, 'utf8')).toContain(`serial ${secondSerial}`);

  // The revoked key asks again (certbot --reuse-key): refused at finalize, and recorded.
  const again = await certbot(['certonly', '--standalone', '--http-01-port', String(acme.httpPort), '--http-01-address', '127.0.0.1', '--reuse-key', '--force-renewal', '--cert-name', 'web.mayfly.test', '-d', 'web.mayfly.test']);
  expect(again.code).not.toBe(0);
  // Debian's certbot 2.1 fails to print an ACME error under Python 3.11 (josepy); its log has the problem.
  const log = readFileSync(join(acme.work, 'certbot', 'logs', 'letsencrypt.log'), 'utf8');
  expect(log).toContain('urn:ietf:params:acme:error:badCSR');
  expect(log).toMatch(/revoked_key: the public key \(SHA-256 [0-9a-f]{64}\) belongs to a revoked certificate/);
  const refused = (await ledgerEvents(acme)).filter((event) => event.event === 'acme' && event.acme?.action === 'finalize' && event.outcome === 'refused');
  expect(refused).toHaveLength(1);
}, 300_000);
