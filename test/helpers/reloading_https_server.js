// A service that serves HTTPS and reloads its certificate on SIGHUP, as nginx does: Node's
// https.createServer, and setSecureContext with the files read again. Run by client tests as
//   node reloading_https_server.js CERT KEY PIDFILE
// It prints "listening PORT" once it listens and "reloaded SERIAL" after each reload.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:https');
const { X509Certificate } = require('node:crypto');

const [certFile, keyFile, pidFile] = process.argv.slice(2);
const load = () => ({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
const serial = (credentials) => new X509Certificate(credentials.cert).serialNumber.toLowerCase();

const first = load();
const server = createServer(first, (_request, response) => response.end('ok\n'));
process.on('SIGHUP', () => {
  try {
    const credentials = load();
    server.setSecureContext(credentials);
    process.stdout.write(`reloaded ${serial(credentials)}\n`);
  } catch (error) {
    process.stdout.write(`reload failed: ${error.message}\n`);
  }
});
process.on('SIGTERM', () => process.exit(0));
server.listen(0, '127.0.0.1', () => {
  writeFileSync(pidFile, `${process.pid}\n`);
  process.stdout.write(`listening ${server.address().port} ${serial(first)}\n`);
});
