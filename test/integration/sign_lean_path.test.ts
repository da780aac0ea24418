// POST /v1/sign takes a shorter way than Express for the requests nearly every client sends (a UTF-8
// form or JSON body; Accept absent, */*, JSON or text). This asks each request twice, once that way
// and once with an Accept header only Express's content negotiation reads (so Express serves it), and
// checks the two answers agree: status, error, message, reasons, the headers sent, a certificate.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, type OpensslCsr } from '../helpers/openssl';
import { DEV_USER, signUrl } from './support';

jest.setTimeout(120_000);

let ca: TestCa;
let csr: OpensslCsr;

beforeAll(async () => {
  ca = await startTestCa();
  csr = makeCsr();
});
afterAll(() => ca?.stop());

// Both ask for JSON; only the first is one the short way serves.
const SHORT_WAY = 'application/json';
const EXPRESS_WAY = 'application/json;q=1';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: string[];
}

async function ask(accept: string, contentType: string, body: string | Buffer): Promise<Answer> {
  const response = await fetch(signUrl(ca), { method: 'POST', body, headers: { Accept: accept, 'Content-Type': contentType } });
  const text = await response.text();
  // The values that differ from one answer to the next (time, id, length) are left out; the names are compared.
  const headers = [...response.headers.keys()].filter((name) => !['date', 'keep-alive', 'connection'].includes(name)).sort();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, headers };
}

/** The two answers agree; a certificate, when issued, is a real one for the CSR's key. */
async function expectSameAnswer(contentType: string, body: () => string | Buffer): Promise<Answer> {
  const short = await ask(SHORT_WAY, contentType, body());
  const viaExpress = await ask(EXPRESS_WAY, contentType, body());
  expect(short.status).toBe(viaExpress.status);
  expect(short.headers).toEqual(viaExpress.headers);
  if (short.status === 200) {
    const key = createPublicKey(csr.keyPem).export({ format: 'pem', type: 'spki' });
    for (const answer of [short, viaExpress]) expect(new X509Certificate(answer.body.certificate as string).publicKey.export({ format: 'pem', type: 'spki' })).toBe(key);
    expect(Object.keys(short.body).sort()).toEqual(Object.keys(viaExpress.body).sort());
  } else expect(short.body).toEqual(viaExpress.body);
  return short;
}

const form = (...parts: string[]) => parts.join('&');
const enc = encodeURIComponent;
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

describe('sign route: the short way and Express answer alike', () => {
  const creds = () => [`user=${DEV_USER}`, `secret=${enc(ca.secret)}`];
  const basic = () => `Basic ${Buffer.from(`${DEV_USER}:${ca.secret}`).toString('base64')}`;

  it('a plain form: issued', async () => {
    expect((await expectSameAnswer(FORM, () => form(...creds(), 'encoding=pem', `csr=${enc(csr.pem)}`))).status).toBe(200);
  });

  it('a form with empty parts, a trailing & and a charset: issued', async () => {
    expect((await expectSameAnswer(`${FORM}; charset=UTF-8`, () => form('', ...creds(), '', `csr=${enc(csr.pem)}`, ''))).status).toBe(200);
  });

  it('percent-encoded field names and + for spaces in the CSR: issued', async () => {
    const pem = enc(csr.pem).replace(/%20/g, '+');
    expect((await expectSameAnswer(FORM, () => form('us%65r=' + DEV_USER, `%73ecret=${enc(ca.secret)}`, `csr=${pem}`))).status).toBe(200);
  });

  it('a form body with a byte order mark: issued', async () => {
    expect((await expectSameAnswer(FORM, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(form(...creds(), `csr=${enc(csr.pem)}`))]))).status).toBe(200);
  });

  it('a secret with an escape that does not decode: authentication fails', async () => {
    expect((await expectSameAnswer(FORM, () => form(`user=${DEV_USER}`, 'secret=%E0%A4%A+x', `csr=${enc(csr.pem)}`))).status).toBe(401);
  });

  it('a field given twice: 400 bad_field', async () => {
    expect((await expectSameAnswer(FORM, () => form(...creds(), `user=${DEV_USER}`, `csr=${enc(csr.pem)}`))).body.error).toBe('bad_field');
  });

  it('a name cut at "]=" (an unescaped value): 400 unknown_field, naming it alike', async () => {
    expect((await expectSameAnswer(FORM, () => form(`user=${DEV_USER}`, 'secret=ab]=cd', `csr=${enc(csr.pem)}`))).body.error).toBe('unknown_field');
  });

  it('a field without "=": 400 missing_csr', async () => {
    expect((await expectSameAnswer(FORM, () => form(...creds(), 'csr'))).body.error).toBe('missing_csr');
  });

  it('11 fields: 400 bad_body', async () => {
    expect((await expectSameAnswer(FORM, () => form(...creds(), ...Array.from({ length: 9 }, () => 'encoding=pem')))).body.error).toBe('bad_body');
  });

  it('an empty form body: 400 missing_csr', async () => {
    expect((await expectSameAnswer(FORM, () => '')).body.error).toBe('missing_csr');
  });

  describe('JSON (HTTP Basic)', () => {
    const askJson = (body: () => string | Buffer) => {
      const send = async (accept: string) => {
        const response = await fetch(signUrl(ca), { method: 'POST', body: body(), headers: { Accept: accept, 'Content-Type': JSON_TYPE, Authorization: basic() } });
        return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: [...response.headers.keys()].filter((name) => !['date', 'keep-alive', 'connection'].includes(name)).sort() };
      };
      return Promise.all([send(SHORT_WAY), send(EXPRESS_WAY)]);
    };

    it.each([
      ['an object with leading white space: issued', (): string | Buffer => ` \n\t{"csr": ${JSON.stringify(csr.pem)}}`, 200, undefined],
      ['an object after a byte order mark: issued', (): string | Buffer => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ csr: csr.pem }))]), 200, undefined],
      ['null: 400 bad_body', (): string | Buffer => 'null', 400, 'bad_body'],
      ['an empty body: 400 missing_csr', (): string | Buffer => '', 400, 'missing_csr'],
      ['malformed: 400 bad_body', (): string | Buffer => '{"csr": ', 400, 'bad_body'],
      ['an array: 400 bad_body', (): string | Buffer => '[1]', 400, 'bad_body'],
      ['valid_hours as a number: issued', (): string | Buffer => JSON.stringify({ csr: csr.pem, valid_hours: 2 }), 200, undefined],
    ] as const)('%s', async (_name, body, status, error) => {
      const [short, viaExpress] = await askJson(body);
      expect(short.status).toBe(status);
      expect(viaExpress.status).toBe(status);
      expect(short.headers).toEqual(viaExpress.headers);
      if (error) {
        expect(short.body).toEqual(viaExpress.body);
        expect(short.body.error).toBe(error);
      } else {
        expect(short.body.not_after).toEqual(expect.any(String));
        expect(Object.keys(short.body).sort()).toEqual(Object.keys(viaExpress.body).sort());
      }
    });
  });
});
