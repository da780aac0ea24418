import { readFileSync } from 'node:fs';
import { pemCertificateBlocks } from '../../../src/pem';
import { TestAcmeClient } from '../../helpers/acme_client';
import { makeCsr } from '../../helpers/openssl';
import { opensslVerify, startAcmeCa, startHttp01Responder, type AcmeTestCa, type Http01Responder } from './support';

// After `mayfly ca rotate` the certificate download offers the previous chain as rel="alternate".
jest.setTimeout(120_000);

let acme: AcmeTestCa;
let responder: Http01Responder;
beforeAll(async () => {
  acme = await startAcmeCa({ rotated: true });
  responder = await startHttp01Responder(acme.httpPort);
});
afterAll(async () => {
  await responder?.close();
  await acme?.stop();
});

test('the download links the previous chain as alternate; the default chain is the current one and verifies', async () => {
  const client = await new TestAcmeClient(acme.directory(), readFileSync(acme.ca.rootFile, 'utf8')).start();
  await client.register();
  const order = await client.authorizedOrder([{ type: 'dns', value: 'rotated.mayfly.test' }], (token, keyAuthorization) => responder.answers.set(token, keyAuthorization));
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
