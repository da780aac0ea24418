import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { makeCsr } from '../../helpers/openssl';
import { accountKey, TestAcmeClient } from '../../helpers/acme_client';
import { startAcmeCa, type AcmeTestCa } from './support';

// An ACME finalize signs, so it takes a signing slot under the process's cap like POST /v1/sign:
// with every slot taken it is a fast 503, nothing is signed, and the order can be finalized later.
jest.setTimeout(120_000);

let acme: AcmeTestCa;
const answers = new Map<string, string>();
let web: Server;

beforeAll(async () => {
  acme = await startAcmeCa({ limits: { maxConcurrentSigning: 0 } });
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

test('a finalize with every signing slot taken is a 503, signs nothing, and leaves the order ready', async () => {
  const c = await new TestAcmeClient(acme.directory('default'), readFileSync(acme.ca.rootFile, 'utf8'), accountKey('ES256')).start();
  expect((await c.register()).status).toBe(201);
  const order = await c.authorizedOrder([{ type: 'dns', value: 'capped.mayfly.test' }], (token, keyAuthorization) => answers.set(token, keyAuthorization));
  expect(order.json.status).toBe('ready');
  const csr = makeCsr({ subject: '/CN=capped.mayfly.test', extensions: ['subjectAltName=DNS:capped.mayfly.test'] });
  const answer = await c.post(order.json.finalize, { csr: csr.der.toString('base64url') });
  expect(answer.status).toBe(503);
  expect((await c.post(order.url, '')).json).toMatchObject({ status: 'ready' });
});
