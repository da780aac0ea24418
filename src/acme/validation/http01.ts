import { request } from 'node:http';
import { AcmeProblem } from '../problems';

const MAX_BODY = 8 * 1024;

/**
 * http-01 (RFC 8555 8.3): GET http://<identifier>/.well-known/acme-challenge/<token> must answer
 * the key authorization. Mayfly connects to the address it resolved and checked (never resolving
 * again, so DNS cannot swap in a forbidden address) and follows no redirect.
 */
export function fetchHttp01(address: string, port: number, host: string, token: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (type: 'connection' | 'incorrectResponse', detail: string) => reject(new AcmeProblem(type, detail));
    const outgoing = request(
      { host: address, port, path: `/.well-known/acme-challenge/${token}`, headers: { Host: host.includes(':') ? `[${host}]` : host, 'User-Agent': 'mayfly-acme' }, timeout: timeoutMs, agent: false },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          fail('incorrectResponse', `http://${host}:${port}/.well-known/acme-challenge/${token} answered ${response.statusCode}, not 200`);
          return;
        }
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_BODY) outgoing.destroy(new Error('the answer is too long'));
        });
        response.on('end', () => resolve(body.trim()));
      },
    );
    // One deadline for the whole exchange: a socket timeout only measures idleness, and a server
    // dripping a byte now and then would hold the connection (and this validation) for hours.
    const deadline = setTimeout(() => outgoing.destroy(new Error('timed out')), timeoutMs);
    outgoing.on('close', () => clearTimeout(deadline));
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.on('error', (error) => fail('connection', `fetching the http-01 challenge from ${address}:${port} failed: ${error.message}`));
    outgoing.end();
  });
}
