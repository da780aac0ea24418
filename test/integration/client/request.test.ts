// `mayfly request` as a new host runs it: the real CLI against the real daemon over loopback HTTPS,
// trusting the root by its fingerprint or a file, each kind of credentials, and each way it can
// fail with its exit code. Each exit code is seen from a real process (bin/mayfly); the other cases
// run the same command in this process (cli_in_process.ts). Certificates are checked with openssl.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { createToken } from '../../../src/auth/token';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { runCliAsync, type CliResult } from '../../helpers/cli_process';
import { startTestCa, type TestCa } from '../../helpers/mayfly';
import { openssl, opensslText, opensslVerify } from '../../helpers/openssl';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

/** A token RA and an mTLS renewal RA beside `default`, with default's policy. */
function withBackends(yaml: string): string {
  const policy = yaml.slice(yaml.indexOf('    backdate_minutes:'));
  const ra = (name: string, authentication: string) => `  ${name}:\n    authentication: ${authentication}\n    signing_ca: local\n    valid_hours: 24\n${policy}`;
  return yaml.replace('authentication:\n', 'authentication:\n  tokens:\n    backend: token\n    tokens_file: tokens.yaml\n  renewers:\n    backend: mtls\n') + ra('by_token', 'tokens') + ra('renew', 'renewers');
}

// Each case starts the CLI (about a second on an idle machine; much more on a busy CI runner).
jest.setTimeout(120_000);

describe('mayfly request', () => {
  let ca: TestCa;
  let work: string;
  let fingerprint: string;
  let pki: TestPki;
  const ENV = () => ({ MAYFLY_SECRET: ca.secret });

  beforeAll(async () => {
    ca = await startTestCa({
      tls: true,
      audit: true,
      editConfig: (yaml, dir) => {
        writeFileSync(join(dir, 'tokens.yaml'), 'tokens: []\n', { mode: 0o600 });
        return withBackends(yaml);
      },
    });
    fingerprint = createHash('sha256').update(new X509Certificate(readFileSync(ca.rootFile)).raw).digest('hex');
    pki = createTestPki('Stranger');
  });
  afterAll(async () => {
    await ca.stop();
    pki.remove();
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-request-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const file = (name: string) => join(work, name);
  const outputs = ['--cert', 'svc.pem', '--key', 'svc.key', '--chain', 'chain.pem', '--fullchain', 'full.pem'];
  /** `mayfly request` in this process; `asProcess` for the case that shows an exit code from a real one. */
  const request = (args: readonly string[], env: NodeJS.ProcessEnv = ENV(), server = ca.url, asProcess = false): Promise<CliResult> =>
    (asProcess ? runCliAsync : runCliInProcess)(['request', '--server', server, '--ra', 'default', '--cn', 'svc.mayfly.test', ...args], { env, cwd: work });
  const bySecret = ['--user', 'deployer', '--secret-env', 'MAYFLY_SECRET'];
  const byFingerprint = () => ['--root-fingerprint', `SHA256:${fingerprint}`];
  const auditRecords = async () => {
    const store = new SqliteAuditStore(ca.auditDatabase, { readonly: true });
    try {
      return (await store.query({})).length;
    } finally {
      await store.close();
    }
  };

  /** The certificate on disk is for the key on disk, chains to the root, and names svc.mayfly.test. */
  function expectIssued(prefix = 'svc'): X509Certificate {
    const certPem = readFileSync(file(`${prefix}.pem`), 'utf8');
    const verified = opensslVerify(certPem, ca.rootFile, file('chain.pem'));
    expect(verified).toEqual({ ok: true, output: expect.any(String) });
    expect(opensslText(certPem)).toContain('DNS:svc.mayfly.test');
    expect(openssl(['x509', '-noout', '-pubkey'], certPem).toString()).toBe(openssl(['pkey', '-pubout'], readFileSync(file(`${prefix}.key`))).toString());
    expect(statSync(file(`${prefix}.key`)).mode & 0o777).toBe(0o600);
    return new X509Certificate(certPem);
  }

  it.each([
    ['p256', 'id-ecPublicKey'],
    ['rsa2048', 'rsaEncryption'],
    ['ed25519', 'ED25519'],
  ])('static secret, root trusted by fingerprint: a %s key made here, the certificate checked and written', async (keyType, algorithm) => {
    const result = await request([...bySecret, ...byFingerprint(), '--key-type', keyType, ...outputs], ENV(), ca.url, keyType === 'p256');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const certificate = expectIssued();
    expect(result.stdout).toBe(`Wrote ${file('svc.pem')} (serial ${certificate.serialNumber.toLowerCase()}, valid until ${new Date(certificate.validTo).toISOString()}) and its key ${file('svc.key')}.\n`);
    expect(opensslText(certificate.toString())).toContain(algorithm);
    expect(readFileSync(file('full.pem'), 'utf8')).toBe(readFileSync(file('svc.pem'), 'utf8') + readFileSync(file('chain.pem'), 'utf8'));
    // The chain is what a server sends after its certificate: the issuing CA, not the root.
    expect(new X509Certificate(readFileSync(file('chain.pem'))).subject).toBe('CN=Mayfly Development Issuing CA');
    expect(readdirSync(work).sort()).toEqual(['chain.pem', 'full.pem', 'svc.key', 'svc.pem']);
  });

  it('accepts the fingerprint with colons and in upper case, and a root file instead', async () => {
    const colons = fingerprint.toUpperCase().match(/../g)!.join(':');
    expect((await request([...bySecret, '--root-fingerprint', colons, ...outputs])).code).toBe(0);
    expectIssued();
    const result = await request([...bySecret, '--cacert', ca.rootFile, ...outputs]);
    expect(result.code).toBe(0);
    expectIssued();
  });

  it('a bearer token from the environment; a wrong one is exit 4', async () => {
    const { token } = await createToken(join(ca.dir, 'tokens.yaml'), { name: 'ci', groups: [] });
    const byToken = ['--ra', 'by_token', '--token-env', 'MAYFLY_TOKEN', ...byFingerprint(), ...outputs];
    // The server notices the tokens file changed within a moment.
    let result = await request(byToken, { MAYFLY_TOKEN: token });
    for (let i = 0; result.code === 4 && i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await request(byToken, { MAYFLY_TOKEN: token });
    }
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectIssued();
    const wrong = await request(['--ra', 'by_token', '--token-env', 'MAYFLY_TOKEN', ...byFingerprint(), '--cert', 'other.pem', '--key', 'other.key'], { MAYFLY_TOKEN: `${token.slice(0, -1)}x` });
    expect(wrong.code).toBe(4);
    expect(existsSync(file('other.pem'))).toBe(false);
  });

  it('the current certificate as a TLS client certificate (mTLS) renews it with a new key; a stranger\'s is exit 4', async () => {
    expect((await request([...bySecret, ...byFingerprint(), '--cert', 'old.pem', '--key', 'old.key'])).code).toBe(0);
    const old = new X509Certificate(readFileSync(file('old.pem')));
    const result = await request(['--ra', 'renew', '--mtls-cert', 'old.pem', '--mtls-key', 'old.key', ...byFingerprint(), ...outputs], {});
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const renewed = expectIssued();
    expect(renewed.serialNumber).not.toBe(old.serialNumber);
    expect(renewed.publicKey.export({ format: 'der', type: 'spki' }).equals(old.publicKey.export({ format: 'der', type: 'spki' }))).toBe(false);

    const stranger = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    const refused = await request(['--ra', 'renew', '--mtls-cert', stranger.certFile, '--mtls-key', stranger.keyFile, ...byFingerprint(), '--cert', 'x.pem', '--key', 'x.key'], {});
    expect(refused.code).toBe(4);
    expect(refused.stderr).toBe('mayfly: authentication failed at RA renew: the server does not accept these credentials\n');
  });

  it('refused by policy: exit 3, each validator\'s reason printed, nothing written', async () => {
    const result = await runCliAsync(['request', '--server', ca.url, '--ra', 'default', '--cn', 'evil.example.com', '--san', 'DNS:evil.example.com', '--san', 'IP:10.0.0.1', ...bySecret, ...byFingerprint(), ...outputs], { env: ENV(), cwd: work });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      [
        'mayfly: refused by policy:',
        "  - common_name: common name 'evil.example.com' is outside the allowed domains [.mayfly.test]",
        "  - alternative_names: DNS name 'evil.example.com' is outside the allowed domains [.mayfly.test]",
        '  - alternative_names: IP address 10.0.0.1 is not allowed (alternative_names takes DNS names only; use alternative_names_ip)',
        '',
      ].join('\n'),
    );
    expect(readdirSync(work)).toEqual([]);
  });

  it('a wrong secret is exit 4 and writes nothing', async () => {
    const result = await request([...bySecret, ...byFingerprint(), ...outputs], { MAYFLY_SECRET: 'not-the-secret' }, ca.url, true);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe('mayfly: authentication failed at RA default: the server does not accept these credentials\n');
    expect(readdirSync(work)).toEqual([]);
  });

  it('a server that is not there is exit 5', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const result = await request([...bySecret, ...byFingerprint(), ...outputs], ENV(), `https://127.0.0.1:${port}`, true);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^mayfly: cannot reach https:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });

  it('a root fingerprint the server\'s chain does not have is exit 7, and no credentials reach the server', async () => {
    const before = await auditRecords();
    const wrong = `${fingerprint.slice(0, -2)}${fingerprint.endsWith('00') ? '11' : '00'}`;
    const result = await request([...bySecret, '--root-fingerprint', wrong, ...outputs], ENV(), ca.url, true);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`has no certificate with fingerprint SHA256:${wrong}; it has: CN=Mayfly Development Issuing CA`);
    expect(readdirSync(work)).toEqual([]);
    // Had the secret been sent, the ledger would hold an issued certificate or a failed authentication.
    expect(await auditRecords()).toBe(before);
    expect((await request([...bySecret, ...byFingerprint(), ...outputs])).code).toBe(0);
    expect(await auditRecords()).toBe(before + 1);
  });

  it('usage errors are exit 2 and send nothing', async () => {
    const cases: [readonly string[], RegExp][] = [
      [[...bySecret, ...outputs], /give exactly one of --root-fingerprint and --cacert/],
      [[...bySecret, ...byFingerprint(), '--cacert', ca.rootFile, ...outputs], /give exactly one of --root-fingerprint and --cacert/],
      [[...byFingerprint(), ...outputs], /give one kind of credentials/],
      [[...bySecret, '--token-env', 'MAYFLY_SECRET', ...byFingerprint(), ...outputs], /give one kind of credentials/],
      [['--user', 'deployer', '--secret-env', 'UNSET_VARIABLE', ...byFingerprint(), ...outputs], /the environment variable UNSET_VARIABLE is not set/],
      [[...bySecret, '--root-fingerprint', 'SHA256:abc', ...outputs], /is not a SHA-256 fingerprint/],
      [[...bySecret, ...byFingerprint(), '--san', 'svc.mayfly.test', ...outputs], /must be DNS:<name> or IP:<address>/],
      [[...bySecret, ...byFingerprint(), '--cert', 'svc.pem', '--key', join(work, 'missing', 'svc.key')], /does not exist or is not writable/],
      [[...bySecret, ...byFingerprint(), '--key-type', 'dsa', ...outputs], /argument 'dsa' is invalid/],
      [[...bySecret, ...byFingerprint()], /required option '--cert <file>' not specified/],
      [[...bySecret, ...byFingerprint(), '--ra', 'nonexistent', ...outputs], /the server has no registration authority "nonexistent"/],
    ];
    const before = await auditRecords();
    // One from a real process: commander's own usage error.
    const results = await Promise.all(cases.map(([args], index) => request(args, ENV(), ca.url, index === cases.length - 2)));
    cases.forEach(([args, message], index) => {
      expect({ args, code: results[index]?.code }).toEqual({ args, code: 2 });
      expect(results[index]?.stderr).toMatch(message);
    });
    expect(readdirSync(work)).toEqual([]);
    expect(await auditRecords()).toBe(before);
  });

  it('--help documents the exit codes', async () => {
    const result = await runCliAsync(['request', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:\n  0  the certificate and key are written\n  1  anything unexpected (the files could not be written, say)\n  2  usage or config error');
    expect(result.stdout).toMatch(/ 7 {2}trust failure/);
  });

  describe('against a server that is not Mayfly', () => {
    let impostor: Server;
    let impostorUrl: string;
    let seen: string[];
    let answer: (method: string, response: import('node:http').ServerResponse) => void;

    beforeAll(async () => {
      // Its TLS certificate comes from a CA of its own (trusted only where a test says --cacert).
      const tls = pki.issueLeaf('/CN=impostor', ['IP:127.0.0.1']);
      impostor = createServer({ cert: tls.cert + pki.intermediate.cert, key: tls.key }, (incoming, response) => {
        incoming.resume();
        incoming.on('end', () => {
          seen.push(`${incoming.method} ${incoming.url} ${incoming.headers.authorization ? 'with credentials' : 'no credentials'}`);
          answer(incoming.method ?? '', response);
        });
      });
      await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
      impostorUrl = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    beforeEach(() => {
      seen = [];
    });

    it('serving Mayfly\'s genuine public chain without holding its root: exit 7, and the secret is never sent', async () => {
      const genuineChain = readFileSync(ca.chainFile, 'utf8');
      answer = (method, response) => (method === 'GET' ? response.writeHead(200, { 'Content-Type': 'text/plain' }).end(genuineChain) : response.writeHead(500).end());
      const result = await request([...bySecret, ...byFingerprint(), ...outputs], ENV(), impostorUrl);
      expect(result.code).toBe(7);
      expect(result.stderr).toMatch(/is not trusted/);
      expect(seen).toEqual(['GET /v1/ca/default no credentials']);
      expect(readdirSync(work)).toEqual([]);
    });

    it('trusted, but busy: exit 6', async () => {
      answer = (_method, response) => response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '5' }).end('{"error":"signer_unavailable","message":"the signing key is unavailable"}');
      const result = await request([...bySecret, '--cacert', pki.root.certFile, ...outputs], ENV(), impostorUrl, true);
      expect(result.code).toBe(6);
      expect(result.stderr).toBe('mayfly: the server answered 503: the signing key is unavailable\n');
    });

    it('trusted, but answering with a certificate that is not for the key: exit 7, nothing written', async () => {
      const other = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
      answer = (_method, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ certificate: other.cert, chain: [pki.intermediate.cert] }));
      const result = await request([...bySecret, '--cacert', pki.root.certFile, ...outputs], ENV(), impostorUrl);
      expect(result.code).toBe(7);
      expect(result.stderr).toBe('mayfly: the returned certificate is not for the key of the request\n');
      expect(readdirSync(work)).toEqual([]);
    });
  });
});
