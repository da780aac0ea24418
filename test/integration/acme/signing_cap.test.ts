import { readFileSync } from 'node:fs';
import { makeCsr } from '../../helpers/openssl';
import { accountKey, TestAcmeClient } from '../../helpers/acme_client';
import { startAcmeCa, startHttp01Responder, type AcmeTestCa, type Http01Responder } from './support';

// An ACME finalize signs, so it takes a signing slot under the process's cap like POST /v1/sign:
// with every slot taken it is a fast 503, nothing is signed, and the order can be finalized later.
jest.setTimeout(120_000);

let acme: AcmeTestCa;
let responder: Http01Responder;

beforeAll(async () => {
  acme = await startAcmeCa({ limits: { maxConcurrentSigning: 0 } });
  responder = await startHttp01Responder(acme.httpPort);
});
afterAll(async () => {
  await responder?.close();
  await acme?.stop();
});

test('a finalize with every signing slot taken is a 503, signs nothing, and leaves the order ready', async () => {
  const c = await new TestAcmeClient(acme.directory('default'), readFileSync(acme.ca.rootFile, 'utf8'), accountKey('ES256')).start();
  expect((await c.register()).status).toBe(201);
  const order = await c.authorizedOrder([{ type: 'dns', value: 'capped.mayfly.test' }], (token, keyAuthorization) => responder.answers.set(token, keyAuthorization));
  expect(order.json.status).toBe('ready');
  const csr = makeCsr({ subject: '/CN=capped.mayfly.test', extensions: ['subjectAltName=DNS:capped.mayfly.test'] });
  const answer = await c.post(order.json.finalize, { csr: csr.der.toString('base64url') });
  expect(answer.status).toBe(503);
  expect((await c.post(order.url, '')).json).toMatchObject({ status: 'ready' });
});
