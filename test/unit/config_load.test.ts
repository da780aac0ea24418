import { ConfigError, parseConfig, type ConfigProblem } from '../../src/config/load';
import { settingsNeedingRestart } from '../../src/config/reloader';
import { ValidatorRegistry } from '../../src/policy/registry';

const FILE = '/etc/mayfly/mayfly.yaml';

// The valid config every case edits; the line numbers in the cases below count from 1 here.
const BASE = [
  /*  1 */ 'server:',
  /*  2 */ '  listen: 127.0.0.1:5016',
  /*  3 */ 'authentication:',
  /*  4 */ '  deployers:',
  /*  5 */ '    backend: static',
  /*  6 */ '    user: deployer',
  /*  7 */ '    secret_hash: "scrypt$32768$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="',
  /*  8 */ 'signing_ca:',
  /*  9 */ '  local:',
  /* 10 */ '    backend: local',
  /* 11 */ '    cert: ca/intermediate.pem',
  /* 12 */ '    key: ca/intermediate.key',
  /* 13 */ 'registration_authority:',
  /* 14 */ '  default:',
  /* 15 */ '    authentication: deployers',
  /* 16 */ '    signing_ca: local',
  /* 17 */ '    valid_hours: 24',
  /* 18 */ '    validators:',
  /* 19 */ '      - common_name:',
  /* 20 */ '          allowed_domains: [".mayfly.test"]',
  /* 21 */ '      - public_key:',
  /* 22 */ '          allowed_keys:',
  /* 23 */ '            RSA: 2048',
];

/** BASE with line `n` replaced by the given lines (one line becomes several to insert). */
function edited(changes: Readonly<Record<number, string | readonly string[]>>, appended: readonly string[] = []): string {
  const lines = BASE.flatMap((line, index) => {
    const change = changes[index + 1];
    return change === undefined ? [line] : typeof change === 'string' ? [change] : [...change];
  });
  return [...lines, ...appended, ''].join('\n');
}

/** The problems parseConfig reports; fails if it accepts the text or throws anything else. */
function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(FILE, text, new ValidatorRegistry());
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('the config was accepted');
}

const at = (line: number, column: number, key: string, message: string): ConfigProblem => ({ file: FILE, line, column, key, message });

describe('parseConfig: a valid config', () => {
  it('reads the RA with its defaults, references and parsed validator options', () => {
    const config = parseConfig(FILE, edited({}), new ValidatorRegistry());
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 5016 });
    const ra = config.registrationAuthorities.get('default');
    expect(ra).toMatchObject({
      name: 'default',
      authentication: 'deployers',
      signingCa: 'local',
      validityMs: 24 * 3_600_000,
      backdateMs: 5 * 60_000,
      extKeyUsage: ['serverAuth', 'clientAuth'],
    });
    expect(ra?.keyUsage).toBeUndefined();
    expect(ra?.validators.map((v) => [v.validator.name, v.options])).toEqual([
      ['common_name', { allowed_domains: ['.mayfly.test'], allowed_networks: [], allow_wildcard: false }],
      ['public_key', { allowed_keys: { RSA: 2048 } }],
    ]);
  });

  it('reads validity as a duration and an IPv6 listen address', () => {
    const config = parseConfig(FILE, edited({ 2: '  listen: "[::1]:8443"', 17: '    validity: 1h30m' }), new ValidatorRegistry());
    expect(config.listen).toEqual({ host: '::1', port: 8443 });
    expect(config.registrationAuthorities.get('default')?.validityMs).toBe(90 * 60_000);
  });
});

describe('parseConfig: every problem names file, line, column and key', () => {
  it('formats the ConfigError message as file:line:column: key: message', () => {
    expect(() => parseConfig(FILE, edited({}, ['extra: 1']), new ValidatorRegistry())).toThrow(`${FILE}:24:1: extra: unknown key`);
  });

  it('an unknown top-level key', () => {
    expect(problemsOf(edited({}, ['extra: 1']))).toEqual([at(24, 1, 'extra', 'unknown key (the keys here: plugins, audit, server, authentication, signing_ca, registration_authority)')]);
  });

  it('an unknown key in an RA', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    colour: red'] }))).toEqual([at(18, 5, 'registration_authority.default.colour', 'unknown key (the keys here: acme, authentication, signing_ca, valid_hours, validity, backdate_minutes, key_usage, ext_key_usage, validators, fixups, subject_attributes, allow_underscores)')]);
  });

  it('an unknown key in an authentication entry', () => {
    expect(problemsOf(edited({ 6: ['    user: deployer', '    group: [ops]'] }))).toEqual([at(7, 5, 'authentication.deployers.group', 'unknown key (did you mean groups?)')]);
  });

  it('a wrong type, at the value', () => {
    expect(problemsOf(edited({ 17: '    valid_hours: "24"' }))).toEqual([at(17, 18, 'registration_authority.default.valid_hours', 'expected a number, e.g. 24; found the text "24"')]);
  });

  it('a wrong type in a list', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    key_usage: [digitalSignature, signEverything]'] }))).toMatchObject([
      { line: 18, column: 35, key: 'registration_authority.default.key_usage[1]' },
    ]);
  });

  it('a plaintext secret beside a secret_hash, mentioning mayfly hash-secret', () => {
    const problems = problemsOf(edited({ 7: [BASE[6], '    secret: hunter2'] }));
    expect(problems).toEqual([at(8, 13, 'authentication.deployers.secret', expect.stringMatching(/^plaintext secrets are not accepted/))]);
    expect(problems[0].message).toContain('`mayfly hash-secret`');
  });

  it('a plaintext secret instead of a secret_hash', () => {
    expect(problemsOf(edited({ 7: '    secret: hunter2' }))).toEqual([
      at(7, 13, 'authentication.deployers.secret', expect.stringContaining('mayfly hash-secret')),
      at(5, 5, 'authentication.deployers', 'give exactly one of secret_hash and secret_env'),
    ]);
  });

  it('a plaintext secret never appears in the error', () => {
    expect(problemsOf(edited({ 7: '    secret: hunter2' })).map((p) => p.message).join('\n')).not.toContain('hunter2');
  });

  it('an RA referring to an authentication entry that does not exist', () => {
    expect(problemsOf(edited({ 15: '    authentication: nobody' }))).toEqual([
      at(15, 21, 'registration_authority.default.authentication', 'no authentication entry named "nobody" (defined: deployers)'),
    ]);
  });

  it('an RA referring to a signing_ca that does not exist', () => {
    expect(problemsOf(edited({ 16: '    signing_ca: hsm' }))).toEqual([at(16, 17, 'registration_authority.default.signing_ca', 'no signing_ca named "hsm" (defined: local)')]);
  });

  it('both missing references at once, in order', () => {
    expect(problemsOf(edited({ 15: '    authentication: nobody', 16: '    signing_ca: hsm' })).map((p) => [p.line, p.key])).toEqual([
      [15, 'registration_authority.default.authentication'],
      [16, 'registration_authority.default.signing_ca'],
    ]);
  });

  it('an unknown validator, at its name, listing the known ones', () => {
    const problems = problemsOf(edited({ 19: '      - common_nam:' }));
    expect(problems).toEqual([at(19, 9, 'registration_authority.default.validators[0].common_nam', expect.stringMatching(/^unknown validator "common_nam" \(did you mean common_name\? known: .*\bcommon_name\b.*\)$/))]);
  });

  it('an unknown validator option, with the validator in the path', () => {
    expect(problemsOf(edited({ 20: '          allowed_domain: [".mayfly.test"]' }))).toEqual([
      at(20, 11, 'registration_authority.default.validators[0].common_name.allowed_domain', 'unknown key (did you mean allowed_domains?)'),
    ]);
  });

  it('a validator option of the wrong value, with the validator in the path', () => {
    expect(problemsOf(edited({ 23: '            RSA: 1024' }))).toEqual([
      at(23, 18, 'registration_authority.default.validators[1].public_key.allowed_keys.RSA', 'RSA below 2048 bits is not safe to allow'),
    ]);
  });

  it('a validator option of the wrong type', () => {
    expect(problemsOf(edited({ 20: '          allow_wildcard: "yes"' }))).toEqual([
      at(20, 27, 'registration_authority.default.validators[0].common_name.allow_wildcard', 'expected true or false; found the text "yes"'),
    ]);
  });

  it('both valid_hours and validity, at the RA', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    validity: 90m'] }))).toEqual([at(15, 5, 'registration_authority.default', 'give exactly one of valid_hours and validity')]);
  });

  it('neither valid_hours nor validity, at the RA', () => {
    expect(problemsOf(edited({ 17: [] }))).toEqual([at(15, 5, 'registration_authority.default', 'give exactly one of valid_hours and validity')]);
  });

  it('a listen port above 65535', () => {
    expect(problemsOf(edited({ 2: '  listen: 127.0.0.1:99999' }))).toMatchObject([{ line: 2, column: 11, key: 'server.listen' }]);
  });

  it('a duration it cannot read', () => {
    expect(problemsOf(edited({ 17: '    validity: 1 day' }))).toEqual([at(17, 15, 'registration_authority.default.validity', 'expected a duration such as 90m, 24h or 1h30m')]);
  });

  describe('YAML errors', () => {
    it('a syntax error, at its line', () => {
      expect(problemsOf(edited({ 17: '    valid_hours: 24: 12' }))).toEqual([at(17, 18, '', expect.stringMatching(/^YAML: Nested mappings are not allowed in compact mappings/))]);
    });

    it('an unclosed quote, at its line', () => {
      expect(problemsOf(edited({ 11: '    cert: "ca/intermediate.pem' }))).toMatchObject([{ file: FILE, line: 11, key: '', message: expect.stringMatching(/^YAML: Missing closing "quote/) }]);
    });

    it('a duplicate key, at the second one', () => {
      expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    valid_hours: 12'] }))).toEqual([at(18, 5, '', 'YAML: Map keys must be unique')]);
    });
  });
});

describe('parseConfig: subject_attributes and allow_underscores', () => {
  it('reads an RA that names O, with a subject_attributes validator listing its values', () => {
    const config = parseConfig(FILE, edited({ 17: ['    valid_hours: 24', '    subject_attributes: [O]', '    allow_underscores: true'], 18: ['    validators:', '      - subject_attributes: { O: [web, db] }'] }), new ValidatorRegistry());
    expect(config.document.registration_authority.default).toMatchObject({ subject_attributes: ['O'], allow_underscores: true });
  });

  it('defaults to no attribute beside the CN and no underscores', () => {
    expect(parseConfig(FILE, edited({}), new ValidatorRegistry()).document.registration_authority.default).toMatchObject({ subject_attributes: [], allow_underscores: false });
  });

  it('refuses a named attribute no subject_attributes validator decides, and a listed one the RA does not issue', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    subject_attributes: [O, OU]'], 18: ['    validators:', '      - subject_attributes: { O: [web], C: [DE] }'] }))).toEqual([
      at(18, 29, 'registration_authority.default.subject_attributes[1]', 'OU is issued only with its allowed values: add a subject_attributes validator, e.g. - subject_attributes: { OU: [...] }'),
      at(20, 44, 'registration_authority.default.validators[0].subject_attributes.C', "C is not issued: name it in the RA's subject_attributes, or leave it out here"),
    ]);
  });

  it('refuses emailAddress and other types Mayfly does not issue', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    subject_attributes: [emailAddress]'] }))[0]).toMatchObject({ line: 18, key: 'registration_authority.default.subject_attributes[0]' });
  });
});

describe('config problems say what to do', () => {
  it('an enum value names the choices and the nearest one', () => {
    expect(problemsOf(edited({ 2: ['  listen: 127.0.0.1:5016', '  log_level: inf'] }))).toEqual([at(3, 14, 'server.log_level', 'expected one of debug, info, warn, error; found the text "inf" (did you mean info?)')]);
  });

  it('a misspelt backend names the backends and the nearest one', () => {
    expect(problemsOf(edited({ 5: '    backend: statc' }))).toEqual([at(5, 14, 'authentication.deployers.backend', 'expected one of static, token, mtls, ldap; found the text "statc" (did you mean static?)')]);
  });

  it('a missing required key says what it takes', () => {
    expect(problemsOf(edited({ 6: [] }))).toEqual([expect.objectContaining({ key: 'authentication.deployers.user', message: 'this key is required: give a text value, e.g. example.com (quotes are optional)' })]);
  });

  it('a list where a number belongs says what a number looks like', () => {
    expect(problemsOf(edited({ 17: '    valid_hours: [24]' }))).toEqual([at(17, 18, 'registration_authority.default.valid_hours', 'expected a number, e.g. 24; found a list')]);
  });

  it('a number out of range keeps the schema\'s own words when it has them, and says the bound otherwise', () => {
    expect(problemsOf(edited({ 17: ['    valid_hours: 24', '    backdate_minutes: -1'] }))).toEqual([at(18, 23, 'registration_authority.default.backdate_minutes', 'must be at least 0; found number -1')]);
  });

  it('suggests nothing for a key nowhere near a known one, listing the keys instead', () => {
    expect(problemsOf(edited({ 2: ['  listen: 127.0.0.1:5016', '  zzz: 1'] }))[0].message).toMatch(/^unknown key \(the keys here: listen, tls, /);
  });
});

describe('which changed settings a reload cannot apply', () => {
  const config = (text: string) => parseConfig(FILE, text, new ValidatorRegistry());
  const started = config(edited({}));

  it('none for policy, authentication and signing CAs, which a reload applies', () => {
    expect(settingsNeedingRestart(started, config(edited({ 17: '    valid_hours: 12', 20: '          allowed_domains: [".example.org"]', 6: '    user: someone' })))).toEqual([]);
  });

  it('each changed server and audit setting, by its dotted name', () => {
    const changed = config(edited({ 2: ['  listen: 127.0.0.1:6000', '  metrics_listen: 127.0.0.1:9090', '  limits:', '    body_bytes: 4096'] }, ['audit:', '  checkpoint_every: 5']));
    expect(settingsNeedingRestart(started, changed)).toEqual(['audit.checkpoint_every', 'server.limits.body_bytes', 'server.listen', 'server.metrics_listen']);
  });

  it('ACME turned on for an RA when no RA served it at start (its store opens at start)', () => {
    expect(settingsNeedingRestart(started, config(edited({ 17: ['    valid_hours: 24', '    acme: {}'] })))).toEqual(['registration_authority.default.acme']);
  });
});
