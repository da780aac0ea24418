// The server's graceful close (RunningServer.close), in process: answers in progress when it starts
// say `Connection: close`, on the short sign path and on Express's alike, and the connection ends
// after them; an idle keep-alive connection is closed at once.
import { connect } from 'node:net';
import { heldSign } from '../helpers/held_sign';
import { startTestCa, type TestCa } from '../helpers/mayfly';

/** A keep-alive connection that has been answered once and is now idle; resolves `closed` when the server ends it. */
function idleConnection(url: string): Promise<{ readonly first: string; readonly closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('data', (chunk: Buffer) => resolve({ first: chunk.toString('latin1'), closed }));
    socket.once('error', reject);
  });
}

describe('closing the server gracefully', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ audit: true });
  });
  afterAll(() => ca?.stop());

  it('lets the answers in progress finish with Connection: close, on either sign path, and closes idle connections', async () => {
    const idle = await idleConnection(ca.url);
    expect(idle.first).toMatch(/^HTTP\/1.1 200 /);
    expect(idle.first).not.toMatch(/\r\nconnection: close\r\n/i);
    // JSON asked for plainly takes the short path; an Accept list goes through Express.
    const held = await Promise.all([heldSign(ca.url, ca.secret, 'application/json'), heldSign(ca.url, ca.secret, 'application/json, text/plain;q=0.5')]);
    const closing = ca.server.close(20_000);
    await idle.closed;
    for (const request of held) request.finish();
    for (const answer of await Promise.all(held.map((request) => request.answer))) {
      expect(answer).toMatch(/^HTTP\/1.1 200 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toHaveProperty('serial_number');
    }
    await closing;
  }, 30_000);
});
