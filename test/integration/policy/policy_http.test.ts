import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { makeCsr, opensslVerify } from '../../helpers/openssl';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';

const RA_POLICY = `    validators:
      - common_name: { allowed_domains: [".mayfly.test"], allowed_networks: ["127.0.0.0/8"] }
      - alternative_names_ip: { allowed_domains: [".mayfly.test"], allowed_networks: ["127.0.0.0/8", "fd00::/8"] }
      - blacklist_names: { domains: ["forbidden.mayfly.test"] }
      - key_usage: { allowed_usage: ["Digital Signature", "Key Encipherment"] }
      - ext_key_usage: { allowed_usage: [serverAuth] }
      - public_key: { allowed_keys: { RSA: 2048, EC: [P-256] } }
      - standards_compliance: {}
      - max_names: { max: 3 }
    fixups:
      - enforce_alternative_names: {}
`;

/** Replaces the default RA's validators and fixups with RA_POLICY. */
const withPolicy = (yaml: string) => yaml.replace(/    validators:[\s\S]*?    fixups: \[\]\n/, RA_POLICY);

describe('a policy of several validators, over HTTP', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPolicy });
  });
  afterAll(() => ca.stop());

  const sign = (csr: string, extra: Record<string, string> = {}) =>
    postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr, ...extra }, { Accept: 'application/json' });

  it('returns the reasons of every refusing validator in one 403', async () => {
    const csr = makeCsr({
      keyType: 'p384',
      subject: '/CN=forbidden.mayfly.test',
      extensions: ['subjectAltName=DNS:evil.example.com,IP:10.1.2.3', 'keyUsage=critical,digitalSignature,dataEncipherment', 'extendedKeyUsage=clientAuth'],
    });
    const response = await sign(csr.pem);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; reasons: { validator: string; reason: string }[] };
    expect(body.error).toBe('policy_refused');
    expect(body.reasons).toEqual([
      { validator: 'alternative_names_ip', reason: "DNS name 'evil.example.com' is outside the allowed domains [.mayfly.test]" },
      { validator: 'alternative_names_ip', reason: 'IP address 10.1.2.3 is outside the allowed networks [127.0.0.0/8, fd00::/8]' },
      { validator: 'blacklist_names', reason: "common name 'forbidden.mayfly.test' is under the blacklisted domain forbidden.mayfly.test" },
      { validator: 'key_usage', reason: 'key usage dataEncipherment is not allowed' },
      { validator: 'ext_key_usage', reason: 'extended key usage clientAuth is not allowed' },
      { validator: 'public_key', reason: 'EC curve P-384 is not allowed (allowed: P-256)' },
    ]);
  });

  it('issues the CN in the SAN, lower-cased, after validating both', async () => {
    const csr = makeCsr({ subject: '/CN=Web.Mayfly.Test', extensions: ['subjectAltName=DNS:api.mayfly.test,IP:fd00::1'] });
    const response = await sign(csr.pem);
    expect(response.status).toBe(200);
    const { certificate } = (await response.json()) as { certificate: string };
    expect(new X509Certificate(certificate).subjectAltName).toBe('DNS:web.mayfly.test, DNS:api.mayfly.test, IP Address:FD00:0:0:0:0:0:0:1');
    expect(new X509Certificate(certificate).subject).toBe('CN=web.mayfly.test');
    expect(opensslVerify(certificate, ca.rootFile, ca.chainFile).ok).toBe(true);
  });

  it('counts the CN, issued as a SAN, against max_names', async () => {
    // common_name allows 127.0.0.0/8 and so does alternative_names_ip; max_names counts the copy too.
    const csr = makeCsr({ subject: '/CN=127.0.0.9', extensions: ['subjectAltName=DNS:a.mayfly.test,DNS:b.mayfly.test,DNS:c.mayfly.test'] });
    const response = await sign(csr.pem);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { reasons: { validator: string; reason: string }[] };
    expect(body.reasons).toEqual([{ validator: 'max_names', reason: 'the request has 4 names; at most 3 are allowed' }]);
  });

  it('issues a shorter lifetime when asked, and never a longer one', async () => {
    const short = await sign(makeCsr().pem, { valid_hours: '2' });
    expect(short.status).toBe(200);
    const shortBody = (await short.json()) as { not_before: string; not_after: string };
    // notBefore is backdated 5 minutes, but not to before the issuing CA (`mayfly init` started it a minute ago).
    const caNotBefore = Date.parse(new X509Certificate(readFileSync(ca.chainFile)).validFrom);
    const backdated = (body: { not_before: string; not_after: string }, hours: number) => Math.max(Date.parse(body.not_after) - hours * 3_600_000 - 5 * 60_000, caNotBefore);
    expect(Date.parse(shortBody.not_before)).toBe(backdated(shortBody, 2));

    const long = await sign(makeCsr().pem, { valid_hours: '1000' });
    const longBody = (await long.json()) as { not_before: string; not_after: string };
    expect(Date.parse(longBody.not_before)).toBe(backdated(longBody, 24));

    const bad = await sign(makeCsr().pem, { valid_hours: '-1' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('valid_hours must be a number of hours, at least 1 minute (0.0167)');
  });
});
