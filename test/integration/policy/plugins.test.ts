import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/load';
import { makeCsr } from '../../helpers/openssl';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';

const EXAMPLE_PLUGIN = join(__dirname, '..', '..', '..', 'config', 'examples', 'plugins', 'organizational_unit.js');
const scratch = mkdtempSync(join(tmpdir(), 'mayfly-plugins-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A plugin file in the scratch folder; its options schema accepts anything. */
function writePlugin(name: string, body: string): string {
  const file = join(scratch, `${name}.js`);
  writeFileSync(file, `module.exports = { name: '${name}', options: { safeParse: (v) => ({ success: true, data: v }) }, ${body} };\n`);
  return file;
}

/** Adds plugins and validators to the generated config, and groups to its user. */
const withPlugins = (plugins: string[], validators: string) => (yaml: string) =>
  `plugins: [${plugins.map((p) => JSON.stringify(p)).join(', ')}]\n` +
  yaml.replace('    user: deployer\n', '    user: deployer\n    groups: [payments]\n').replace('    validators:\n', `    validators:\n${validators}`);

describe('validator plugins', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withPlugins([EXAMPLE_PLUGIN], '      - organizational_unit: { required: true }\n') });
  });
  afterAll(() => ca.stop());

  const sign = (subject: string) =>
    postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: makeCsr({ subject }).pem }, { Accept: 'application/json' });

  it('runs the documented example plugin through the same registry as the built-ins', async () => {
    const refused = await sign('/CN=svc.mayfly.test/OU=marketing');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { reasons: unknown[] }).reasons).toEqual([
      { validator: 'organizational_unit', reason: "OU 'marketing' is not one of deployer's groups [payments]" },
    ]);
    expect((await sign('/CN=svc.mayfly.test/OU=payments')).status).toBe(200);
  });

  it('a plugin that throws refuses the request naming itself: never a 500, never a pass, no internals', async () => {
    const thrower = await startTestCa({ editConfig: withPlugins([writePlugin('thrower', 'check() { throw new Error("boom: secret internals"); }')], '      - thrower: {}\n') });
    try {
      const response = await postForm(`${thrower.url}/v1/sign/default`, { user: 'deployer', secret: thrower.secret, csr: makeCsr().pem }, { Accept: 'application/json' });
      expect(response.status).toBe(403);
      const text = await response.text();
      expect(JSON.parse(text).reasons).toEqual([{ validator: 'thrower', reason: 'validator thrower failed while checking the request; refused to be safe' }]);
      expect(text).not.toContain('boom');
    } finally {
      await thrower.stop();
    }
  });

  it('a plugin that cannot be loaded, or takes a built-in name, is a config error at its line', async () => {
    const notAValidator = join(scratch, 'not_a_validator.js');
    writeFileSync(notAValidator, 'module.exports = { name: "x" };\n');
    const impostor = writePlugin('common_name', 'check() { return []; }');
    const missing = join(scratch, 'missing.js');
    const error = await startTestCa({ editConfig: withPlugins([notAValidator, impostor, missing], '') }).then(
      async (ca) => {
        await ca.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => [p.line, p.key, p.message]);
    expect(problems).toEqual([
      [1, 'plugins[0]', 'the plugin cannot be loaded: plugin x must export `options`, a zod schema'],
      [1, 'plugins[1]', 'the plugin cannot be loaded: a validator named common_name is already registered'],
      [1, 'plugins[2]', `the plugin cannot be loaded: ${missing} does not exist`],
    ]);
  });
});
