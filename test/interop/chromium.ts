// A TLS handshake Chromium accepts: the root in an NSS database under a temporary HOME (as a user
// would trust it), the issued certificate served by Node's HTTPS server, Debian's headless Chromium
// as the client (chromium_driver.mjs). No --ignore-certificate-errors: Chromium's own verifier decides.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const CERTUTIL = '/usr/bin/certutil';

/** Creates $home/.pki/nssdb, where Chromium on Linux reads user-trusted roots; returns its sql: name. */
export function createNssDatabase(home: string): string {
  const directory = join(home, '.pki', 'nssdb');
  mkdirSync(directory, { recursive: true });
  const database = `sql:${directory}`;
  execFileSync(CERTUTIL, ['-d', database, '-N', '--empty-password'], { stdio: 'pipe' });
  return database;
}

/** Trusts a root for TLS servers ("C,,"); 'ok', or certutil's reason for refusing it. */
export function trustRoot(database: string, nickname: string, rootFile: string): string {
  try {
    execFileSync(CERTUTIL, ['-d', database, '-A', '-t', 'C,,', '-n', nickname, '-i', rootFile], { stdio: 'pipe' });
    return 'ok';
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).trim();
  }
}

export interface TlsSite {
  readonly port: number;
  /** What the site answers, so a loaded page can be told from an error page. */
  readonly body: string;
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1:0 presenting `certificateChain` (leaf first, then the intermediate). */
export async function serveCertificate(certificateChain: string, key: string, body: string): Promise<TlsSite> {
  const server = createServer({ cert: certificateChain, key }, (_request, response) => response.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    body,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ChromiumVisit {
  readonly url: string;
  readonly body: string;
}

/** Loads every URL in one headless Chromium; for each, 'ok' or why not (e.g. net::ERR_CERT_INVALID). */
export function visitWithChromium(home: string, hostResolverRules: string, visits: readonly ChromiumVisit[]): Promise<Map<string, string>> {
  const input = JSON.stringify({ executable: CHROMIUM, home, userDataDir: join(home, 'chromium-profile'), hostResolverRules, visits });
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [join(__dirname, 'chromium_driver.mjs')], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`chromium_driver failed: ${stderr.trim() || error.message}`));
      const results = JSON.parse(stdout) as { url: string; result: string }[];
      resolve(new Map(results.map(({ url, result }) => [url, result])));
    });
    child.stdin!.end(input);
  });
}
