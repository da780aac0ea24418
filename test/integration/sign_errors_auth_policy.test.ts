// Refusals of well-formed requests: authentication (401, the same answer whichever part was
// wrong) and policy (403, every failing validator with its reason, several at once).
import { randomBytes, scryptSync } from 'node:crypto';
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, type OpensslCsr } from '../helpers/openssl';
import { describeErrorCases, itStillIssues, SignErrorHarness, type ErrorCase } from './error_cases';
import { anchorFields, basicAuth, countSignatures, DEV_USER, signUrl } from './support';

const h = new SignErrorHarness();

/** The DER with its last octet flipped: the last octet of the signature BIT STRING. */
const brokenSignature = (csr: OpensslCsr): Buffer => {
  const der = Buffer.from(csr.der);
  der[der.length - 1] ^= 0x01;
  return der;
};

const FAILED = /^authentication failed$/;
const REFUSED = /^the request was refused by policy$/;
const SAN = 'subjectAltName=DNS:svc.mayfly.test';

const AUTH_CASES: readonly ErrorCase[] = [
  { name: 'a wrong secret', status: 401, error: 'authentication_failed', message: FAILED, send: h.form(() => [['user', DEV_USER], ['secret', `${h.ca.secret}x`], ['encoding', 'pem'], ['csr', h.goodCsr().pem]]) },
  { name: 'an unknown user', status: 401, error: 'authentication_failed', message: FAILED, send: h.form(() => [['user', 'mallory'], ['secret', h.ca.secret], ['encoding', 'pem'], ['csr', h.goodCsr().pem]]) },
  { name: 'missing credentials', status: 401, error: 'authentication_failed', message: FAILED, send: h.form(() => [['encoding', 'pem'], ['csr', h.goodCsr().pem]]) },
  { name: 'an empty secret', status: 401, error: 'authentication_failed', message: FAILED, send: h.form(() => [['user', DEV_USER], ['secret', ''], ['encoding', 'pem'], ['csr', h.goodCsr().pem]]) },
  { name: 'a wrong Basic secret (JSON)', status: 401, error: 'authentication_failed', message: FAILED, send: h.json(() => JSON.stringify({ csr: h.goodCsr().pem }), () => basicAuth(DEV_USER, 'wrong')) },
  { name: 'no Basic credentials (application/pkcs10)', status: 401, error: 'authentication_failed', message: FAILED, send: h.pkcs10(() => h.goodCsr().der) },
];

const POLICY_CASES: readonly ErrorCase[] = [
  { name: 'a CSR asking for CA:TRUE', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'ca_status', reason: /CA:TRUE/ }], send: h.refused({ extensions: [SAN, 'basicConstraints=critical,CA:TRUE'] }) },
  { name: 'a CSR asking for keyCertSign', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'ca_status', reason: /keyCertSign/ }], send: h.refused({ extensions: [SAN, 'keyUsage=critical,digitalSignature,keyCertSign'] }) },
  { name: 'a CSR asking for cRLSign', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'ca_status', reason: /cRLSign/ }], send: h.refused({ extensions: [SAN, 'keyUsage=digitalSignature,cRLSign'] }) },
  { name: 'a CSR asking for a pathLenConstraint', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'ca_status', reason: /pathLenConstraint/ }], send: h.refused({ extensions: [SAN, 'basicConstraints=CA:FALSE,pathlen:0'] }) },
  {
    name: 'a common name outside the allowed domains',
    status: 403,
    error: 'policy_refused',
    message: REFUSED,
    // The CN is issued as a subjectAltName too, so alternative_names judges it as well.
    reasons: [
      { validator: 'common_name', reason: /'www\.example\.com'.*allowed domains \[\.mayfly\.test\]/ },
      { validator: 'alternative_names', reason: /'www\.example\.com'.*allowed domains \[\.mayfly\.test\]/ },
    ],
    send: h.refused({ subject: '/CN=www.example.com' }),
  },
  {
    name: 'a subjectAltName outside the allowed domains',
    status: 403,
    error: 'policy_refused',
    message: REFUSED,
    reasons: [{ validator: 'alternative_names', reason: /'www\.example\.com'.*allowed domains \[\.mayfly\.test\]/ }],
    send: h.refused({ extensions: ['subjectAltName=DNS:svc.mayfly.test,DNS:www.example.com'] }),
  },
  { name: 'an RSA-1024 key', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'public_key', reason: /1024 bits.*2048/ }], send: h.refused({ keyType: 'rsa1024' }) },
  { name: 'an unknown critical extension', status: 403, error: 'policy_refused', message: REFUSED, reasons: [{ validator: 'critical_extensions', reason: /1\.2\.3\.4/ }], send: h.refused({ extensions: [SAN, '1.2.3.4=critical,ASN1:UTF8String:x'] }) },
  {
    name: 'a broken CSR signature (P-256, application/pkcs10)',
    status: 403,
    error: 'policy_refused',
    message: REFUSED,
    reasons: [{ validator: 'csr_signature', reason: /ecdsa-with-SHA256.*does not verify/ }],
    send: h.pkcs10(() => brokenSignature(h.csr({ keyType: 'p256' })), h.goodBasic),
  },
  {
    name: 'a broken CSR signature (RSA-2048, multipart DER file)',
    status: 403,
    error: 'policy_refused',
    message: REFUSED,
    reasons: [{ validator: 'csr_signature', reason: /sha256WithRSAEncryption.*does not verify/ }],
    send: h.multipart(h.creds, () => [{ name: 'csr', content: brokenSignature(h.csr({ keyType: 'rsa2048' })), filename: 'svc.der' }]),
  },
  {
    name: 'a CSR that fails many validators at once',
    status: 403,
    error: 'policy_refused',
    message: REFUSED,
    reasons: [
      { validator: 'ca_status', reason: /CA:TRUE/ },
      { validator: 'ca_status', reason: /keyCertSign/ },
      { validator: 'critical_extensions', reason: /1\.2\.3\.4/ },
      { validator: 'common_name', reason: /'www\.example\.com'/ },
      { validator: 'alternative_names', reason: /'www\.example\.com'/ },
      { validator: 'alternative_names', reason: /'evil\.example\.net'/ },
      { validator: 'public_key', reason: /1024 bits/ },
    ],
    send: h.refused({
      keyType: 'rsa1024',
      subject: '/CN=www.example.com',
      extensions: ['subjectAltName=DNS:ok.mayfly.test,DNS:evil.example.net', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,keyCertSign', '1.2.3.4=critical,ASN1:UTF8String:x'],
    }),
  },
];

describe('sign API: authentication and policy refusals', () => {
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describeErrorCases(h, [...AUTH_CASES, ...POLICY_CASES]);

  it('gives every authentication failure the same answer, whichever part was wrong', async () => {
    for (const accept of ['application/json', 'text/plain']) {
      const answers = await Promise.all(AUTH_CASES.map((c) => c.send(accept)));
      expect(answers.map((a) => a.status)).toEqual(AUTH_CASES.map(() => 401));
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      expect(new Set(answers.map((a) => a.header('www-authenticate')))).toEqual(new Set(['Basic realm="mayfly", charset="UTF-8"']));
      expect(answers[0].body).not.toMatch(/mallory|deployer|secret|user/i);
    }
  });

  itStillIssues(h);
});

describe('an empty secret', () => {
  let emptyHashCa: TestCa;
  beforeAll(async () => {
    // A config whose stored hash is the hash of the empty string: Anchor's LDAP hole.
    const salt = randomBytes(16);
    const hash = scryptSync('', salt, 32, { N: 16384, r: 8, p: 1 });
    const emptySecretHash = `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
    emptyHashCa = await startTestCa({
      editConfig: (yaml) => {
        const edited = yaml.replace(/secret_hash: "[^"]+"/, `secret_hash: "${emptySecretHash}"`);
        if (edited === yaml) throw new Error('no secret_hash line in the generated config');
        return edited;
      },
    });
  });
  afterAll(() => emptyHashCa.stop());

  it('never authenticates, even when the stored hash is the hash of the empty string', async () => {
    const signed = countSignatures(emptyHashCa);
    const form = await fetch(signUrl(emptyHashCa), { method: 'POST', body: new URLSearchParams(anchorFields('', makeCsr().pem)) });
    expect(form.status).toBe(401);
    expect(await form.text()).toBe('authentication failed\n');
    const basic = await fetch(signUrl(emptyHashCa), {
      method: 'POST',
      headers: { 'Content-Type': 'application/pkcs10', Authorization: basicAuth(DEV_USER, '') },
      body: new Uint8Array(makeCsr().der),
    });
    expect(basic.status).toBe(401);
    expect(signed.count).toBe(0);
  });
});
