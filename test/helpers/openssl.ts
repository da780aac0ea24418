// Real OpenSSL, to make requests independently of Mayfly's code and to check what it issues.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RequesterKeyType = 'p256' | 'p384' | 'rsa1024' | 'rsa2048' | 'rsa3072' | 'ed25519';

const NEWKEY: Record<RequesterKeyType, string[]> = {
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  rsa1024: ['-newkey', 'rsa:1024'],
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa3072: ['-newkey', 'rsa:3072'],
  ed25519: ['-newkey', 'ed25519'],
};

export interface CsrOptions {
  readonly keyType?: RequesterKeyType;
  /** e.g. "/CN=svc.mayfly.test"; "/" for an empty subject */
  readonly subject?: string;
  /** -addext values, e.g. "subjectAltName=DNS:a.mayfly.test" */
  readonly extensions?: readonly string[];
}

export interface OpensslCsr {
  readonly pem: string;
  readonly der: Buffer;
  readonly keyPem: string;
}

export function openssl(args: readonly string[], input?: string | Buffer): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A fresh key and CSR made by the openssl CLI. */
export function makeCsr(options: CsrOptions = {}): OpensslCsr {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-csr-'));
  try {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'csr.pem');
    openssl([
      'req', '-new', ...NEWKEY[options.keyType ?? 'p256'], '-nodes', '-keyout', key, '-out', csr,
      '-subj', options.subject ?? '/CN=svc.mayfly.test',
      ...(options.extensions ?? ['subjectAltName=DNS:svc.mayfly.test']).flatMap((e) => ['-addext', e]),
    ]);
    const pem = readFileSync(csr, 'utf8');
    // The PEM's base64 is the DER (RFC 7468): no second openssl process for it.
    return { pem, der: Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'), keyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `openssl verify` of a PEM leaf against a root file and an untrusted chain file; `options` adds
 * verification options, e.g. ['-purpose', 'sslserver', '-verify_hostname', 'svc.mayfly.test'].
 */
export function opensslVerify(leafPem: string, rootFile: string, chainFile: string, options: readonly string[] = []): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-verify-'));
  try {
    const leaf = join(dir, 'leaf.pem');
    writeFileSync(leaf, leafPem);
    const output = openssl(['verify', '-CAfile', rootFile, '-untrusted', chainFile, ...options, leaf]).toString();
    return { ok: output.trim().endsWith(': OK'), output };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: Buffer }).stderr ?? error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -text -noout` of a PEM certificate. */
export const opensslText = (pem: string): string => openssl(['x509', '-noout', '-text'], pem).toString();
