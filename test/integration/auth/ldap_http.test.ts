import { ConfigError } from '../../../src/config/load';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';
import { sshaPassword, startSlapd, SUFFIX, type Slapd } from '../../helpers/slapd';

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const DIRECTORY = [
  `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  ...['alice', 'bob'].map((uid) => `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: test\nuserPassword: ${sshaPassword(`${uid}-pw`)}\n`),
  `dn: cn=nova,${GROUPS}\nobjectClass: groupOfNames\ncn: nova\nmember: uid=alice,${PEOPLE}\n`,
  `dn: cn=auditors,${GROUPS}\nobjectClass: groupOfNames\ncn: auditors\nmember: uid=bob,${PEOPLE}\n`,
].join('\n');

/** An `ldap` authentication entry and an RA using it, whose server_group needs group nova for nv-*. */
const withLdap = (url: string) => (yaml: string) => {
  const policy = yaml.slice(yaml.indexOf('    backdate_minutes:')).replace('    validators:\n', '    validators:\n      - server_group: { group_prefixes: { nv: nova } }\n');
  return (
    yaml.replace(
      'authentication:\n',
      `authentication:\n  directory:\n    backend: ldap\n    url: ${url}\n    bind_dn_template: "uid={user},${PEOPLE}"\n    group_search_base: "${GROUPS}"\n    audit_admin_groups: [auditors]\n`,
    ) + `  corp:\n    authentication: directory\n    signing_ca: local\n    valid_hours: 24\n${policy}`
  );
};

describe('the ldap backend, configured in YAML, over HTTP', () => {
  let slapd: Slapd;
  let ca: TestCa;
  beforeAll(async () => {
    slapd = await startSlapd({ ldif: DIRECTORY });
    ca = await startTestCa({ audit: true, editConfig: withLdap(slapd.url) });
  });
  afterAll(async () => {
    await ca.stop();
    await slapd.stop();
    slapd.cleanup();
  });

  const sign = (user: string, secret: string, cn: string) =>
    postForm(`${ca.url}/v1/sign/corp`, { user, secret, csr: makeCsr({ subject: `/CN=${cn}`, extensions: [`subjectAltName=DNS:${cn}`] }).pem }, { Accept: 'application/json' });

  it('issues to a directory user whose groups satisfy server_group, and refuses one whose do not', async () => {
    expect((await sign('alice', 'alice-pw', 'nv-compute1.mayfly.test')).status).toBe(200);
    const refused = await sign('bob', 'bob-pw', 'nv-compute1.mayfly.test');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { reasons: unknown[] }).reasons).toContainEqual({
      validator: 'server_group',
      reason: "common name 'nv-compute1.mayfly.test' has prefix 'nv', which needs group 'nova'; bob is not in it",
    });
  });

  it('refuses a wrong or empty password with 401', async () => {
    expect((await sign('alice', 'wrong', 'svc.mayfly.test')).status).toBe(401);
    expect((await sign('alice', '', 'svc.mayfly.test')).status).toBe(401);
  });

  it('lets a directory group hold the audit admin role', async () => {
    const basic = (user: string, secret: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
    expect((await fetch(`${ca.url}/v1/audit?limit=1`, { headers: basic('bob', 'bob-pw') })).status).toBe(200);
    expect((await fetch(`${ca.url}/v1/audit?limit=1`, { headers: basic('alice', 'alice-pw') })).status).toBe(403);
  });

  it('refuses at load an ldap:// URL to another host without StartTLS', async () => {
    const error = await startTestCa({ editConfig: withLdap('ldap://ldap.example.com') }).then(
      async (other) => {
        await other.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('authentication.directory: ldap:// to another host would send passwords in clear: use ldaps:// or start_tls: true');
  });
});
