import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp, type AppOptions } from './app';
import { mountOpsRoutes, type OpsEndpoints } from './routes/ops';

export interface RunningServer {
  readonly server: Server;
  /** e.g. https://127.0.0.1:5016 */
  readonly url: string;
  /** Swaps in a renewed server certificate; connections already open keep theirs. */
  updateCredentials(credentials: TlsCredentials): void;
  /**
   * Stops accepting connections; requests in progress have `graceMs` to finish (0: none), each
   * connection closing once its answer is sent; then whatever is left is closed.
   */
  close(graceMs?: number): Promise<void>;
}

export interface TlsCredentials {
  readonly key: string;
  readonly cert: string;
}

export interface ServerTimeouts {
  /** Slow-loris bounds: how long a client has to send its headers, and its whole request. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

const DEFAULT_TIMEOUTS: ServerTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/**
 * Serves the API on host:port (port 0 picks a free one) and resolves once it listens: HTTPS when
 * given credentials. A client certificate is asked for but not required, for the mtls backend.
 */
export function startServer(options: AppOptions, host: string, port: number, tls?: TlsCredentials, timeouts: ServerTimeouts = DEFAULT_TIMEOUTS): Promise<RunningServer> {
  const app = createApp(options);
  const common = { headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs };
  const server: Server = tls
    ? createHttpsServer({ ...common, key: tls.key, cert: tls.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, app)
    : createHttpServer(common, app);
  const drain = drainable(server);
  return listen(server, host, port, tls ? 'https' : 'http').then((url) => ({
    server,
    url,
    updateCredentials(credentials: TlsCredentials) {
      (server as unknown as { setSecureContext(options: TlsCredentials): void }).setSecureContext({ key: credentials.key, cert: credentials.cert });
    },
    close: (graceMs = 0) => drain(graceMs),
  }));
}

/**
 * How `server` stops gracefully: answers in progress, and any that arrive on connections already
 * open, say `Connection: close` (RFC 9112 9.6), so each connection ends after its answer instead of
 * idling; the server closes once the last has, or at the grace's end, whichever comes first.
 *
 * Each response looks at the drain when its headers go out, rather than the server keeping a set of
 * the responses in progress: a long-lived Set of short-lived objects leaves, at each rehash of its
 * table, a dead table in the old generation that still points at the responses it held, and V8's
 * scavenges treat those pointers as live until the next full collection. Under load that kept every
 * answered request's objects (~45 KB) alive and promoted them: ~700 KB a scavenge instead of ~70.
 */
function drainable(server: Server): (graceMs: number) => Promise<void> {
  let draining = false;
  // First, before the app has answered anything. An own property, so Express's prototype swap keeps it.
  server.prependListener('request', (_request, response: ServerResponse) => {
    const writeHead = response.writeHead;
    response.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      if (draining) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
  });
  return (graceMs) => {
    draining = true;
    return closeServer(server, graceMs);
  };
}

/** Listens on host:port and resolves with the URL of the address it got. */
function listen(server: Server, host: string, port: number, scheme: 'http' | 'https'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve(`${scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
    });
  });
}

/** Stops listening, closes idle connections, and after `graceMs` every other one. */
function closeServer(server: Server, graceMs = 0): Promise<void> {
  return new Promise<void>((done) => {
    const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cutOff);
      done();
    });
    server.closeIdleConnections();
  });
}

/** The plain-HTTP listener of server.metrics_listen: /metrics, /healthz and /readyz only. */
export function startOpsServer(ops: OpsEndpoints, host: string, port: number): Promise<{ readonly url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  mountOpsRoutes(app, ops);
  // Express's default error page would show a stack: a metric that cannot be gathered is a bare 503.
  app.use((_error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    response.status(503).json({ error: 'unavailable', message: 'the answer could not be gathered; try again' });
  });
  const server = createHttpServer({ headersTimeout: DEFAULT_TIMEOUTS.headersTimeoutMs, requestTimeout: DEFAULT_TIMEOUTS.requestTimeoutMs }, app);
  return listen(server, host, port, 'http').then((url) => ({ url, close: () => closeServer(server) }));
}
