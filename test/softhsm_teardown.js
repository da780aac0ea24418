// Jest global tear-down: removes the SoftHSM2 folder that softhsm_setup.js made.
const { rmSync } = require('node:fs');
const { dirname } = require('node:path');

module.exports = async () => {
  if (process.env.SOFTHSM2_CONF) rmSync(dirname(process.env.SOFTHSM2_CONF), { recursive: true, force: true });
};
