// Issue 14: the certificate carries the names and subject policy checked, in the form clients
// expect, within its issuer's validity: over real HTTP, read back with OpenSSL and Node.
import { X509Certificate } from 'node:crypto';
import { TAG } from '../../src/der';
import { postForm, startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, opensslText, opensslVerify } from '../helpers/openssl';
import { buildCsr, OIDS, subjectAltNameValue } from '../unit/policy/policy_request';
import { issuingCertificate } from './support';

// The default RA, with IP subjectAltNames allowed on loopback and the options under test.
function withPolicy(raOptions: string, validators = ''): (yaml: string) => string {
  return (yaml) =>
    yaml.replace(
      /    validators:[\s\S]*?    fixups: \[\]\n/,
      `${raOptions}    validators:
      - common_name: { allowed_domains: [".mayfly.test"], allowed_networks: ["127.0.0.0/8"] }
      - alternative_names_ip: { allowed_domains: [".mayfly.test"], allowed_networks: ["127.0.0.0/8"] }
      - max_names: { max: 10 }
${validators}    fixups: []
`,
    );
}

interface Answer {
  readonly status: number;
  readonly certificate?: X509Certificate;
  readonly pem?: string;
  readonly reasons: readonly { validator: string; reason: string }[];
}

async function sign(ca: TestCa, csr: string | Uint8Array): Promise<Answer> {
  const pem = typeof csr === 'string' ? csr : `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(csr).toString('base64').replace(/(.{64})(?!$)/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  const response = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: pem }, { Accept: 'application/json' });
  const body = (await response.json()) as { certificate?: string; reasons?: { validator: string; reason: string }[] };
  if (response.status !== 200) return { status: response.status, reasons: body.reasons ?? [] };
  const certificate = body.certificate!;
  expect(opensslVerify(certificate, ca.rootFile, ca.chainFile).ok).toBe(true);
  return { status: 200, certificate: new X509Certificate(certificate), pem: certificate, reasons: [] };
}

/** openssl x509 -text's Subject line and the line after "X509v3 Subject Alternative Name:". */
function opensslView(pem: string): { subject: string; subjectAltName: string } {
  const text = opensslText(pem);
  return {
    subject: /^\s*Subject: ?(.*)$/m.exec(text)![1].replace(/ = /g, '='),
    subjectAltName: /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(text)?.[1] ?? '',
  };
}

describe('the issued subject (issue 14, item 6)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPolicy('') });
  });
  afterAll(() => ca.stop());

  it('holds only the CN: O, UID and emailAddress from the CSR are left out', async () => {
    const csr = makeCsr({ subject: '/CN=ok.mayfly.test/O=system:masters/UID=root/emailAddress=ceo@example.com', extensions: ['subjectAltName=DNS:ok.mayfly.test'] });
    const answer = await sign(ca, csr.pem);
    expect(answer.status).toBe(200);
    expect(answer.certificate!.subject).toBe('CN=ok.mayfly.test');
    expect(opensslView(answer.pem!)).toEqual({ subject: 'CN=ok.mayfly.test', subjectAltName: 'DNS:ok.mayfly.test' });
  });

  it('refuses a CN of 65 characters (RFC 5280 ub-common-name is 64)', async () => {
    const name = `${'a'.repeat(40)}.${'b'.repeat(12)}.mayfly.test`;
    expect(name).toHaveLength(65);
    const answer = await sign(ca, buildCsr({ subject: [{ oid: OIDS.commonName, value: name }], extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: name }]) }] }));
    expect(answer.status).toBe(403);
    expect(answer.reasons).toContainEqual({ validator: 'name_syntax', reason: 'the common name is 65 characters long; at most 64 are allowed (RFC 5280 ub-common-name)' });
  });

  it.each([
    ['BMPString', TAG.BMP_STRING, Buffer.from('ok.mayfly.test', 'utf16le').swap16()],
    ['TeletexString', TAG.T61_STRING, Buffer.from('ok.mayfly.test', 'latin1')],
    ['IA5String', TAG.IA5_STRING, Buffer.from('ok.mayfly.test', 'latin1')],
  ])('refuses a CN sent as a %s', async (type, tag, value) => {
    const answer = await sign(ca, buildCsr({ subject: [{ oid: OIDS.commonName, value, tag }], extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'ok.mayfly.test' }]) }] }));
    expect(answer.status).toBe(403);
    expect(answer.reasons).toEqual([{ validator: 'name_syntax', reason: `the common name is a ${type}; only PrintableString and UTF8String are accepted` }]);
  });
});

describe('subject attributes the RA names (subject_attributes)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPolicy('    subject_attributes: [O]\n', '      - subject_attributes: { O: [web, db] }\n') });
  });
  afterAll(() => ca.stop());

  it('issues O when the subject_attributes validator allows its value, and still leaves out what the RA does not name', async () => {
    const answer = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test/O=web/OU=ops/emailAddress=ceo@example.com', extensions: [] }).pem);
    expect(answer.status).toBe(200);
    expect(answer.certificate!.subject).toBe('CN=ok.mayfly.test\nO=web');
    expect(opensslView(answer.pem!).subject).toBe('CN=ok.mayfly.test, O=web');
  });

  it('refuses an O the validator does not allow', async () => {
    const answer = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test/O=system:masters', extensions: [] }).pem);
    expect(answer.status).toBe(403);
    expect(answer.reasons).toEqual([{ validator: 'subject_attributes', reason: 'subject O "system:masters" is not among the allowed values [web, db]' }]);
  });
});

describe('the issued names (issue 14, item 7)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPolicy('') });
  });
  afterAll(() => ca.stop());

  const issuedNames = async (subject: string, extensions: string[]): Promise<{ subject: string; subjectAltName: string }> => {
    const answer = await sign(ca, makeCsr({ subject, extensions }).pem);
    expect(answer.status).toBe(200);
    const view = opensslView(answer.pem!);
    expect(answer.certificate!.subjectAltName).toBe(view.subjectAltName);
    return view;
  };

  it('drops the trailing dot', async () => {
    expect(await issuedNames('/CN=dot.mayfly.test.', ['subjectAltName=DNS:dot.mayfly.test.'])).toEqual({ subject: 'CN=dot.mayfly.test', subjectAltName: 'DNS:dot.mayfly.test' });
  });

  it('lower-cases names', async () => {
    expect(await issuedNames('/CN=Dot.Mayfly.Test', ['subjectAltName=DNS:API.Mayfly.Test'])).toEqual({ subject: 'CN=dot.mayfly.test', subjectAltName: 'DNS:dot.mayfly.test, DNS:api.mayfly.test' });
  });

  it('issues each name once', async () => {
    const names = await issuedNames('/CN=a.mayfly.test', ['subjectAltName=DNS:a.mayfly.test,DNS:A.mayfly.test,DNS:a.mayfly.test.,DNS:b.mayfly.test,IP:127.0.0.5,DNS:127.0.0.5']);
    expect(names.subjectAltName).toBe('DNS:a.mayfly.test, DNS:b.mayfly.test, IP Address:127.0.0.5');
  });

  it('issues an IP address sent as a dNSName as an iPAddress', async () => {
    expect((await issuedNames('/CN=a.mayfly.test', ['subjectAltName=DNS:127.0.0.5'])).subjectAltName).toBe('DNS:a.mayfly.test, IP Address:127.0.0.5');
  });

  it('puts the CN in the SAN: a DNS name as a dNSName, an IP as an iPAddress', async () => {
    expect(await issuedNames('/CN=cn-only.mayfly.test', [])).toEqual({ subject: 'CN=cn-only.mayfly.test', subjectAltName: 'DNS:cn-only.mayfly.test' });
    expect(await issuedNames('/CN=127.0.0.7', [])).toEqual({ subject: 'CN=127.0.0.7', subjectAltName: 'IP Address:127.0.0.7' });
  });

  it.each(['foo_bar.mayfly.test', '-lead.mayfly.test', 'trail-.mayfly.test'])('refuses %s, which is no RFC 1123 host name', async (name) => {
    const answer = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test', extensions: [`subjectAltName=DNS:${name}`] }).pem);
    expect(answer.status).toBe(403);
    expect(answer.reasons).toContainEqual({ validator: 'name_syntax', reason: expect.stringContaining(`name '${name}' has label`) });
  });

  it('refuses 200 copies of one name when max_names is 10', async () => {
    const answer = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test', extensions: [`subjectAltName=${Array(200).fill('DNS:ok.mayfly.test').join(',')}`] }).pem);
    expect(answer.status).toBe(403);
    expect(answer.reasons).toEqual([{ validator: 'max_names', reason: 'the request has 200 names; at most 10 are allowed' }]);
  });
});

describe('allow_underscores', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPolicy('    allow_underscores: true\n') });
  });
  afterAll(() => ca.stop());

  it('lets underscores into DNS names, and nothing else that is no host name', async () => {
    const allowed = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test', extensions: ['subjectAltName=DNS:_srv.foo_bar.mayfly.test'] }).pem);
    expect(allowed.status).toBe(200);
    expect(allowed.certificate!.subjectAltName).toBe('DNS:ok.mayfly.test, DNS:_srv.foo_bar.mayfly.test');
    const refused = await sign(ca, makeCsr({ subject: '/CN=ok.mayfly.test', extensions: ['subjectAltName=DNS:-lead.mayfly.test'] }).pem);
    expect(refused.status).toBe(403);
  });
});

describe('the validity (issue 14, item 8)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    // `mayfly init` makes an issuing CA whose notBefore is a minute ago.
    ca = await startTestCa({ editConfig: (yaml) => withPolicy('')(yaml).replace(/backdate_minutes: 5/, 'backdate_minutes: 60') });
  });
  afterAll(() => ca.stop());

  it('never starts before the issuing CA, however far the backdate reaches', async () => {
    const issuing = issuingCertificate(ca).node;
    expect(Date.now() - Date.parse(issuing.validFrom)).toBeLessThan(60 * 60_000);
    const answer = await sign(ca, makeCsr().pem);
    expect(answer.status).toBe(200);
    expect(Date.parse(answer.certificate!.validFrom)).toBeGreaterThanOrEqual(Date.parse(issuing.validFrom));
    expect(Date.parse(answer.certificate!.validTo)).toBeLessThanOrEqual(Date.parse(issuing.validTo));
  });
});
