// Jest global set-up, in the process that starts the workers: what it puts in process.env every
// worker and every child process a test starts inherits. One temporary folder for the run holds:
//
// - SoftHSM2's configuration and tokens. SoftHSM2 reads SOFTHSM2_CONF from the real process
//   environment when the module initialises, which a test file's sandboxed process.env cannot change.
// - Every temporary file of the run (TMPDIR, which os.tmpdir() reads): in memory (/dev/shm) when the
//   machine has it, so the ledgers' fsyncs, initdb and the CA folders cost no disk waits. A process
//   killed mid-write leaves the same files in memory as on disk, so the crash tests keep their
//   meaning; the full-disk test mounts a tmpfs of its own. PostgreSQL runs as its own user, so the
//   folder is traversable (0711) as /tmp is.
// - Node's compile cache (NODE_COMPILE_CACHE, Node 22.1 and later; older versions ignore it): each
//   `mayfly` child process loads ~900 modules, and compiles them once per run instead of once each.
const { accessSync, chmodSync, constants, mkdtempSync, mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const IN_MEMORY = '/dev/shm';

function inMemory() {
  try {
    accessSync(IN_MEMORY, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

module.exports = async () => {
  const dir = mkdtempSync(join(inMemory() ? IN_MEMORY : tmpdir(), 'mayfly-test-run-'));
  chmodSync(dir, 0o711);
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  process.env.NODE_COMPILE_CACHE ??= join(dir, 'compile-cache');
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o711);
  process.env.TMPDIR = join(dir, 'tmp');
};
