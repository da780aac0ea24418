// Every way a client may send a CSR, over real loopback HTTP, each checked with openssl verify and
// against the key the CSR was made with; then the JSON answer field by field.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, opensslVerify, type OpensslCsr } from '../helpers/openssl';
import {
  anchorFields,
  basicAuth,
  chainDer,
  csrSpki,
  DEV_USER,
  expectCertificate,
  formData,
  pemCertificates,
  signUrl,
  viewCertificate,
} from './support';

describe('sign request formats', () => {
  let ca: TestCa;
  let csr: OpensslCsr;
  beforeAll(async () => {
    ca = await startTestCa();
    csr = makeCsr({ subject: '/CN=formats.mayfly.test', extensions: ['subjectAltName=DNS:formats.mayfly.test'] });
  });
  afterAll(() => ca.stop());

  /** The certificate verifies up to the root and certifies exactly the key the CSR was made with. */
  function expectIssuedFor(pem: string, request: OpensslCsr): void {
    expect(opensslVerify(pem, ca.rootFile, ca.chainFile)).toEqual({ ok: true, output: expect.stringMatching(/: OK\n$/) });
    const issued = viewCertificate(pem);
    expect(issued.node.publicKey.export({ format: 'der', type: 'spki' }).equals(csrSpki(request))).toBe(true);
    expect(issued.node.subject).toBe('CN=formats.mayfly.test');
  }

  it('accepts Anchor form fields, application/x-www-form-urlencoded', async () => {
    const response = await fetch(signUrl(ca), { method: 'POST', body: new URLSearchParams(anchorFields(ca.secret, csr.pem)) });
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('accepts multipart/form-data with the csr as a text field', async () => {
    const body = formData(Object.entries(anchorFields(ca.secret, csr.pem)));
    const response = await fetch(signUrl(ca), { method: 'POST', body });
    expect(response.status).toBe(200);
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('accepts multipart/form-data with the csr as a PEM file upload (curl -F csr=@svc.csr)', async () => {
    const body = formData(
      [['user', DEV_USER], ['secret', ca.secret], ['encoding', 'pem']],
      [{ name: 'csr', content: csr.pem, filename: 'svc.csr', type: 'application/octet-stream' }],
    );
    const response = await fetch(signUrl(ca), { method: 'POST', body });
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('accepts multipart/form-data with the csr as a raw DER file upload', async () => {
    expect(csr.der[0]).toBe(0x30);
    const body = formData([['user', DEV_USER], ['secret', ca.secret]], [{ name: 'csr', content: csr.der, filename: 'svc.der', type: 'application/pkcs10' }]);
    const response = await fetch(signUrl(ca), { method: 'POST', body });
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('accepts application/json {"csr": PEM} with HTTP Basic credentials', async () => {
    const response = await fetch(signUrl(ca), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: basicAuth(DEV_USER, ca.secret), Accept: 'text/plain' },
      body: JSON.stringify({ csr: csr.pem }),
    });
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('accepts application/pkcs10 (a DER body) with HTTP Basic credentials', async () => {
    const response = await fetch(signUrl(ca), {
      method: 'POST',
      headers: { 'Content-Type': 'application/pkcs10', Authorization: basicAuth(DEV_USER, ca.secret) },
      body: new Uint8Array(csr.der),
    });
    expectIssuedFor(await expectCertificate(response), csr);
  });

  it('answers Accept: application/json with every field consistent with the certificate', async () => {
    const before = Date.now();
    const response = await fetch(signUrl(ca), {
      method: 'POST',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams(anchorFields(ca.secret, csr.pem)),
    });
    const after = Date.now();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['certificate', 'chain', 'fingerprint_sha256', 'not_after', 'not_before', 'serial_number']);

    const certificate = json.certificate as string;
    expect(pemCertificates(certificate)).toEqual([certificate]);
    expectIssuedFor(certificate, csr);
    const issued = viewCertificate(certificate);

    // serial: lowercase hex of the INTEGER's magnitude, as Node and the DER both show it
    const serialHex = issued.parts.serial.content.toString('hex').replace(/^00(?=[89a-f])/, '');
    expect(json.serial_number).toBe(serialHex);
    expect(json.serial_number).toBe(issued.node.serialNumber.toLowerCase());

    // fingerprint: SHA-256 of the DER certificate
    expect(json.fingerprint_sha256).toBe(createHash('sha256').update(issued.der).digest('hex'));
    expect(json.fingerprint_sha256).toBe(issued.node.fingerprint256.replace(/:/g, '').toLowerCase());

    // dates: ISO 8601 of exactly the certificate's validity
    expect(json.not_before).toBe(new Date(issued.node.validFrom).toISOString());
    expect(json.not_after).toBe(new Date(issued.node.validTo).toISOString());
    expect(json.not_before).toBe(issued.peculiar.notBefore.toISOString());
    expect(json.not_after).toBe(issued.peculiar.notAfter.toISOString());
    // Backdated 5 minutes, but never to before the issuing CA (which `mayfly init` started a minute ago).
    const caNotBefore = Date.parse(new X509Certificate(readFileSync(ca.chainFile)).validFrom);
    expect(Date.parse(json.not_before as string)).toBeGreaterThanOrEqual(Math.max(Math.floor(before / 1000) * 1000 - 5 * 60_000, caNotBefore));
    expect(Date.parse(json.not_before as string)).toBeLessThanOrEqual(Math.max(after - 5 * 60_000, caNotBefore));

    // chain: what GET /v1/ca/default serves, the issuing certificate first, which issued the leaf
    expect(Array.isArray(json.chain)).toBe(true);
    const chain = json.chain as string[];
    const served = await fetch(`${ca.url}/v1/ca/default`);
    expect(served.status).toBe(200);
    const servedDer = chainDer(await served.text());
    expect(chain.map((pem) => Buffer.from(new X509Certificate(pem).raw))).toEqual(servedDer);
    expect(chain).toHaveLength(2);
    const issuing = new X509Certificate(chain[0]);
    expect(issued.node.checkIssued(issuing)).toBe(true);
    expect(issued.node.verify(issuing.publicKey)).toBe(true);
  });

  it('serves the chain at GET /v1/ca/<ra>, issuing certificate first, as in the chain file', async () => {
    const response = await fetch(`${ca.url}/v1/ca/default`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await response.text();
    const served = chainDer(body);
    expect(served).toEqual(chainDer(readFileSync(ca.chainFile, 'utf8')));
    expect(served).toHaveLength(2);
    const [issuing, root] = pemCertificates(body).map((pem) => new X509Certificate(pem));
    expect(issuing.ca).toBe(true);
    expect(issuing.checkIssued(root)).toBe(true);
    expect(Buffer.from(root.raw).equals(chainDer(readFileSync(ca.rootFile, 'utf8'))[0])).toBe(true);
  });

  it('serves robots.txt that disallows everything', async () => {
    const response = await fetch(`${ca.url}/robots.txt`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('User-agent: *\nDisallow: /\n');
  });
});
