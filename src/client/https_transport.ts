import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { errorMessage } from '../error_message';
import { ServerUnreachableError, TrustError } from './errors';

/** How a connection is secured: the roots it trusts, and the client certificate it presents. */
export interface TlsSettings {
  /** PEM roots the server's certificate must chain to; absent only with `verify: false`. */
  readonly ca?: string;
  /** false only to read a root's public chain before it is pinned; nothing secret goes over such a connection. */
  readonly verify: boolean;
  /** A client certificate (PEM, with its chain) and key, for mTLS authentication. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
}

export interface HttpsExchange {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly tls: TlsSettings;
  readonly timeoutMs: number;
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

// Mayfly's answers are a few kilobytes; a server that sends more is not one to keep reading from.
const MAX_ANSWER_BYTES = 1024 * 1024;

// OpenSSL's and Node's names for "this certificate is not trusted for this host".
const TRUST_ERROR_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ERR_TLS_CERT/;

/** One request over its own TLS connection (no pooling: a verified request never reuses an unverified connection). */
export function httpsExchange(url: URL, exchange: HttpsExchange): Promise<HttpsAnswer> {
  if (url.protocol !== 'https:') return Promise.reject(new ServerUnreachableError(`${url.origin} is not an https:// URL`));
  if (exchange.tls.verify && !exchange.tls.ca) return Promise.reject(new TrustError('no trusted root to verify the server with'));
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: exchange.method,
        headers: { ...exchange.headers, ...(exchange.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(exchange.body)) } : {}) },
        agent: false,
        rejectUnauthorized: exchange.tls.verify,
        minVersion: 'TLSv1.2',
        ...(exchange.tls.ca ? { ca: exchange.tls.ca } : {}),
        ...(exchange.tls.clientCertificate ? { cert: exchange.tls.clientCertificate.cert, key: exchange.tls.clientCertificate.key } : {}),
        timeout: exchange.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_ANSWER_BYTES) request.destroy(new Error(`the answer from ${url.origin} is over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => reject(classify(url, error)));
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${exchange.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => reject(classify(url, error)));
    request.end(exchange.body);
  });
}

function classify(url: URL, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TRUST_ERROR_CODES.test(code)) return new TrustError(`the server at ${url.origin} is not trusted: ${errorMessage(error)} (${code})`);
  return new ServerUnreachableError(`cannot reach ${url.origin}: ${errorMessage(error)}${code && !errorMessage(error).includes(code) ? ` (${code})` : ''}`);
}
