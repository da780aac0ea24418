// The harness of the sign_errors_* tests: request builders bound to one test CA, and a runner that
// asks each refusal twice (Accept: application/json, then text/plain) and checks the status, the
// error code, the reasons, that no stack trace or certificate leaks, and that the signer was never
// asked. Nothing is mocked: every request is real loopback HTTP.
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, type CsrOptions, type OpensslCsr } from '../helpers/openssl';
import { anchorFields, basicAuth, countSignatures, DEV_USER, expectCertificate, formData, rawPost, signUrl, type FilePart } from './support';

export interface Answer {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: string;
}

export interface ExpectedReason {
  readonly validator: string;
  readonly reason: RegExp;
}

export interface ErrorCase {
  readonly name: string;
  readonly status: number;
  readonly error: string;
  readonly message: RegExp;
  readonly reasons?: readonly ExpectedReason[];
  readonly headers?: Readonly<Record<string, string>>;
  /** Body text that must not be echoed back (e.g. key material sent by mistake). */
  readonly mustNotEcho?: () => string;
  send(accept: string): Promise<Answer>;
}

export type Send = (accept: string) => Promise<Answer>;
type Entries = readonly (readonly [string, string])[];

async function fromFetch(response: Response): Promise<Answer> {
  const body = await response.text();
  return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, body };
}

/** One test CA with a signature counter, and request builders that send to it. */
export class SignErrorHarness {
  private started?: { ca: TestCa; signatures: { readonly count: number } };
  private readonly csrs = new Map<string, OpensslCsr>();

  get ca(): TestCa {
    if (!this.started) throw new Error('the harness CA is not started; call start() in beforeAll');
    return this.started.ca;
  }

  get signatures(): number {
    return this.started!.signatures.count;
  }

  async start(): Promise<void> {
    const ca = await startTestCa();
    this.started = { ca, signatures: countSignatures(ca) };
  }

  stop(): Promise<void> {
    return this.started ? this.started.ca.stop() : Promise.resolve();
  }

  /** A CSR made once per distinct options, reused by the JSON and the plain-text run. */
  csr(options: CsrOptions = {}): OpensslCsr {
    const key = JSON.stringify(options);
    if (!this.csrs.has(key)) this.csrs.set(key, makeCsr(options));
    return this.csrs.get(key)!;
  }

  readonly goodCsr = (): OpensslCsr => this.csr();
  readonly goodBasic = (): string => basicAuth(DEV_USER, this.ca.secret);
  readonly creds = (): [string, string][] => [['user', DEV_USER], ['secret', this.ca.secret], ['encoding', 'pem']];
  readonly withCsr = (csr: string): [string, string][] => [...this.creds(), ['csr', csr]];

  readonly post = (accept: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}, url = signUrl(this.ca)): Promise<Answer> =>
    fetch(url, { method: 'POST', body, headers: { Accept: accept, ...headers } }).then(fromFetch);

  readonly get = (url: string): Send => (accept) => fetch(url, { headers: { Accept: accept } }).then(fromFetch);

  /** urlencoded, from entries so that a field can be given twice */
  readonly form = (entries: () => Entries): Send => (accept) => this.post(accept, new URLSearchParams(entries().map(([k, v]): [string, string] => [k, v])));

  readonly multipart = (entries: () => Entries, files: () => readonly FilePart[] = () => []): Send => (accept) => this.post(accept, formData(entries(), files()));

  readonly json = (body: () => string, authorization?: () => string): Send => (accept) =>
    this.post(accept, body(), { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization() } : {}) });

  readonly pkcs10 = (der: () => Uint8Array, authorization?: () => string): Send => (accept) =>
    this.post(accept, new Uint8Array(der()), { 'Content-Type': 'application/pkcs10', ...(authorization ? { Authorization: authorization() } : {}) });

  /** node:http, Transfer-Encoding: chunked and no Content-Length */
  readonly chunked = (headers: Record<string, string>, body: () => Buffer): Send => async (accept) => {
    const answer = await rawPost(signUrl(this.ca), { Accept: accept, ...headers }, body());
    return { status: answer.status, body: answer.body, header: (name) => [answer.headers[name.toLowerCase()]].flat()[0] };
  };

  /** Anchor's form with a valid CSR made with `options`, for policy to judge. */
  readonly refused = (options: CsrOptions): Send => this.form(() => this.withCsr(this.csr(options).pem));
}

function expectNothingLeaked(testCase: ErrorCase, answer: Answer): void {
  expect(answer.body).not.toMatch(/^\s+at /m);
  expect(answer.body).not.toContain('BEGIN CERTIFICATE-----');
  if (testCase.mustNotEcho) expect(answer.body).not.toContain(testCase.mustNotEcho());
  for (const [name, value] of Object.entries(testCase.headers ?? {})) expect(answer.header(name)).toBe(value);
}

const expectedReasons = (testCase: ErrorCase) => (testCase.reasons ?? []).map((r) => ({ validator: r.validator, reason: expect.stringMatching(r.reason) }));

/** Two tests a case: the JSON answer and the plain-text answer. */
export function describeErrorCases(harness: SignErrorHarness, cases: readonly ErrorCase[]): void {
  describe.each(cases)('$name → $status', (testCase) => {
    it('answers JSON {error, message, reasons} when JSON is accepted', async () => {
      const signedBefore = harness.signatures;
      const answer = await testCase.send('application/json');
      expect(harness.signatures - signedBefore).toBe(0); // the signer was never asked
      expect({ status: answer.status, body: answer.body }).toEqual({ status: testCase.status, body: expect.any(String) });
      expect(answer.header('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(answer.body) as { error: unknown; message: unknown; reasons: unknown[] };
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'reasons']);
      expect(body.error).toBe(testCase.error);
      expect(body.message).toMatch(testCase.message);
      const expected = expectedReasons(testCase);
      expect(body.reasons).toHaveLength(expected.length);
      expect(body.reasons).toEqual(expect.arrayContaining(expected));
      expectNothingLeaked(testCase, answer);
    });

    it('answers plain text otherwise', async () => {
      const signedBefore = harness.signatures;
      const answer = await testCase.send('text/plain');
      expect(harness.signatures - signedBefore).toBe(0);
      expect(answer.status).toBe(testCase.status);
      expect(answer.header('content-type')).toMatch(/^text\/plain/);
      const [message, ...lines] = answer.body.replace(/\n$/, '').split('\n');
      expect(message).toMatch(testCase.message);
      const reasons = lines.map((line) => /^- ([a-z_]+): (.+)$/.exec(line)).map((m) => m && { validator: m[1], reason: m[2] });
      const expected = expectedReasons(testCase);
      expect(reasons).toHaveLength(expected.length);
      expect(reasons).toEqual(expect.arrayContaining(expected));
      expectNothingLeaked(testCase, answer);
    });
  });
}

/** After every refusal, a good request is still issued: nothing crashed or wedged. */
export function itStillIssues(harness: SignErrorHarness): void {
  it('still issues after all the refused requests (no crash, no wedged state)', async () => {
    const signedBefore = harness.signatures;
    const response = await fetch(signUrl(harness.ca), { method: 'POST', body: new URLSearchParams(anchorFields(harness.ca.secret, makeCsr().pem)) });
    await expectCertificate(response);
    expect(harness.signatures - signedBefore).toBe(1);
  });
}
