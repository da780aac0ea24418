// GET /v1/audit?since=&until=: RFC 3339 dates and times only, within the years records can sort in.
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

/** The deployer is in group `auditors`, which may read the ledger over HTTP. */
const withAuditors = (yaml: string) => yaml.replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n');

describe('GET /v1/audit time filters', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ audit: true, editConfig: withAuditors });
    expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, csr: makeCsr().pem })).status).toBe(200);
  });
  afterAll(() => ca.stop());

  const query = async (parameters: string): Promise<{ status: number; records?: number; error?: string; message?: string }> => {
    const response = await fetch(`${ca.url}/v1/audit?${parameters}`, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}`, Accept: 'application/json' } });
    const body = (await response.json()) as { records?: unknown[]; error?: string; message?: string };
    return { status: response.status, ...(body.records ? { records: body.records.length } : { error: body.error, message: body.message }) };
  };

  it.each([
    ['since=99999-01-01', 'a five-digit year (Date.parse took it: every record came back)'],
    ['since=%2B099999-01-01T00:00:00Z', 'an expanded year'],
    ['since=9999-12-31T23:00:00-02:00', 'a time that is past 9999 in UTC'],
    ['until=0000-01-01T00:00:00%2B01:00', 'a time that is before 0000 in UTC'],
    ['since=Jan%201%202020', 'a free-form date'],
    ['since=2020-01-01T00:00:00', 'a time without its offset'],
    ['since=2020-02-30', 'a day that does not exist'],
    ['since=1577836800', 'a number'],
  ])('refuses %s (%s) with 400', async (parameters) => {
    expect(await query(parameters)).toEqual({ status: 400, error: 'bad_query', message: expect.stringMatching(/^(since|until): ".*" is not an RFC 3339 date \(2026-01-31\) or time with offset/) });
  });

  it('takes RFC 3339 dates and times with offsets; a since beyond the newest record gives none', async () => {
    expect(await query('since=2000-01-01')).toEqual({ status: 200, records: 1 });
    expect(await query('since=2000-01-01T00:00:00.5%2B05:30&until=9999-12-31T23:59:59Z')).toEqual({ status: 200, records: 1 });
    expect(await query('since=9999-12-31')).toEqual({ status: 200, records: 0 });
    expect(await query('until=2000-01-01T00:00:00Z')).toEqual({ status: 200, records: 0 });
  });
});
