import { X509Certificate } from 'node:crypto';
import { certificatePem, decodeBase64, decodePemBlocks, pemCertificateBlocks, PemFormatError } from '../../src/pem';
import { openssl, makeCsr } from '../helpers/openssl';

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** CPU milliseconds `run` takes: what a catastrophic regular expression burns, whatever else loads the machine. */
function timed(run: () => unknown): number {
  const started = process.cpuUsage();
  run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

describe('decodePemBlocks (RFC 7468)', () => {
  const csr = makeCsr();

  it('reads a block: its label and DER', () => {
    expect(decodePemBlocks(csr.pem)).toEqual([{ label: 'CERTIFICATE REQUEST', der: expect.any(Uint8Array) }]);
    expect(hex(decodePemBlocks(csr.pem)[0].der)).toBe(csr.der.toString('hex'));
  });

  it('is lax as section 3 allows: explanatory text, CRLF, whitespace in and around the base64 lines', () => {
    const lax = `Subject: svc\r\n${csr.pem.replace(/\n/g, ' \r\n').replace(/^([A-Za-z0-9+/]{8})/m, '$1 \t')}trailing text\n`;
    expect(hex(decodePemBlocks(lax)[0].der)).toBe(csr.der.toString('hex'));
  });

  it('reads every block, in order', () => {
    expect(decodePemBlocks(`${csr.pem}between\n${csr.keyPem}`).map((block) => block.label)).toEqual(['CERTIFICATE REQUEST', 'PRIVATE KEY']);
  });

  it('finds nothing in text without a BEGIN line', () => {
    expect(decodePemBlocks('no armour here\n-----END CERTIFICATE REQUEST-----\n')).toEqual([]);
  });

  it.each([
    ['an END line with another label', csr.pem.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE'), /label/],
    ['a BEGIN line without an END line', csr.pem.replace(/-----END[^\n]*\n/, ''), /no END line/],
    ['headers inside the block (not permitted, section 2)', csr.pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n'), /other than base64/],
    ['a character outside base64', csr.pem.replace(/\n([A-Za-z0-9])/, '\n!$1'), /other than base64/],
    ['padding in the middle', csr.pem.replace(/\n([A-Za-z0-9]{4})/, '\n==$1'), /other than base64/],
    ['a BEGIN line inside a block', csr.pem.replace('-----\n', '-----\n-----BEGIN CERTIFICATE REQUEST-----\n'), /other than base64/],
  ])('refuses %s', (_, text, reason) => {
    expect(() => decodePemBlocks(text)).toThrow(PemFormatError);
    expect(() => decodePemBlocks(text)).toThrow(reason);
  });

  // Both shapes froze the event loop for seconds with the regular expressions this replaces.
  it.each([
    ['"-----BEGIN -----" repeated on one line', '-----BEGIN -----'.repeat(65_536)],
    ['"-----BEGIN -----" repeated on lines of their own', '-----BEGIN -----\n'.repeat(61_680)],
    ['a BEGIN line, then a megabyte of spaces and a stray character', `-----BEGIN CERTIFICATE REQUEST-----\nA${' '.repeat(1 << 20)}!\n-----END CERTIFICATE REQUEST-----`],
  ])('refuses %s (1 MiB) in linear time', (_, text) => {
    expect(timed(() => expect(() => decodePemBlocks(text)).toThrow(PemFormatError))).toBeLessThan(500);
  });
});

describe('decodeBase64', () => {
  it('decodes with whitespace anywhere', () => {
    expect(Buffer.from(decodeBase64(' aGVs\n bG8=\r\n')!).toString()).toBe('hello');
  });

  it.each(['aGVsbG8=!', 'aG=VsbG8', 'aGVsbG8==='])('refuses %j', (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it('refuses "A", a megabyte of spaces and "!" in linear time', () => {
    expect(timed(() => expect(decodeBase64(`A${' '.repeat(1 << 20)}!`)).toBeUndefined())).toBeLessThan(500);
  });
});

describe('pemCertificateBlocks', () => {
  const block = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

  it('finds each certificate block, ignoring what is between', () => {
    expect(pemCertificateBlocks(`intro\n${block}\n-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n${block}\n`)).toEqual([block, block]);
  });

  it('ignores a BEGIN without END', () => {
    expect(pemCertificateBlocks(`${block}\n-----BEGIN CERTIFICATE-----\nMIIB\n`)).toEqual([block]);
  });

  it('reads a quarter megabyte of BEGINs without END in linear time', () => {
    const text = '-----BEGIN CERTIFICATE-----\n'.repeat(9_362);
    expect(timed(() => expect(pemCertificateBlocks(text)).toEqual([]))).toBeLessThan(500);
  });
});

describe('certificatePem', () => {
  it('writes what OpenSSL writes: the label, 64-character lines and a final newline, for certificates of many lengths', () => {
    // Common names of different lengths make DER of different lengths: last lines of different lengths.
    for (const length of [1, 12, 23, 34, 45, 56, 64]) {
      const pem = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', `/CN=${'a'.repeat(length)}`, '-days', '1']).toString();
      const certificate = new X509Certificate(pem);
      expect(certificatePem(new Uint8Array(certificate.raw))).toBe(pem);
      expect(decodePemBlocks(certificatePem(certificate.raw))[0].der).toEqual(new Uint8Array(certificate.raw));
    }
  });
});
