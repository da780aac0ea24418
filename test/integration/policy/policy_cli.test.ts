import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { runCliAsync } from '../../helpers/cli_process';
import { makeCsr } from '../../helpers/openssl';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');

// Each exit code is seen from a real `mayfly` process (a loaded 2-core machine can take seconds a
// spawn); the other cases run the same command in this process (cli_in_process.ts).
jest.setTimeout(120_000);

describe('mayfly policy and config commands', () => {
  let dir: string;
  let config: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-policy-cli-'));
    expect(runCli(['init', '--dir', dir]).status).toBe(0);
    config = join(dir, 'mayfly.yaml');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const csrFile = (name: string, options: Parameters<typeof makeCsr>[0]) => {
    const file = join(dir, name);
    writeFileSync(file, makeCsr(options).pem);
    return file;
  };

  it('policy check passes a valid config and names file:line:key for a broken one', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(config, 'utf8').replace('valid_hours: 24', 'valid_hours: "a day"').replace('- alternative_names:', '- alternative_name:'), { mode: 0o600 });
    // Independent commands: at once.
    const [ok, result] = await Promise.all([runCliAsync(['policy', 'check', '--config', config]), runCliAsync(['policy', 'check', '--config', broken])]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${config}: OK (registration authorities: default)`);
    expect(result.code).toBe(1);
    const lines = readFileSync(broken, 'utf8').split('\n');
    const line = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    expect(result.stderr).toContain(`${broken}:${line('valid_hours:')}:`);
    expect(result.stderr).toContain('registration_authority.default.valid_hours: expected a number, e.g. 24; found the text "a day"');
  });

  it('policy check reports an unknown validator at its line', async () => {
    const broken = join(dir, 'unknown-validator.yaml');
    writeFileSync(broken, readFileSync(config, 'utf8').replace('- alternative_names:', '- alternative_name:'), { mode: 0o600 });
    const result = await runCliInProcess(['policy', 'check', '--config', broken]);
    expect(result.code).toBe(1);
    const line = readFileSync(broken, 'utf8').split('\n').findIndex((l) => l.includes('- alternative_name:')) + 1;
    expect(result.stderr).toMatch(new RegExp(`${broken}:${line}:\\d+: registration_authority\\.default\\.validators\\[1\\]\\.alternative_name: unknown validator "alternative_name" \\(did you mean alternative_names\\? known: `));
  });

  it('policy test passes an allowed CSR with exit 0 and shows the certificate it would issue', () => {
    const result = runCli(['policy', 'test', '--config', config, '--ra', 'default', '--csr', csrFile('ok.csr', {})]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('  pass    csr_signature');
    expect(result.stdout).toContain('  pass    common_name');
    expect(result.stdout).toContain('Result: pass. The certificate would be:');
    expect(result.stdout).toContain('  subject:     CN=svc.mayfly.test');
    expect(result.stdout).toContain('  DNS:         svc.mayfly.test');
  });

  it('policy test shows the subject and names as they would be issued, not as the CSR sent them', async () => {
    const csr = csrFile('attributes.csr', { subject: '/CN=Svc.Mayfly.Test./O=system:masters/emailAddress=ceo@example.com', extensions: [] });
    const result = await runCliInProcess(['policy', 'test', '--config', config, '--ra', 'default', '--csr', csr]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  subject:     CN=svc.mayfly.test\n');
    expect(result.stdout).toContain('  DNS:         svc.mayfly.test\n');
  });

  it('policy test refuses with exit 2 and every reason, also as JSON', async () => {
    const csr = csrFile('bad.csr', { keyType: 'rsa1024', subject: '/CN=evil.example.com', extensions: ['subjectAltName=DNS:evil.example.com'] });
    const [text, json] = await Promise.all([
      runCliAsync(['policy', 'test', '--config', config, '--ra', 'default', '--csr', csr]),
      runCliInProcess(['policy', 'test', '--config', config, '--ra', 'default', '--csr', csr, '--json']),
    ]);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain("  REFUSE  common_name: common name 'evil.example.com' is outside the allowed domains [.mayfly.test]");
    expect(text.stdout).toContain('  REFUSE  public_key: RSA key of 1024 bits is below the minimum of 2048');
    expect(text.stdout).toContain('Result: refused by common_name, alternative_names, public_key.');

    expect(json.code).toBe(2);
    const parsed = JSON.parse(json.stdout) as { result: string; verdicts: { validator: string; passed: boolean; reasons: string[] }[]; certificate?: unknown };
    expect(parsed.result).toBe('refused');
    expect(parsed.certificate).toBeUndefined();
    expect(parsed.verdicts.map((v) => [v.validator, v.passed])).toEqual([
      ['csr_signature', true],
      ['key_form', true],
      ['ca_status', true],
      ['critical_extensions', true],
      ['subject_identity', true],
      ['name_syntax', true],
      ['renewal_scope', true],
      ['common_name', false],
      ['alternative_names', false],
      ['public_key', false],
    ]);
  });

  it('policy test fails clearly for an unknown RA or an unreadable CSR', async () => {
    const garbage = join(dir, 'garbage.csr');
    writeFileSync(garbage, 'not a csr');
    const [unknownRa, bad] = await Promise.all([
      runCliAsync(['policy', 'test', '--config', config, '--ra', 'nope', '--csr', csrFile('x.csr', {})]),
      runCliInProcess(['policy', 'test', '--config', config, '--ra', 'default', '--csr', garbage]),
    ]);
    expect(unknownRa.code).toBe(1);
    expect(unknownRa.stderr).toContain('no registration authority named nope (defined: default)');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('the CSR is neither PEM, DER nor base64 DER');
  });

  it('import-anchor converts the documented Anchor config, hashes secrets and reports what it cannot convert', async () => {
    const result = runCli(['config', 'import-anchor', join(FIXTURES, 'anchor', 'config.json')]);
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('simplepassword');
    expect(result.stdout).toMatch(/secret_hash: scrypt\$32768\$8\$1\$/);
    expect(result.stderr.trim().split('\n')).toEqual([
      "not converted: audit: not converted; Mayfly's audit ledger records every decision",
      'not converted: authentication.method_3: backend "ldap" has no Mayfly equivalent yet; configure it by hand',
      'not converted: signing_ca.local.output_path: not converted; Mayfly records issued certificates in its audit ledger, not in a folder',
      "not converted: registration_authority.default.validators.public_key.allowed_keys.RSA: 1024 bits raised to Mayfly's minimum of 2048",
      'not converted: registration_authority.default.validators.public_key.allowed_keys.DSA: not converted; Mayfly allows RSA, EC and Ed25519 keys only',
    ]);

    // The converted config is a working Mayfly config: put it beside a CA and check it, then test a CSR.
    const converted = join(dir, 'anchor.yaml');
    writeFileSync(converted, result.stdout, { mode: 0o600 });
    const check = await runCliInProcess(['policy', 'check', '--config', converted]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const nova = csrFile('nova.csr', { keyType: 'rsa2048', subject: '/CN=nv-compute1.example.com', extensions: ['keyUsage=critical,digitalSignature,keyEncipherment'] });
    const [refused, allowed] = await Promise.all([
      runCliInProcess(['policy', 'test', '--config', converted, '--ra', 'default', '--csr', nova, '--user', 'alice', '--groups', 'Glance_Team']),
      runCliInProcess(['policy', 'test', '--config', converted, '--ra', 'default', '--csr', nova, '--user', 'alice', '--groups', 'Nova_Team']),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("REFUSE  server_group: common name 'nv-compute1.example.com' has prefix 'nv', which needs group 'Nova_Team'; alice is not in it");
    expect(allowed.stdout).toContain('  DNS:         nv-compute1.example.com'); // enforce_alternative_names copied the CN
    expect(allowed.code).toBe(0);
  });
});
