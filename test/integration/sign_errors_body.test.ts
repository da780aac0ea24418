// Refusals before anyone is authenticated or any policy runs: a body or field that cannot be used
// (400), an unknown RA (404), a wrong method (405), a body over 64 KiB however it is sent (413),
// a content type the API does not speak (415). CSR parse errors (400) need valid credentials,
// since authentication comes first.
import { basicAuth, DEV_USER, multipartBody, signUrl } from './support';
import { describeErrorCases, itStillIssues, SignErrorHarness, type ErrorCase } from './error_cases';

const LIMIT = 64 * 1024;
const BOUNDARY = 'mayfly-test-boundary';
const PADDING = 'x'.repeat(LIMIT + 6 * 1024); // 70 KiB
const OVER_LIMIT = /over the (size )?limit/;

const h = new SignErrorHarness();
const truncated = () => h.goodCsr().der.subarray(0, h.goodCsr().der.length - 20);

const CASES: readonly ErrorCase[] = [
  // ---- 400: the CSR is not a usable PKCS#10 request ----
  { name: 'a csr field that is not a CSR', status: 400, error: 'bad_csr', message: /neither PEM, DER nor base64 DER/, send: h.form(() => h.withCsr('this is not a certificate request')) },
  { name: 'a csr field of base64 DER that is not a CSR', status: 400, error: 'bad_csr', message: /not a PKCS#10/, send: h.form(() => h.withCsr('MAA=')) },
  {
    name: 'a CERTIFICATE REQUEST PEM block holding garbage',
    status: 400,
    error: 'bad_csr',
    message: /^the CSR is not a valid DER PKCS#10 request/,
    send: h.form(() => h.withCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA////AAAA\n-----END CERTIFICATE REQUEST-----\n')),
  },
  { name: 'truncated DER as application/pkcs10', status: 400, error: 'bad_csr', message: /not a valid DER PKCS#10 request/, send: h.pkcs10(truncated, h.goodBasic) },
  { name: 'truncated DER as a multipart file', status: 400, error: 'bad_csr', message: /not a valid DER PKCS#10 request/, send: h.multipart(h.creds, () => [{ name: 'csr', content: truncated(), filename: 'svc.der' }]) },
  { name: 'DER with trailing bytes', status: 400, error: 'bad_csr', message: /not a valid DER PKCS#10 request/, send: h.pkcs10(() => Buffer.concat([h.goodCsr().der, Buffer.from([0, 0])]), h.goodBasic) },
  {
    name: 'a PRIVATE KEY PEM block instead of a CSR',
    status: 400,
    error: 'bad_csr',
    message: /^expected a PEM block labelled CERTIFICATE REQUEST, found "PRIVATE KEY"$/,
    mustNotEcho: () => h.goodCsr().keyPem.split('\n')[1],
    send: h.form(() => h.withCsr(h.goodCsr().keyPem)),
  },
  { name: 'two CSR PEM blocks in one csr field', status: 400, error: 'bad_csr', message: /^expected one PEM block, found 2$/, send: h.form(() => h.withCsr(h.goodCsr().pem + h.goodCsr().pem)) },

  // ---- 400: a field is missing, repeated, unknown or malformed ----
  { name: 'the csr field twice (urlencoded)', status: 400, error: 'bad_field', message: /csr field must be a single string/, send: h.form(() => [...h.withCsr(h.goodCsr().pem), ['csr', h.goodCsr().pem]]) },
  { name: 'the csr field twice (multipart text fields)', status: 400, error: 'bad_field', message: /^the csr field is given more than once$/, send: h.multipart(() => [...h.withCsr(h.goodCsr().pem), ['csr', h.goodCsr().pem]]) },
  {
    name: 'the csr given twice (multipart: a text field and a file)',
    status: 400,
    error: 'bad_field',
    message: /csr/,
    // the file is a valid CSR and the text field is not: the server must not pick one silently
    send: h.multipart(
      () => h.withCsr('-----BEGIN CERTIFICATE REQUEST-----\nnot this one\n-----END CERTIFICATE REQUEST-----\n'),
      () => [{ name: 'csr', content: h.goodCsr().pem, filename: 'svc.csr' }],
    ),
  },
  {
    name: 'the csr given twice (multipart: two files)',
    status: 400,
    error: 'bad_field',
    message: /csr/,
    send: h.multipart(h.creds, () => [{ name: 'csr', content: h.goodCsr().pem, filename: 'a.csr' }, { name: 'csr', content: h.goodCsr().pem, filename: 'b.csr' }]),
  },
  { name: 'a garbage urlencoded body', status: 400, error: 'unknown_field', message: /^unknown field /, send: (a) => h.post(a, '\x00\x01garbage%%%&&==', { 'Content-Type': 'application/x-www-form-urlencoded' }) },
  { name: 'an unknown field (urlencoded)', status: 400, error: 'unknown_field', message: /^unknown field "colour"; expected user, secret, encoding, csr/, send: h.form(() => [...h.withCsr(h.goodCsr().pem), ['colour', 'blue']]) },
  { name: 'an unknown field (multipart)', status: 400, error: 'unknown_field', message: /^unknown field "colour"/, send: h.multipart(() => [...h.withCsr(h.goodCsr().pem), ['colour', 'blue']]) },
  {
    name: 'an unknown field beside every known one (multipart)',
    status: 400,
    error: 'unknown_field',
    message: /^unknown field "colour"/,
    send: h.multipart(() => [...h.withCsr(h.goodCsr().pem), ['valid_hours', '1'], ['colour', 'blue']]),
  },
  { name: 'an unknown file field (multipart)', status: 400, error: 'unknown_field', message: /only the csr field may be a file/, send: h.multipart(h.creds, () => [{ name: 'certificate', content: h.goodCsr().pem, filename: 'svc.csr' }]) },
  { name: 'an unknown field (JSON)', status: 400, error: 'unknown_field', message: /^unknown field "colour"/, send: h.json(() => JSON.stringify({ csr: h.goodCsr().pem, colour: 'blue' }), h.goodBasic) },
  { name: 'a bad encoding field', status: 400, error: 'bad_field', message: /encoding field must be pem/, send: h.form(() => [['user', DEV_USER], ['secret', h.ca.secret], ['encoding', 'base85'], ['csr', h.goodCsr().pem]]) },
  { name: 'a valid_hours field that is not a number', status: 400, error: 'bad_field', message: /^valid_hours must be a number of hours, at least 1 minute \(0\.0167\)$/, send: h.form(() => [...h.withCsr(h.goodCsr().pem), ['valid_hours', 'forever']]) },
  { name: 'an empty csr field', status: 400, error: 'missing_csr', message: /^the csr field is missing or empty$/, send: h.form(() => h.withCsr('')) },
  { name: 'no csr field', status: 400, error: 'missing_csr', message: /^the csr field is missing or empty$/, send: h.form(h.creds) },
  { name: 'an empty application/pkcs10 body', status: 400, error: 'missing_csr', message: /body is empty/, send: h.pkcs10(() => new Uint8Array(0), h.goodBasic) },
  { name: 'a JSON csr that is not a string', status: 400, error: 'bad_field', message: /^the csr field must be a single string$/, send: h.json(() => JSON.stringify({ csr: 42 }), h.goodBasic) },

  // ---- 400: the body cannot be parsed ----
  { name: 'malformed JSON', status: 400, error: 'bad_body', message: /^the request body cannot be parsed$/, send: h.json(() => '{"csr": "-----BEGIN', h.goodBasic) },
  { name: 'a JSON array body', status: 400, error: 'bad_body', message: /JSON body must be an object/, send: h.json(() => JSON.stringify([h.goodCsr().pem]), h.goodBasic) },
  { name: 'a JSON string body', status: 400, error: 'bad_body', message: /^the request body cannot be parsed$/, send: h.json(() => JSON.stringify(h.goodCsr().pem), h.goodBasic) },
  {
    name: 'a malformed multipart body',
    status: 400,
    error: 'bad_body',
    message: /^the multipart body is malformed$/,
    send: (a) => h.post(a, `--${BOUNDARY}\r\nContent-Disposition: form-data; name="csr"\r\n\r\nno closing boundary`, { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }),
  },
  { name: 'a multipart body without a boundary parameter', status: 400, error: 'bad_body', message: /^the multipart body is malformed \(no boundary\)$/, send: (a) => h.post(a, 'user=deployer', { 'Content-Type': 'multipart/form-data' }) },

  // ---- 404, 405, 415 ----
  { name: 'a sign request to an unknown RA', status: 404, error: 'unknown_ra', message: /^no registration authority named "nope"$/, send: (a) => h.post(a, new URLSearchParams(h.withCsr(h.goodCsr().pem)), {}, signUrl(h.ca, 'nope')) },
  { name: 'the chain of an unknown RA', status: 404, error: 'unknown_ra', message: /^no registration authority named "nope"$/, send: (a) => h.get(`${h.ca.url}/v1/ca/nope`)(a) },
  { name: 'GET on the sign route', status: 405, error: 'method_not_allowed', message: /use POST/, headers: { Allow: 'POST' }, send: (a) => h.get(signUrl(h.ca))(a) },
  { name: 'POST on the chain route', status: 405, error: 'method_not_allowed', message: /use GET, HEAD/, headers: { Allow: 'GET, HEAD' }, send: (a) => h.post(a, 'x', { 'Content-Type': 'text/plain' }, `${h.ca.url}/v1/ca/default`) },
  { name: 'a text/xml body', status: 415, error: 'unsupported_media_type', message: /Content-Type must be one of/, send: (a) => h.post(a, '<csr>MII</csr>', { 'Content-Type': 'text/xml' }) },

  // ---- 413: over 64 KiB, however it is sent ----
  { name: 'an urlencoded body over 64 KiB', status: 413, error: 'body_too_large', message: OVER_LIMIT, send: h.form(() => [...h.withCsr(h.goodCsr().pem), ['secret', PADDING]]) },
  { name: 'a multipart body over 64 KiB (a big csr file)', status: 413, error: 'body_too_large', message: OVER_LIMIT, send: h.multipart(h.creds, () => [{ name: 'csr', content: PADDING, filename: 'big.csr' }]) },
  { name: 'a JSON body over 64 KiB', status: 413, error: 'body_too_large', message: OVER_LIMIT, send: h.json(() => JSON.stringify({ csr: PADDING }), h.goodBasic) },
  { name: 'an application/pkcs10 body over 64 KiB', status: 413, error: 'body_too_large', message: OVER_LIMIT, send: h.pkcs10(() => Buffer.alloc(LIMIT + 1024, 0x30), h.goodBasic) },
  {
    name: 'a chunked urlencoded body over 64 KiB (no Content-Length)',
    status: 413,
    error: 'body_too_large',
    message: OVER_LIMIT,
    send: h.chunked({ 'Content-Type': 'application/x-www-form-urlencoded' }, () => Buffer.from(new URLSearchParams([...h.withCsr(h.goodCsr().pem), ['secret', PADDING]]).toString())),
  },
  {
    name: 'a chunked application/pkcs10 body over 64 KiB (no Content-Length)',
    status: 413,
    error: 'body_too_large',
    message: OVER_LIMIT,
    send: h.chunked({ 'Content-Type': 'application/pkcs10', Authorization: basicAuth(DEV_USER, 'x') }, () => Buffer.alloc(LIMIT + 1024, 0x30)),
  },
  {
    name: 'a chunked multipart body with a csr file over 64 KiB (no Content-Length)',
    status: 413,
    error: 'body_too_large',
    message: OVER_LIMIT,
    send: h.chunked({ 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, () => multipartBody(BOUNDARY, [{ name: 'user', value: DEV_USER }, { name: 'csr', value: PADDING, filename: 'big.csr' }])),
  },
  {
    name: 'a chunked multipart body over 64 KiB in parts each under 64 KiB (no Content-Length)',
    status: 413,
    error: 'body_too_large',
    message: OVER_LIMIT,
    send: h.chunked({ 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, () =>
      multipartBody(BOUNDARY, [{ name: 'user', value: 'u'.repeat(40 * 1024) }, { name: 'secret', value: 's'.repeat(40 * 1024) }, { name: 'csr', value: 'c'.repeat(40 * 1024) }]),
    ),
  },
];

describe('sign API: unusable requests', () => {
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describeErrorCases(h, CASES);
  itStillIssues(h);
});
