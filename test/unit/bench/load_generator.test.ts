import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeErrors, runLoad } from '../../../bench/load_generator';
import { itWithTools } from '../../interop/tools';

const WRK = { executable: '/usr/bin/wrk', debianPackage: 'wrk' };

// The benchmark's wrk script against a loopback server that answers in turn a certificate, 429 and 503: each error
// is counted by its status, so "241 errors" says what they were. Three requests show both statuses, so a run that a
// loaded machine slows to a handful of answers still sees them.
describe('the load generator counts non-2xx answers by status', () => {
  let server: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    let count = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        count += 1;
        const status = [503, 200, 429][count % 3];
        response.writeHead(status, { 'Content-Type': 'text/plain' });
        response.end(status === 200 ? '-----BEGIN CERTIFICATE-----\n' : 'try again');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('no address');
    url = `http://127.0.0.1:${address.port}`;
    dir = mkdtempSync(join(tmpdir(), 'mayfly-wrk-'));
    writeFileSync(join(dir, 'bodies.txt'), 'csr=1\ncsr=2\n');
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  itWithTools([WRK], 'reports each status with its count, and the counts add up to the non-2xx errors', async () => {
    const result = await runLoad({ url, path: '/v1/sign/default', contentType: 'application/x-www-form-urlencoded', bodiesFile: join(dir, 'bodies.txt'), connections: 2, threads: 1, durationSeconds: 1 });
    expect(result.errorKinds.non2xx).toBeGreaterThan(0);
    expect(Object.keys(result.non2xxByStatus).sort()).toEqual(['429', '503']);
    expect(result.non2xxByStatus['429'] + result.non2xxByStatus['503']).toBe(result.errorKinds.non2xx);
    expect(result.issued + result.errorKinds.non2xx).toBe(result.requests);
    expect(describeErrors(result)).toBe(`${result.errorKinds.non2xx} non2xx (429: ${result.non2xxByStatus['429']}, 503: ${result.non2xxByStatus['503']})`);
  }, 30_000);
});
