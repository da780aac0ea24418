import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig, parseAgentConfig } from '../../../src/client/agent_config';
import { resolveCredentials } from '../../../src/client/credentials';
import { ConfigError } from '../../../src/config/load';

const FINGERPRINT = 'e4bf76abdcdbd840dbb1e116b0c0348b22427628c7aebe2ccada01de2692e9c7';
const FILE = '/etc/mayfly/agent.yaml';
const ENV = { MAYFLY_SECRET: 's3cret' };

const minimal = `server: https://ca.mayfly.test:5016
root_fingerprint: SHA256:${FINGERPRINT}
credentials:
  user: deployer
  secret_env: MAYFLY_SECRET
certificates:
  - name: web
    ra: default
    common_name: web.mayfly.test
    cert: certs/web.pem
    key: certs/web.key
`;

/** The problems of a config that must not load, as "line:column: key: message". */
function problems(yaml: string, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseAgentConfig(FILE, yaml, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column}: ${p.key}: ${p.message}`);
  }
  throw new Error('the config loaded');
}

describe('agent config', () => {
  it('fills in the defaults and resolves paths against the config file\'s folder', () => {
    const config = parseAgentConfig(FILE, minimal, ENV);
    expect(config.server.href).toBe('https://ca.mayfly.test:5016/');
    expect(config.trust).toEqual({ kind: 'fingerprint', fingerprint: FINGERPRINT });
    expect(config.renewal).toEqual({ fraction: 2 / 3, jitter: 0.1, minWaitMs: 30_000, retryInitialMs: 5_000, retryMaxMs: 300_000, checkIntervalMs: 10_000 });
    const [web] = config.certificates;
    expect(web).toEqual({
      name: 'web',
      order: { ra: 'default', names: { commonName: 'web.mayfly.test', dnsNames: ['web.mayfly.test'], ipAddresses: [] }, keyType: 'p256' },
      renewRa: 'default',
      renewWith: 'auto',
      paths: { cert: '/etc/mayfly/certs/web.pem', key: '/etc/mayfly/certs/web.key' },
      keyMode: 0o600,
      credentials: { kind: 'static', user: 'deployer', secretEnv: 'MAYFLY_SECRET' },
      hooks: [],
    });
  });

  it('reads hooks: an argv, a shell string, a signal to a pid file', () => {
    const config = parseAgentConfig(
      FILE,
      `${minimal}    hooks:
      - command: [nginx, -s, reload]
        timeout: 5s
      - command: "systemctl reload nginx || true"
      - signal: SIGHUP
        pid_file: /run/nginx.pid
`,
      ENV,
    );
    expect(config.certificates[0].hooks).toEqual([
      { kind: 'command', argv: ['nginx', '-s', 'reload'], timeoutMs: 5000 },
      { kind: 'command', argv: ['/bin/sh', '-c', 'systemctl reload nginx || true'], timeoutMs: 30_000 },
      { kind: 'signal', signal: 'SIGHUP', pidFile: '/run/nginx.pid' },
    ]);
  });

  it('names the file, line and key of every problem', () => {
    const yaml = `server: http://ca.mayfly.test:5016
root_fingerprint: SHA256:abcd
credentials:
  user: deployer
  secret: plaintext
renewal:
  at: 0.95
  jitter: 0.1
certificates:
  - name: web
    ra: default
    common_name: web.mayfly.test
    sans: [web.mayfly.test]
    cert: certs/web.pem
    key: certs/web.pem
    key_mode: 0640
    colour: blue
    hooks:
      - signal: SIGHUP
      - command: [/bin/true]
        pid: 12
      - command: [true]
`;
    expect(problems(yaml)).toEqual([
      '5:11: credentials.secret: secrets are not accepted in the file itself; use secret_env or secret_file (token_env or token_file)',
      '4:3: credentials: give exactly one of secret_env and secret_file',
      '7:3: renewal: at ± jitter must stay between 0 and 1 (renew after some of the lifetime, before all of it)',
      '16:15: certificates[0].key_mode: write the mode in quotes, e.g. "0640" (unquoted, YAML reads it as a decimal number)',
      '19:9: certificates[0].hooks[0]: give exactly one of pid_file and pid',
      '20:9: certificates[0].hooks[1]: pid_file and pid go with signal, not command',
      '22:18: certificates[0].hooks[2].command: expected a list of strings (the program and its arguments), or one string for /bin/sh -c',
      '17:5: certificates[0].colour: unknown key',
    ]);
  });

  it('checks what the schema cannot: URL scheme, fingerprint, shared files, SANs, key mode, environment', () => {
    const yaml = `server: http://ca.mayfly.test:5016
root_fingerprint: SHA256:abcd
credentials:
  user: deployer
  secret_env: NOT_SET_ANYWHERE
certificates:
  - name: web
    ra: default
    common_name: web.mayfly.test
    sans: [web.mayfly.test]
    cert: certs/web.pem
    key: certs/web.pem
    key_mode: "0644"
  - name: web
    ra: default
    common_name: api.mayfly.test
    cert: certs/api.pem
    key: certs/api.key
    renew_with: credentials
    credentials:
      token_env: NOR_THIS
`;
    expect(problems(yaml, {})).toEqual([
      '1:9: server: the server URL must be https:// (credentials never travel in clear)',
      '2:19: root_fingerprint: root fingerprint "SHA256:abcd" is not a SHA-256 fingerprint (64 hex digits, optionally SHA256: and colons)',
      '5:15: credentials.secret_env: the environment variable NOT_SET_ANYWHERE is not set',
      '12:10: certificates[0].key: /etc/mayfly/certs/web.pem is already written as web\'s cert',
      '13:15: certificates[0].key_mode: a private key must not be readable or writable by others (last digit 0)',
      '10:11: certificates[0].sans: subjectAltName "web.mayfly.test" must be DNS:<name> or IP:<address>',
      '14:11: certificates[1].name: another certificate is named "web"',
      '21:18: certificates[1].credentials.token_env: the environment variable NOR_THIS is not set',
    ]);
  });

  it('names every variable a secret comes from, the top level\'s too when each certificate has its own', () => {
    const yaml = `${minimal}    credentials:\n      token_env: WEB_TOKEN\n`;
    const config = parseAgentConfig(FILE, yaml, { ...ENV, WEB_TOKEN: 't0ken' });
    expect(config.certificates[0].credentials).toEqual({ kind: 'token', tokenEnv: 'WEB_TOKEN' });
    expect([...config.secretVariables].sort()).toEqual(['MAYFLY_SECRET', 'WEB_TOKEN']);
  });

  it('refuses a server URL holding a user name or password', () => {
    expect(problems(minimal.replace('server: https://ca.mayfly.test:5016', 'server: https://deployer:s3cret@ca.mayfly.test:5016'))).toEqual([
      '1:9: server: the server URL must not hold a user name or password; use credentials',
    ]);
  });

  it('wants exactly one of root_fingerprint and cacert, and reads cacert at load', () => {
    const neither = minimal.replace(/^root_fingerprint:.*\n/m, '');
    expect(problems(neither)).toEqual(['1:1: : give exactly one of root_fingerprint and cacert']);
    expect(problems(`${neither}cacert: /nonexistent/root.pem\n`)).toEqual([expect.stringMatching(/^11:9: cacert: the root certificates cannot be read/)]);
  });

  it('reports unreadable files and YAML errors with their position', async () => {
    await expect(loadAgentConfig('/nonexistent/agent.yaml')).rejects.toThrow('/nonexistent/agent.yaml:1:1: (top level): the agent config cannot be read');
    expect(problems('server: [unclosed\n')).toEqual([expect.stringMatching(/^\d+:\d+: : YAML: /)]);
  });

  it('the shipped examples are valid configs', async () => {
    const examples = join(__dirname, '..', '..', '..', 'config', 'examples', 'agent');
    const config = await loadAgentConfig(join(examples, 'agent.yaml'), { MAYFLY_SECRET: 'x' });
    expect(config.certificates.map((c) => c.name)).toEqual(['web']);
    expect(config.certificates[0].hooks).toEqual([{ kind: 'signal', signal: 'SIGHUP', pidFile: '/run/nginx.pid' }]);
    const sidecar = await loadAgentConfig(join(examples, 'sidecar-agent.yaml'), { MAYFLY_SECRET: 'x' });
    expect(sidecar.certificates[0].paths).toEqual({ cert: '/certs/web.pem', key: '/certs/web.key', fullchain: '/certs/web-fullchain.pem' });
    expect(sidecar.certificates[0].hooks).toEqual([{ kind: 'signal', signal: 'SIGHUP', pidFile: '/certs/nginx.pid' }]);
  });

  it('reads credentials when they are used: from the environment or a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-agent-config-'));
    try {
      writeFileSync(join(dir, 'token'), 'mfy_0123456789abcdef_secret\n', { mode: 0o600 });
      expect(await resolveCredentials({ kind: 'token', tokenFile: join(dir, 'token') })).toEqual({ kind: 'token', token: 'mfy_0123456789abcdef_secret' });
      expect(await resolveCredentials({ kind: 'static', user: 'deployer', secretEnv: 'S' }, { S: 'x' })).toEqual({ kind: 'static', user: 'deployer', secret: 'x' });
      await expect(resolveCredentials({ kind: 'static', user: 'deployer', secretEnv: 'S' }, {})).rejects.toThrow('the environment variable S is not set');
      await expect(resolveCredentials({ kind: 'token', tokenFile: join(dir, 'missing') })).rejects.toThrow(/cannot be read/);
      writeFileSync(join(dir, 'loose'), 'mfy_0123456789abcdef_secret\n', { mode: 0o644 });
      await expect(resolveCredentials({ kind: 'token', tokenFile: join(dir, 'loose') })).rejects.toThrow(/loose is readable by others \(mode 644\); run chmod 600 on it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
