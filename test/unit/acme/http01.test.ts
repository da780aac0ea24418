// http-01 against a real web server on loopback that the validated party controls.
import { createServer, type Server } from 'node:http';
import { fetchHttp01 } from '../../../src/acme/validation/http01';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as { port: number }).port };
}

describe('http-01 validation', () => {
  it('gives up at its deadline on a server that drips its answer a byte at a time (never idle long enough to time out)', async () => {
    const { server, port } = await serve((_request, response) => {
      response.writeHead(200);
      const drip = setInterval(() => response.write('x'), 100);
      response.on('close', () => clearInterval(drip));
    });
    try {
      const started = Date.now();
      await expect(fetchHttp01('127.0.0.1', port, 'svc.mayfly.test', 'token', 1000)).rejects.toMatchObject({ detail: expect.stringContaining('timed out') });
      // The drip would go on for ever: 15 s is generous for a loaded machine and still tells the 1 s deadline held.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 30_000);

  it('reads an answer that comes in time', async () => {
    const { server, port } = await serve((_request, response) => response.end('token.thumbprint\n'));
    try {
      await expect(fetchHttp01('127.0.0.1', port, 'svc.mayfly.test', 'token', 1000)).resolves.toBe('token.thumbprint');
    } finally {
      server.close();
    }
  });
});
