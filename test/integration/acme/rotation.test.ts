import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { pemCertificateBlocks } from '../../../src/pem';
import { TestAcmeClient } from '../../helpers/acme_client';
import { makeCsr } from '../../helpers/openssl';
import { opensslVerify, startAcmeCa, type AcmeTestCa } from './support';

// After `mayfly ca rotate` the certificate download offers the previous chain as rel="alternate".
jest.setTimeout(120_000);

let acme: AcmeTestCa;
let web: Server;
const answers = new Map<string, string>();
beforeAll(async () => {
  acme = await startAcmeCa({ rotated: true });
  web = createServer((request, response) => {
    const token = (request.url ?? '').split('/').pop() ?? '';
    response.writeHead(answers.has(token) ? 200 : 404).end(answers.get(token) ?? '');
  });
  await new Promise<void>((resolve) => web.listen(acme.httpPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  await acme?.stop();
});

test('the download links the previous chain as alternate; the default chain is the current one and verifies', async () => {
  const client = await new TestAcmeClient(acme.directory(), readFileSync(acme.ca.rootFile, 'utf8')).start();
  await client.register();
  const order = await client.authorizedOrder([{ type: 'dns', value: 'rotated.mayfly.test' }], (token, keyAuthorization) => answers.set(token, keyAuthorization));
  const finalized = await client.post(order.json.finalize, { csr: makeCsr({ subject: '/CN=rotated.mayfly.test', extensions: ['subjectAltName=DNS:rotated.mayfly.test'] }).der.toString('base64url') });
  const certificateUrl = String(finalized.json.certificate);
  const current = await client.post(certificateUrl, '');
  expect(opensslVerify(acme, current.body)).toMatch(/: OK/);
  expect(current.headers.link).toContain(`<${certificateUrl}/1>;rel="alternate"`);
  const alternate = await client.post(`${certificateUrl}/1`, '');
  expect(alternate.status).toBe(200);
  const [leaf, ...previous] = pemCertificateBlocks(alternate.body);
  expect(leaf).toBe(pemCertificateBlocks(current.body)[0]);
  expect(previous[0]).not.toBe(pemCertificateBlocks(current.body)[1]);
  expect(alternate.headers.link).toContain(`<${certificateUrl}>;rel="alternate"`);
});
