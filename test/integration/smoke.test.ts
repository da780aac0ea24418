import { makeCsr, opensslVerify } from '../helpers/openssl';
import { postForm, startTestCa, type TestCa } from '../helpers/mayfly';

describe('the default RA over HTTP', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa();
  });
  afterAll(() => ca.stop());

  it('issues a certificate that openssl verifies for an allowed name', async () => {
    const csr = makeCsr();
    const response = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: csr.pem });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const pem = await response.text();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(opensslVerify(pem, ca.rootFile, ca.chainFile)).toMatchObject({ ok: true });
  });

  it('refuses a wrong secret with 401 and signs nothing', async () => {
    const response = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: 'wrong', encoding: 'pem', csr: makeCsr().pem });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('BEGIN CERTIFICATE');
  });
});
