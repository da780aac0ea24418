import { connect, type Socket } from 'node:net';
import { makeCsr } from './openssl';

export interface HeldSign {
  finish(): void;
  /** The whole answer after 100 Continue, once the server has closed the connection. */
  readonly answer: Promise<string>;
}

/**
 * A sign request whose body is sent in two halves: the first once the server has the request, the second
 * on finish(). `Expect: 100-continue` tells when it has: Node answers 100 Continue as it hands the request on, and from
 * then on the connection is no longer idle, so a drain's closeIdleConnections() leaves it open. `accept` picks the
 * answer's form (and, for an Accept list, Express's route instead of the short one).
 */
export function heldSign(url: string, secret: string, accept = 'application/json'): Promise<HeldSign> {
  const body = new URLSearchParams({ user: 'deployer', secret, csr: makeCsr().pem }).toString();
  const { hostname, port } = new URL(url);
  const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname, () => {
      socket.write(`POST /v1/sign/default HTTP/1.1\r\nHost: x\r\nAccept: ${accept}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    });
    let received = '';
    let continued = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!continued && received.startsWith(CONTINUE)) {
        continued = true;
        received = received.slice(CONTINUE.length);
        socket.write(body.slice(0, body.length / 2));
        resolve({ finish: () => socket.write(body.slice(body.length / 2)), answer });
      }
    });
    const answer = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before 100 Continue: ${received}`)));
  });
}
