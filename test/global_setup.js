// Jest global set-up, in the process that starts the workers: what it puts in process.env every
// worker and every child process a test starts inherits. One temporary folder for the run holds:
//
// - SoftHSM2's configuration and tokens. SoftHSM2 reads SOFTHSM2_CONF from the real process
//   environment when the module initialises, which a test file's sandboxed process.env cannot change.
// - Node's compile cache (NODE_COMPILE_CACHE, Node 22.1 and later; older versions ignore it): each
//   `mayfly` child process loads ~900 modules, and compiles them once per run instead of once each.
const { mkdtempSync, mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-test-run-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  process.env.NODE_COMPILE_CACHE ??= join(dir, 'compile-cache');
};
