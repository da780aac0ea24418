// The ledger deleted or its disk full while the CA serves: no certificate leaves unrecorded, and
// /readyz says the ledger is failing.
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

// One CSR for every request: a CA signs the same request again, and the loops stay quick.
const CSR = makeCsr().pem;
const sign = (ca: TestCa) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: CSR }, { Accept: 'application/json' });
async function readyz(ca: TestCa): Promise<{ status: number; failing: string[] }> {
  const response = await fetch(`${ca.url}/readyz`);
  return { status: response.status, failing: ((await response.json()) as { failing: string[] }).failing };
}
/** /readyz reuses an answer for a second: wait that out, so the next answer is a new probe. */
const pastReuse = () => new Promise((resolve) => setTimeout(resolve, 1100));

/** The serials of the certificates a ledger file records as issued. */
async function recordedSerials(database: string): Promise<Set<string>> {
  const store = new SqliteAuditStore(database, { readonly: true });
  try {
    return new Set((await store.query({ outcome: 'issued' })).map((record) => (JSON.parse(record.body) as { certificate: { serial: string } }).certificate.serial));
  } finally {
    await store.close();
  }
}

describe.each([
  ['audit.db and its WAL', ['', '-wal']],
  ['only its WAL, which holds the latest commits', ['-wal']],
])('the audit ledger deleted while serving: %s', (_what, suffixes) => {
  let ca: TestCa;
  beforeAll(async () => (ca = await startTestCa({ audit: true })));
  afterAll(() => ca.stop());

  it('refuses every later request with 503 (nothing handed out unrecorded), and /readyz names the ledger', async () => {
    expect((await sign(ca)).status).toBe(200);
    for (const suffix of suffixes) rmSync(`${ca.auditDatabase}${suffix}`);
    const answers: [number, string][] = [];
    for (let i = 0; i < 40; i++) {
      const response = await sign(ca);
      answers.push([response.status, ((await response.json()) as { error?: string }).error ?? 'issued']);
    }
    expect(answers).toEqual(Array(40).fill([503, 'audit_unavailable']));
    await pastReuse();
    expect(await readyz(ca)).toEqual({ status: 503, failing: ['ledger'] });
  });
});

// A real full filesystem: a 2 MB tmpfs, which needs root (CAP_SYS_ADMIN) to mount.
const mountPoint = mkdtempSync(join(tmpdir(), 'mayfly-full-'));
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return true;
  } catch {
    rmdirSync(mountPoint);
    return false;
  }
})();

(mounted ? describe : describe.skip)('the audit ledger on a full disk (a 2 MB tmpfs)', () => {
  const database = join(mountPoint, 'audit.db');
  const filler = join(mountPoint, 'filler');
  let ca: TestCa;
  beforeAll(async () => (ca = await startTestCa({ audit: true, editConfig: (yaml) => `${yaml}\naudit:\n  database: ${database}\n` })));
  afterAll(async () => {
    await ca?.stop();
    execFileSync('umount', ['--lazy', mountPoint]);
    rmdirSync(mountPoint);
  });

  /** Writes until the filesystem refuses another byte. */
  function fill(): void {
    const fd = openSync(filler, 'w');
    try {
      for (const chunk of [65536, 4096, 512, 1]) {
        const bytes = Buffer.alloc(chunk, 0x5a);
        for (;;) {
          try {
            writeSync(fd, bytes);
          } catch {
            break; // ENOSPC
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  it('answers 503 with nothing issued unrecorded, and once a journal append failed /readyz says the ledger is failing until restart, space freed or not', async () => {
    const received: string[] = [];
    const issue = async (): Promise<number> => {
      const response = await sign(ca);
      if (response.status === 200) received.push(new X509Certificate(((await response.json()) as { certificate: string }).certificate).serialNumber.toLowerCase());
      else await response.text();
      return response.status;
    };
    expect(await issue()).toBe(200);
    fill();
    // Commits may still fit in space SQLite already holds; they fail once the WAL must grow.
    let refusedInARow = 0;
    for (let i = 0; i < 300 && refusedInARow < 5; i++) refusedInARow = (await issue()) === 503 ? refusedInARow + 1 : 0;
    expect(refusedInARow).toBe(5);
    await pastReuse();
    expect(await readyz(ca)).toEqual({ status: 503, failing: ['ledger'] });

    // The failed append's entries were cut back off, but a reader may have indexed them already: the
    // chain never journals other records under their sequence numbers (before, it did once a test
    // write passed, and the reader's copy then hid the acknowledged record). Restarting starts a new chain.
    rmSync(filler);
    await pastReuse();
    expect(await readyz(ca)).toEqual({ status: 503, failing: ['ledger'] });
    expect(await issue()).toBe(503);
    const recorded = await recordedSerials(database);
    expect(received.filter((serial) => !recorded.has(serial))).toEqual([]);
  });
});
