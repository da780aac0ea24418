// The tokens file: an expiry in a form that would never be enforced is refused, and a deleted file
// revokes every token.
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '../../../src/auth/token';
import { ConfigError } from '../../../src/config/load';
import { runCli } from '../../helpers/cli';
import { startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

const withTokens = (yaml: string) => {
  const policy = yaml.slice(yaml.indexOf('    valid_hours:'));
  return yaml.replace('authentication:\n', 'authentication:\n  tokens:\n    backend: token\n    tokens_file: tokens.yaml\n') + `  by_token:\n    authentication: tokens\n    signing_ca: local\n${policy}`;
};

/** A token and its tokens-file entry, written by hand as an operator would, with `expires` as given. */
function handWritten(expires: string): { token: string; yaml: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const sha256 = createHash('sha256').update(secret).digest('hex');
  return { token: `mfy_${id}_${secret}`, yaml: `tokens:\n  - id: "${id}"\n    name: hand-written\n    sha256: "${sha256}"\n    created: "2020-01-01T00:00:00Z"\n    expires: "${expires}"\n` };
}

const sign = (ca: TestCa, token: string) =>
  fetch(`${ca.url}/v1/sign/by_token`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ csr: makeCsr().pem }) });

/** Signs until the answer is `status` (the file watch takes a moment), at most ~10 s. */
async function eventually(ca: TestCa, token: string, status: number): Promise<number> {
  let answer = 0;
  for (let i = 0; i < 50 && answer !== status; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    answer = (await sign(ca, token)).status;
  }
  return answer;
}

describe('the tokens file', () => {
  it("refuses at load an expiry that is not an RFC 3339 time ('31/12/2020' was never enforced)", async () => {
    const started = await startTestCa({
      editConfig: (yaml, dir) => {
        writeFileSync(join(dir, 'tokens.yaml'), handWritten('31/12/2020').yaml, { mode: 0o600 });
        return withTokens(yaml);
      },
    }).then(
      async (ca) => {
        await ca.stop();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(started).toBeInstanceOf(ConfigError);
    expect((started as Error).message).toMatch(/authentication\.tokens\.tokens_file: .*tokens\.yaml cannot be read as a tokens file \(tokens\.0\.expires: must be an RFC 3339 time with its offset/);
  });

  describe('while serving', () => {
    let ca: TestCa;
    let tokensFile: string;
    let warnings: jest.SpyInstance;
    beforeAll(async () => {
      warnings = jest.spyOn(process, 'emitWarning');
      ca = await startTestCa({
        editConfig: (yaml, dir) => {
          tokensFile = join(dir, 'tokens.yaml');
          writeFileSync(tokensFile, 'tokens: []\n', { mode: 0o600 });
          return withTokens(yaml);
        },
      });
    });
    afterAll(async () => {
      warnings.mockRestore();
      await ca.stop();
    });

    it('keeps refusing a token whose expiry is written in another form, and token create refuses such a file', async () => {
      const { token, yaml } = handWritten('31/12/2020');
      writeFileSync(`${tokensFile}.new`, yaml);
      renameSync(`${tokensFile}.new`, tokensFile);
      // Give the watch time to read it; the entry must never become valid.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await sign(ca, token)).status).toBe(401);
      await expect(createToken(tokensFile, { groups: [] })).rejects.toThrow(/tokens\.yaml is not a valid tokens file \(tokens\.0\.expires: must be an RFC 3339 time with its offset/);
      const cli = runCli(['token', 'create', '--config', ca.configFile, '--auth', 'tokens']);
      expect(cli.status).toBe(1);
      expect(cli.stderr).toContain('tokens.0.expires: must be an RFC 3339 time with its offset');
      // An RFC 3339 expiry in the future, with an offset, is accepted.
      const fixed = handWritten('2999-12-31T23:59:59+02:00');
      writeFileSync(tokensFile, fixed.yaml);
      expect(await eventually(ca, fixed.token, 200)).toBe(200);
    });

    it('revokes every token when the file is deleted, logs it, and accepts them again when it is back', async () => {
      writeFileSync(tokensFile, 'tokens: []\n');
      const { token } = await createToken(tokensFile, { groups: [] });
      expect(await eventually(ca, token, 200)).toBe(200);
      renameSync(tokensFile, `${tokensFile}.away`);
      expect(await eventually(ca, token, 401)).toBe(401);
      expect(warnings.mock.calls.map(([warning]) => warning)).toContainEqual(expect.stringMatching(/tokens\.yaml cannot be read; it counts as empty until it is back$/));
      renameSync(`${tokensFile}.away`, tokensFile);
      expect(await eventually(ca, token, 200)).toBe(200);
    });
  });
});
