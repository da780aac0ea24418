'use strict';
// Built by `npm ci` (node-gyp, against the headers of the Node that runs Mayfly: ../.npmrc).
module.exports = require('./build/Release/mayfly_native.node');
