import { decodeCsr } from '../../src/csr/decode';
import { CsrParseError } from '../../src/csr/errors';
import { makeCsr, type OpensslCsr } from '../helpers/openssl';
import { toHex } from './support/asn1';

/** The CsrParseError message decodeCsr throws for `input`; fails on any other outcome. */
function refusal(input: Uint8Array | string): string {
  try {
    decodeCsr(input);
  } catch (error) {
    if (error instanceof CsrParseError) return error.message;
    throw new Error(`expected a CsrParseError, got ${String(error)}`);
  }
  throw new Error('expected a CsrParseError, decodeCsr returned');
}

const base64Body = (pem: string): string => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');

describe('decodeCsr', () => {
  let csr: OpensslCsr;
  let der: string;
  beforeAll(() => {
    csr = makeCsr();
    der = csr.der.toString('hex');
  });

  describe('accepts', () => {
    it('PEM labelled CERTIFICATE REQUEST (RFC 7468)', () => {
      expect(csr.pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
      expect(toHex(decodeCsr(csr.pem))).toBe(der);
    });

    it('PEM labelled NEW CERTIFICATE REQUEST, as older OpenSSL and Anchor clients write', () => {
      const pem = csr.pem.replace(/CERTIFICATE REQUEST-----/g, 'NEW CERTIFICATE REQUEST-----');
      expect(pem).toMatch(/^-----BEGIN NEW CERTIFICATE REQUEST-----\n/);
      expect(toHex(decodeCsr(pem))).toBe(der);
    });

    it('PEM with CRLF line ends and surrounding whitespace', () => {
      expect(toHex(decodeCsr(`\r\n  ${csr.pem.replace(/\n/g, '\r\n')}\r\n`))).toBe(der);
    });

    it('PEM sent as bytes', () => {
      expect(toHex(decodeCsr(Buffer.from(csr.pem, 'latin1')))).toBe(der);
    });

    it('raw DER bytes, returned unchanged', () => {
      const decoded = decodeCsr(csr.der);
      expect(toHex(decoded)).toBe(der);
    });

    it('base64 DER on one line', () => {
      expect(toHex(decodeCsr(base64Body(csr.pem)))).toBe(der);
    });

    it('base64 DER wrapped at 64 columns', () => {
      const wrapped = base64Body(csr.pem).replace(/(.{64})/g, '$1\n');
      expect(wrapped.split('\n').length).toBeGreaterThan(2);
      expect(toHex(decodeCsr(wrapped))).toBe(der);
    });

    it('base64 DER sent as bytes', () => {
      expect(toHex(decodeCsr(Buffer.from(base64Body(csr.pem), 'latin1')))).toBe(der);
    });
  });

  describe('refuses, with a CsrParseError', () => {
    it('a PEM block with another label, naming the label', () => {
      expect(refusal(csr.pem.replace(/CERTIFICATE REQUEST-----/g, 'CERTIFICATE-----'))).toBe('expected a PEM block labelled CERTIFICATE REQUEST, found "CERTIFICATE"');
    });

    it('a private key, naming its label', () => {
      expect(csr.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(refusal(csr.keyPem)).toBe('expected a PEM block labelled CERTIFICATE REQUEST, found "PRIVATE KEY"');
    });

    it('two PEM blocks', () => {
      expect(refusal(csr.pem + csr.pem)).toBe('expected one PEM block, found 2');
    });

    it('a CSR followed by its key', () => {
      expect(refusal(csr.pem + csr.keyPem)).toBe('expected one PEM block, found 2');
    });

    it('BEGIN and END lines with different labels', () => {
      expect(refusal(csr.pem.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE'))).toBe('the CSR PEM armour is malformed');
    });

    it('a BEGIN line without an END line', () => {
      expect(refusal(csr.pem.replace(/-----END[^\n]*\n/, ''))).toBe('the CSR PEM armour is malformed');
    });

    it.each([
      ['an empty string', ''],
      ['only whitespace', ' \r\n\t '],
    ])('%s', (_, input) => {
      expect(refusal(input)).toBe('the CSR is empty');
    });

    it('empty bytes', () => {
      expect(refusal(new Uint8Array(0))).toBe('the CSR is empty');
    });

    it('whitespace bytes', () => {
      expect(refusal(Buffer.from('  \n'))).toBe('the CSR is empty');
    });

    it.each([
      ['plain text', 'this is not a certificate request'],
      ['base64 of something that is not DER', Buffer.from('hello world, not DER').toString('base64')],
      ['base64 with a character outside the alphabet', 'MIIBxTCCAWsCAQAwGjEYMBYGA1UEAwwPc3Zj!'],
    ])('%s', (_, input) => {
      expect(refusal(input)).toBe('the CSR is neither PEM, DER nor base64 DER');
    });

    it('binary garbage that does not start with a SEQUENCE', () => {
      expect(refusal(Buffer.from([0x04, 0x02, 0xff, 0x00]))).toBe('the CSR is neither PEM, DER nor base64 DER');
    });
  });
});
