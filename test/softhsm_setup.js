// Jest global set-up: SoftHSM2 reads SOFTHSM2_CONF from the real process environment when the
// module initialises, which a test file's sandboxed process.env cannot change. So the whole run
// gets one SoftHSM configuration, in a temporary folder, set before the workers start.
const { mkdtempSync, mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-softhsm-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
};
