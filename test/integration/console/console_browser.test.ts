// CI drives the console in Debian's headless Chromium (issue 18): sign in, search by name and by the
// refusing validator, open a record and see its proof verified in the page, a dry run, the overview's
// chart; screenshots of each page go to test-output/console/.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeCsr } from '../../helpers/openssl';
import { CHROMIUM } from '../../interop/chromium';
import { sealedProof, startConsoleCa, VIEWER_SECRET, type ConsoleCa } from './support';

const SCREENSHOTS = join(__dirname, '../../../test-output/console');

interface Seen {
  cspViolations: string[];
  pageErrors: string[];
  unauthenticatedLandedOn: string;
  firstTabStop: string;
  afterLogin: string;
  byName: string[];
  byValidator: string[];
  bySerial: string[];
  proof: { state: string; text: string };
  recordHeadings: string[];
  chartDrawn: boolean;
  overviewHeadings: string[];
  dryRun: { result: string; text: string };
  nonAdmin: { status: number; text: string };
}

function drive(input: object): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [join(__dirname, 'console_driver.mjs')], { maxBuffer: 16 * 1024 * 1024, timeout: 180_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`console_driver failed: ${stderr.trim() || error.message}`));
      resolve(JSON.parse(stdout) as Seen);
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

describe('the audit console in headless Chromium', () => {
  let fixture: ConsoleCa;
  let seen: Seen;
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // The proof the record page checks is the ledger's own (checkpoint_every: 1 seals each record);
    // wait until the issued record is under a checkpoint, which its writer signs after the commit.
    fixture = await startConsoleCa();
    expect((await sealedProof(fixture.ca, fixture.issuedSerial)).status).toBe(200);
    seen = await drive({
      executable: CHROMIUM,
      url: fixture.ca.url,
      admin: { user: 'deployer', secret: fixture.ca.secret },
      viewer: { user: 'viewer', secret: VIEWER_SECRET },
      serial: fixture.issuedSerial.toUpperCase().match(/../g)!.join(':'),
      csr: makeCsr({ subject: '/CN=evil.example.com', extensions: [] }).pem,
      screenshots: SCREENSHOTS,
    });
  }, 240_000);
  afterAll(() => fixture?.ca.stop());

  it('sends a browser without a session to sign in, then back where it was going', () => {
    expect(seen.unauthenticatedLandedOn).toBe('/ui/login');
    expect(seen.afterLogin).toBe('/ui/search');
  });

  it('is keyboard accessible from the first Tab (the skip link)', () => {
    expect(seen.firstTabStop).toBe('Skip to content');
  });

  it('finds records by a name glob, by the validator that refused, and by a serial in another form', () => {
    expect(seen.byName).toHaveLength(1);
    expect(seen.byName[0]).toContain('api.payments.mayfly.test');
    expect(seen.byValidator).toHaveLength(1);
    expect(seen.byValidator[0]).toContain('weak.mayfly.test');
    expect(seen.bySerial).toHaveLength(1);
  });

  it('verifies the record\'s inclusion proof in the page, signature included', () => {
    expect(seen.proof.state).toBe('verified');
    expect(seen.proof.text).toMatch(/^Included: record \d+ of the \d+ under checkpoint mayfly-audit\/[0-9a-f]{8}\/\S+, signed by mayfly-audit\/[0-9a-f]{8}\/\S+\.$/);
    expect(seen.recordHeadings).toEqual(['Decision', 'Validators', 'Certificate', 'Inclusion in the ledger']);
  });

  it('draws the overview chart with uPlot under the CSP', () => {
    expect(seen.chartDrawn).toBe(true);
    expect(seen.overviewHeadings).toEqual(['Issued and refused per hour', 'Refusals by validator', 'Top requesters', 'Certificates expiring in the next 24 hours', 'Ledger']);
  });

  it('runs a dry run and shows each validator\'s verdict', () => {
    expect(seen.dryRun.result).toBe('refused');
    expect(seen.dryRun.text).toMatch(/common_name\s+refused/);
  });

  it('gives a requester outside the audit admin groups a 403 page', () => {
    expect(seen.nonAdmin.status).toBe(403);
    expect(seen.nonAdmin.text).toContain('audit admin group');
  });

  it('breaks no CSP rule and throws no script error on any page', () => {
    expect(seen.cspViolations).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
  });
});
