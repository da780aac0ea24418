// Real SoftHSM2 tokens (Debian's softhsm2) for PKCS#11 tests, in the temporary folder that
// test/global_setup.js made for the run (SOFTHSM2_CONF must be set before the module loads).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  readonly conf: string;
  /** The folder holding every token; renaming it away makes the tokens vanish. */
  readonly tokenDir: string;
  /** The environment for child processes. */
  readonly env: NodeJS.ProcessEnv;
  initToken(label: string, pin: string): void;
}

export function softHsm(): SoftHsm {
  const conf = process.env.SOFTHSM2_CONF;
  if (!conf) throw new Error('SOFTHSM2_CONF is not set: run the tests through jest, whose global set-up creates it');
  return softHsmAt(conf);
}

/**
 * Tokens of a test's own in `dir`, for tests that drive the module only through child processes
 * (the CLI): another test that makes the run's tokens vanish cannot touch them.
 */
export function privateSoftHsm(dir: string): SoftHsm {
  const conf = join(dir, 'softhsm2.conf');
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  return softHsmAt(conf);
}

function softHsmAt(conf: string): SoftHsm {
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  return {
    conf,
    tokenDir: join(dirname(conf), 'tokens'),
    env,
    initToken(label, pin) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `${pin}-so`], { env, stdio: 'pipe' });
    },
  };
}
