// Jest global tear-down: removes the run's temporary folder that global_setup.js made.
const { rmSync } = require('node:fs');
const { dirname } = require('node:path');

module.exports = async () => {
  if (process.env.SOFTHSM2_CONF) rmSync(dirname(process.env.SOFTHSM2_CONF), { recursive: true, force: true });
};
