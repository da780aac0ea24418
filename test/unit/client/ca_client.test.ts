// The client against a stand-in server over real loopback TLS: how each kind of answer is
// classified, and what the client refuses to believe. (The real daemon: test/integration/client/.)
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { CaClient, type ClientCredentials } from '../../../src/client/ca_client';
import { AuthenticationFailedError, ClientUsageError, PolicyRefusedError, ServerError, ServerUnreachableError, TrustError } from '../../../src/client/errors';
import { requestCertificate } from '../../../src/client/request_certificate';
import { requestedNames } from '../../../src/client/requested_names';
import { TrustAnchors } from '../../../src/client/trust';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly body: string;
}

describe('CaClient', () => {
  let pki: TestPki;
  let rogue: TestPki;
  let server: Server;
  let url: URL;
  let handler: Handler;
  let recorded: Recorded[];

  const fingerprint = () => createHash('sha256').update(new X509Certificate(pki.root.cert).raw).digest('hex');
  const anchors = () => TrustAnchors.fromPem(pki.root.cert, 'root.pem');
  const secret: ClientCredentials = { kind: 'static', user: 'deployer', secret: 'the-secret' };
  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
  /** Signs what was asked, as Mayfly would: the answer a correct server gives. */
  const signing = (ca: TestPki): Handler => (_request, body, response) =>
    json(response, 200, { certificate: ca.signCsr((JSON.parse(body) as { csr: string }).csr), chain: [ca.intermediate.cert, ca.root.cert] });

  /** Serves HTTPS with a certificate for 127.0.0.1 from `ca`, sent with its issuing certificate. */
  function listen(ca: TestPki): Promise<void> {
    const tls = ca.issueLeaf('/CN=ca.mayfly.test', ['IP:127.0.0.1']);
    server = createServer({ cert: tls.cert + ca.intermediate.cert, key: tls.key }, (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        recorded.push({ method: request.method ?? '', url: request.url ?? '', ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}), body });
        handler(request, body, response);
      });
    });
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
        resolve();
      }),
    );
  }

  beforeAll(async () => {
    pki = createTestPki('Mayfly');
    rogue = createTestPki('Rogue');
  });
  afterAll(() => {
    pki.remove();
    rogue.remove();
  });
  beforeEach(() => {
    recorded = [];
    handler = signing(pki);
  });
  afterEach(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  describe('against a server with a certificate from the trusted CA', () => {
    beforeEach(() => listen(pki));
    const order = { ra: 'default', names: requestedNames('svc.mayfly.test', []), keyType: 'p256' as const };

    it('sends the CSR with the credentials and checks the certificate it gets back', async () => {
      const issued = await requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret);
      expect(issued.certificate.subject).toBe('CN=svc.mayfly.test');
      expect(issued.chainPem).toBe(new X509Certificate(pki.intermediate.cert).toString());
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({ method: 'POST', url: '/v1/sign/default', authorization: `Basic ${Buffer.from('deployer:the-secret').toString('base64')}` });
      expect(JSON.parse(recorded[0].body).csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    });

    it('sends a token as a bearer token', async () => {
      await requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, { kind: 'token', token: 'mfy_x' });
      expect(recorded[0].authorization).toBe('Bearer mfy_x');
    });

    it('refuses a certificate for another key', async () => {
      const other = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
      handler = (_request, _body, response) => json(response, 200, { certificate: other.cert, chain: [pki.intermediate.cert] });
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret)).rejects.toThrow(
        new TrustError('the returned certificate is not for the key of the request'),
      );
    });

    it('refuses a certificate for the key that another CA signed', async () => {
      handler = signing(rogue);
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret)).rejects.toThrow(/does not chain to the trusted root/);
    });

    it('refuses a certificate without the names asked for', async () => {
      const withMore = { ...order, names: requestedNames('svc.mayfly.test', ['DNS:svc.mayfly.test', 'DNS:more.mayfly.test']) };
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), withMore, secret)).resolves.toBeDefined();
      handler = (_request, body, response) =>
        json(response, 200, { certificate: pki.signCsr((JSON.parse(body) as { csr: string }).csr, { dropNames: true }), chain: [pki.intermediate.cert] });
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), withMore, secret)).rejects.toThrow(
        new TrustError('the returned certificate lacks requested names: DNS:svc.mayfly.test, DNS:more.mayfly.test'),
      );
    });

    it.each([
      [401, {}, AuthenticationFailedError, /authentication failed at RA default/],
      [404, { error: 'unknown_ra', message: 'no registration authority named "default"' }, ClientUsageError, /no registration authority "default"/],
      [400, { error: 'bad_csr', message: 'the CSR cannot be parsed' }, ServerError, /answered 400: the CSR cannot be parsed/],
      [403, { error: 'forbidden', message: 'not for you' }, ServerError, /answered 403: not for you/],
      [500, { error: 'internal_error', message: 'an internal error occurred; nothing was signed' }, ServerError, /answered 500/],
    ])('classifies %i', async (status, body, kind, message) => {
      handler = (_request, _body, response) => json(response, status, body);
      const attempt = requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret);
      await expect(attempt).rejects.toThrow(kind);
      await expect(attempt).rejects.toThrow(message);
    });

    it('returns every validator\'s reason of a policy refusal', async () => {
      const reasons = [
        { validator: 'common_name', reason: "common name 'evil.example.com' is outside the allowed domains [.mayfly.test]" },
        { validator: 'alternative_names', reason: "DNS name 'evil.example.com' is outside the allowed domains [.mayfly.test]" },
      ];
      handler = (_request, _body, response) => json(response, 403, { error: 'policy_refused', message: 'the request was refused by policy', reasons });
      const error = await requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PolicyRefusedError);
      expect((error as PolicyRefusedError).reasons).toEqual(reasons);
    });

    it('keeps Retry-After of a busy server, and calls a 200 without a certificate a server error', async () => {
      handler = (_request, _body, response) => json(response, 503, { error: 'signer_unavailable', message: 'the signing key is unavailable' }, { 'Retry-After': '5' });
      const busy = await requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(ServerError);
      expect((busy as ServerError).retryAfterMs).toBe(5000);
      // RFC 9110 10.2.3: an HTTP-date is the other form.
      const later = new Date(Date.now() + 120_000); // to the second
      handler = (_request, _body, response) => json(response, 429, { error: 'rate_limited', message: 'too many requests' }, { 'Retry-After': later.toUTCString() });
      const limited = await requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret).catch((e: unknown) => e);
      expect((limited as ServerError).retryAfterMs).toBeGreaterThan(100_000);
      expect((limited as ServerError).retryAfterMs).toBeLessThanOrEqual(120_000);
      handler = (_request, _body, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>a captive portal</html>');
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret)).rejects.toThrow(new ServerError('the server answered 200 without a certificate and chain'));
    });

    it('gives up on a server that does not answer in time', async () => {
      handler = () => undefined;
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }, 300), order, secret)).rejects.toThrow(ServerUnreachableError);
    });
  });

  describe('against a server whose certificate is not from the trusted CA', () => {
    beforeEach(() => listen(rogue));
    const order = { ra: 'default', names: requestedNames('svc.mayfly.test', []), keyType: 'p256' as const };

    it('refuses to send anything with a root file', async () => {
      await expect(requestCertificate(new CaClient(url, { kind: 'anchors', anchors: anchors() }), order, secret)).rejects.toThrow(TrustError);
      expect(recorded).toEqual([]);
    });

    it('with only a fingerprint, reads the public chain, and sends no credentials when the server cannot prove it holds that root', async () => {
      // A man in the middle can serve the genuine public chain; it cannot present a certificate from it.
      handler = (request, _body, response) => {
        if (request.method === 'GET') response.writeHead(200, { 'Content-Type': 'text/plain' }).end(pki.chainPem);
        else signing(pki)(request, _body, response);
      };
      await expect(requestCertificate(new CaClient(url, { kind: 'fingerprint', fingerprint: fingerprint() }), order, secret)).rejects.toThrow(/is not trusted/);
      expect(recorded.map((r) => `${r.method} ${r.url} ${r.authorization ?? 'no credentials'}`)).toEqual(['GET /v1/ca/default no credentials']);
    });

    it('with only a fingerprint, refuses a chain without that root before sending anything else', async () => {
      handler = (_request, _body, response) => response.writeHead(200, { 'Content-Type': 'text/plain' }).end(rogue.chainPem);
      await expect(requestCertificate(new CaClient(url, { kind: 'fingerprint', fingerprint: fingerprint() }), order, secret)).rejects.toThrow(/has no certificate with fingerprint/);
      expect(recorded.map((r) => `${r.method} ${r.url} ${r.authorization ?? 'no credentials'}`)).toEqual(['GET /v1/ca/default no credentials']);
    });
  });

  it('calls a closed port unreachable, and refuses http://', async () => {
    await listen(pki);
    const free = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const order = { ra: 'default', names: requestedNames('svc.mayfly.test', []), keyType: 'p256' as const };
    await expect(requestCertificate(new CaClient(new URL(`https://127.0.0.1:${free}`), { kind: 'anchors', anchors: anchors() }), order, secret)).rejects.toThrow(ServerUnreachableError);
    expect(() => new CaClient(new URL('http://127.0.0.1:5016'), { kind: 'anchors', anchors: anchors() })).toThrow(/must be https/);
    // Node would send these as Basic authentication, before the server is verified.
    expect(() => new CaClient(new URL('https://deployer:s3cret@127.0.0.1:5016'), { kind: 'anchors', anchors: anchors() })).toThrow(/must not hold a user name or password/);
  });
});
