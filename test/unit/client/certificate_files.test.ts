import { X509Certificate } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/atomic_file';
import { readCurrentCertificate, writeCertificateFiles } from '../../../src/client/certificate_files';
import type { IssuedCredentials } from '../../../src/client/request_certificate';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

describe('atomic file writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes with exactly the mode asked for, whatever the umask, and leaves no temporary file', async () => {
    const previous = process.umask(0o077);
    try {
      await writeFileAtomic(join(dir, 'svc.pem'), 'certificate', 0o644);
    } finally {
      process.umask(previous);
    }
    await writeFileAtomic(join(dir, 'svc.key'), 'key', 0o600);
    expect(statSync(join(dir, 'svc.pem')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'svc.key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['svc.key', 'svc.pem']);
  });

  it('replaces by rename: a reader that has the old file open keeps reading the old content, whole', async () => {
    const file = join(dir, 'svc.pem');
    writeFileSync(file, 'old certificate');
    const reader = openSync(file, 'r');
    try {
      await writeFileAtomic(file, 'new certificate, longer than the old one', 0o644);
      const buffer = Buffer.alloc(100);
      const length = readSync(reader, buffer, 0, 100, 0);
      expect(buffer.subarray(0, length).toString()).toBe('old certificate');
    } finally {
      closeSync(reader);
    }
    expect(readFileSync(file, 'utf8')).toBe('new certificate, longer than the old one');
  });

  it('fails without leaving anything behind when the rename cannot happen', async () => {
    const target = join(dir, 'a-folder');
    writeFileSync(join(dir, 'keep'), '');
    mkdirSync(join(target, 'not-empty'), { recursive: true });
    await expect(writeFileAtomic(target, 'content', 0o644)).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['a-folder', 'keep']);
    await expect(writeFileAtomic(join(dir, 'missing', 'svc.pem'), 'content', 0o644)).rejects.toThrow(/ENOENT/);
  });
});

describe('certificate files', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.remove());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const issued = (): IssuedCredentials => {
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    const certificate = new X509Certificate(leaf.cert);
    return { privateKeyPem: leaf.key, certificatePem: certificate.toString(), chainPem: pki.intermediate.cert, certificate, notAfter: new Date(certificate.validTo), receivedAt: new Date() };
  };
  const paths = () => ({ cert: join(dir, 'svc.pem'), key: join(dir, 'svc.key'), chain: join(dir, 'chain.pem'), fullchain: join(dir, 'full.pem') });

  it('writes key (0600), certificate, chain and full chain, and reads them back as present', async () => {
    const credentials = issued();
    await writeCertificateFiles(paths(), credentials);
    expect(statSync(paths().key).mode & 0o777).toBe(0o600);
    expect(readFileSync(paths().fullchain, 'utf8')).toBe(credentials.certificatePem + pki.intermediate.cert);
    expect(readFileSync(paths().chain, 'utf8')).toBe(pki.intermediate.cert);
    const state = await readCurrentCertificate(paths());
    expect(state.status).toBe('present');
    if (state.status !== 'present') return;
    expect(state.current.certificate.serialNumber).toBe(credentials.certificate.serialNumber);
    expect(state.current.chainPem).toBe(pki.intermediate.cert);
  });

  it('takes the file\'s time as when the certificate was received, but never before notBefore nor after now', async () => {
    const credentials = issued();
    await writeCertificateFiles(paths(), credentials);
    const notBefore = Date.parse(credentials.certificate.validFrom);
    const written = notBefore + 3_600_000;
    utimesSync(paths().cert, written / 1000, written / 1000);
    const at = async (now: number) => {
      const state = await readCurrentCertificate(paths(), now);
      return state.status === 'present' ? state.current.receivedAt.getTime() : undefined;
    };
    expect(await at(written + 60_000)).toBe(written);
    expect(await at(written - 60_000)).toBe(written - 60_000);
    utimesSync(paths().cert, (notBefore - 86_400_000) / 1000, (notBefore - 86_400_000) / 1000);
    expect(await at(written)).toBe(notBefore);
  });

  it('reports a missing pair, and an unusable one: a key that is not the certificate\'s, a file that is not a certificate', async () => {
    expect(await readCurrentCertificate(paths())).toEqual({ status: 'missing' });
    await writeCertificateFiles(paths(), issued());
    writeFileSync(paths().key, issued().privateKeyPem!);
    expect(await readCurrentCertificate(paths())).toEqual({ status: 'unusable', reason: `${paths().key} is not the key of ${paths().cert}` });
    writeFileSync(paths().cert, 'garbage');
    expect(await readCurrentCertificate(paths())).toEqual({ status: 'unusable', reason: `${paths().cert} is not a PEM certificate` });
    rmSync(paths().key);
    expect(existsSync(paths().key)).toBe(false);
    expect((await readCurrentCertificate(paths())).status).toBe('unusable');
  });
});
