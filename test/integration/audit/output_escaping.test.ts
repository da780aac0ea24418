// What requesters send ends up in the ledger as sent; `mayfly audit list` and the CSV export must not
// hand it to a terminal or a spreadsheet as commands.
import { runCli } from '../../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

// A terminal title change, a screen clear, a bidi override; then the formula prefixes OWASP lists.
const TERMINAL_USER = 'mallory\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil';
const FORMULA_USERS = ['=HYPERLINK("http://evil.test","x")', '+1+cmd|x', '-2+3', '@SUM(1)', '\t=1+1', '\r=1+1'];

describe('audit output of hostile requester names', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ audit: true });
    // Failed logins are recorded with the user name the requester claimed.
    for (const user of [TERMINAL_USER, ...FORMULA_USERS]) {
      const response = await postForm(`${ca.url}/v1/sign/default`, { user, secret: 'wrong', csr: makeCsr().pem });
      expect(response.status).toBe(401);
    }
  });
  afterAll(() => ca.stop());

  it('audit list escapes control characters and bidi overrides in its table', () => {
    const list = runCli(['audit', 'list', '--config', ca.configFile]);
    expect(list.status).toBe(0);
    expect(list.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(list.stdout).toContain('mallory\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil');
    // The tab and CR of a name are escaped too: each record stays one line of six columns.
    const rows = list.stdout.trimEnd().split('\n').slice(1, -1);
    expect(rows).toHaveLength(7);
    for (const row of rows) expect(row.split('\t')).toHaveLength(6);
    expect(list.stdout).toContain('\\x09=1+1');
    expect(list.stdout).toContain('\\x0d=1+1');
  });

  it('the CSV export neutralises formula prefixes (OWASP CSV injection)', () => {
    const csv = runCli(['audit', 'export', '--config', ca.configFile, '--format', 'csv']);
    expect(csv.status).toBe(0);
    // Each such user field starts with ' inside quotes: a spreadsheet shows it as text.
    expect(csv.stdout).toContain(`,"'=HYPERLINK(""http://evil.test"",""x"")",`);
    for (const expected of [`,"'+1+cmd|x",`, `,"'-2+3",`, `,"'@SUM(1)",`, `,"'\t=1+1",`, `,"'\r=1+1",`]) expect(csv.stdout).toContain(expected);
  });
});
