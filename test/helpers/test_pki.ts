// A small PKI made with the openssl CLI, independent of Mayfly's code: a root, an issuing CA under
// it, and leaves signed from CSRs. For client tests that need certificates Mayfly did not make
// (a rogue CA, a server impersonating Mayfly).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from './openssl';

export interface PkiCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  readonly root: PkiCertificate;
  readonly intermediate: PkiCertificate;
  /** root + intermediate, PEM, issuing certificate first (what Mayfly's /v1/ca returns). */
  readonly chainPem: string;
  /** Signs a CSR (PEM) with the issuing CA, keeping its subjectAltName unless `dropNames`. */
  signCsr(csrPem: string, options?: { days?: number; ca?: boolean; dropNames?: boolean }): string;
  /** A fresh key and leaf for `names` (e.g. ["IP:127.0.0.1"]). */
  issueLeaf(subject: string, names: readonly string[], options?: { days?: number; ca?: boolean }): PkiCertificate;
  remove(): void;
}

let counter = 0;

export function createTestPki(name = 'Test'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-pki-'));
  const file = (base: string) => join(dir, base);
  const read = (certFile: string, keyFile: string): PkiCertificate => ({ certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...newKey, '-keyout', file('root.key'), '-out', file('root.pem'), '-subj', `/CN=${name} Root`, '-days', '3',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['req', '-new', ...newKey, '-keyout', file('intermediate.key'), '-out', file('intermediate.csr'), '-subj', `/CN=${name} Issuing CA`]);
  openssl(['x509', '-req', '-in', file('intermediate.csr'), '-CA', file('root.pem'), '-CAkey', file('root.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ca.ext'), '-out', file('intermediate.pem')]);
  const root = read(file('root.pem'), file('root.key'));
  const intermediate = read(file('intermediate.pem'), file('intermediate.key'));
  const signCsr = (csrPem: string, options: { days?: number; ca?: boolean; dropNames?: boolean } = {}) => {
    const id = ++counter;
    writeFileSync(file(`leaf-${id}.csr`), csrPem);
    writeFileSync(file(`leaf-${id}.ext`), options.ca ? 'basicConstraints=critical,CA:TRUE\n' : 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl(['x509', '-req', '-in', file(`leaf-${id}.csr`), '-CA', intermediate.certFile, '-CAkey', intermediate.keyFile, '-CAcreateserial', '-days', String(options.days ?? 1),
      '-copy_extensions', options.dropNames ? 'none' : 'copy', '-extfile', file(`leaf-${id}.ext`), '-out', file(`leaf-${id}.pem`)]);
    return readFileSync(file(`leaf-${id}.pem`), 'utf8');
  };
  return {
    dir,
    root,
    intermediate,
    chainPem: intermediate.cert + root.cert,
    signCsr,
    issueLeaf(subject, names, options = {}) {
      const id = ++counter;
      const keyFile = file(`issued-${id}.key`);
      const csrFile = file(`issued-${id}.csr`);
      openssl(['req', '-new', ...newKey, '-keyout', keyFile, '-out', csrFile, '-subj', subject, ...(names.length > 0 ? ['-addext', `subjectAltName=${names.join(',')}`] : [])]);
      const certFile = file(`issued-${id}.pem`);
      writeFileSync(certFile, signCsr(readFileSync(csrFile, 'utf8'), options));
      return read(certFile, keyFile);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
