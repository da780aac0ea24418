// `openssl verify` over many leaves in one process: one fork per batch instead of one per
// certificate keeps a sample of hundreds inside a few hundred milliseconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BatchVerifyOptions {
  /** Verify as at this time (`-attime`), for certificates valid only in the future. */
  readonly at?: Date;
  /** `-x509_strict`: OpenSSL's stricter RFC 5280 checks (AKI present, empty subject with critical SAN...). */
  readonly strict?: boolean;
}

export interface BatchVerifyResult {
  /** For each leaf, in order, whether openssl printed "<file>: OK" for it. */
  readonly ok: readonly boolean[];
  readonly output: string;
}

export function opensslVerifyBatch(leafPems: readonly string[], rootFile: string, chainFile: string, options: BatchVerifyOptions = {}): BatchVerifyResult {
  if (leafPems.length === 0) return { ok: [], output: '' };
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-diff-verify-'));
  try {
    const files = leafPems.map((pem, i) => {
      const file = join(dir, `leaf-${i}.pem`);
      writeFileSync(file, pem);
      return file;
    });
    const result = spawnSync(
      'openssl',
      [
        'verify',
        '-CAfile', rootFile,
        '-untrusted', chainFile,
        ...(options.strict ? ['-x509_strict'] : []),
        ...(options.at ? ['-attime', String(Math.floor(options.at.getTime() / 1000))] : []),
        ...files,
      ],
      { encoding: 'utf8' },
    );
    const output = `${result.stdout}${result.stderr}`;
    const passed = new Set(result.stdout.split('\n').filter((line) => line.endsWith(': OK')).map((line) => line.slice(0, -': OK'.length)));
    return { ok: files.map((file) => passed.has(file)), output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const pemOf = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
