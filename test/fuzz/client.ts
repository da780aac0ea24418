// Sending fuzz requests: node:http over a keep-alive agent for what an HTTP client can send, and a
// raw node:net socket for what it cannot. Every exchange is bounded by a timeout.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { FuzzRequest, HttpRequest, RawRequest } from './requests';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** What came back: one status per response seen (raw sockets may see several, or none). */
export interface Answer {
  readonly statuses: readonly number[];
  readonly headers?: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Why no (complete) answer came: 'timeout', a socket error, or undefined. */
  readonly error?: string;
  /** The request could not be put on the wire (node:http refused it); not the server's doing. */
  readonly unsendable?: string;
}

const MAX_BODY = 1 << 20;

export function send(target: Target, agent: Agent, fuzz: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return fuzz.type === 'raw' ? sendRaw(target, fuzz, timeoutMs) : sendHttp(target, agent, fuzz, timeoutMs);
}

/**
 * One request through node:http. A connection error without an answer on a reused keep-alive
 * socket is retried once on a fresh connection (the server may have closed it an instant before).
 */
export async function sendHttp(target: Target, agent: Agent, fuzz: HttpRequest, timeoutMs: number): Promise<Answer> {
  const first = await sendHttpOnce(target, agent, fuzz, timeoutMs);
  if (first.error && first.error !== 'timeout' && first.statuses.length === 0) return sendHttpOnce(target, false, fuzz, timeoutMs);
  return first;
}

function sendHttpOnce(target: Target, agent: Agent | false, fuzz: HttpRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    // Headers as an array keep their order and repeats, but node:http then adds no Host of its own.
    const headers: string[] = fuzz.headers.some(([n]) => n.toLowerCase() === 'host') ? [] : ['Host', `${target.host}:${target.port}`];
    for (const [name, value] of fuzz.headers) headers.push(name, value);
    if (fuzz.chunkSize === undefined) headers.push('Content-Length', String(fuzz.body.length));
    else headers.push('Transfer-Encoding', 'chunked');
    let request: ReturnType<typeof httpRequest>;
    try {
      request = httpRequest({ host: target.host, port: target.port, method: fuzz.method, path: fuzz.path, headers, agent });
    } catch (error) {
      resolve({ statuses: [], body: Buffer.alloc(0), unsendable: (error as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      request.destroy();
      finish({ statuses: [], body: Buffer.alloc(0), error: 'timeout' });
    }, timeoutMs);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      response.on('end', () => finish({ statuses: [response.statusCode ?? 0], headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (error) => finish({ statuses: [response.statusCode ?? 0], headers: response.headers, body: Buffer.concat(chunks), error: error.message }));
      response.on('aborted', () => finish({ statuses: [response.statusCode ?? 0], headers: response.headers, body: Buffer.concat(chunks), error: 'response aborted' }));
    });
    request.on('error', (error) => finish({ statuses: [], body: Buffer.alloc(0), error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` }));
    try {
      if (fuzz.chunkSize === undefined) {
        request.end(fuzz.body);
      } else {
        for (let offset = 0; offset < fuzz.body.length; offset += fuzz.chunkSize) request.write(fuzz.body.subarray(offset, offset + fuzz.chunkSize));
        request.end();
      }
    } catch (error) {
      request.destroy();
      finish({ statuses: [], body: Buffer.alloc(0), unsendable: (error as Error).message });
    }
  });
}

/**
 * Writes raw bytes, half-closes, and reads until the server closes or goes quiet after answering.
 * Responses are found by their status lines; several may come back (pipelining) or none (the
 * server may just close on garbage).
 */
export function sendRaw(target: Target, fuzz: RawRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let quiet: NodeJS.Timeout | undefined;
    const socket = connect({ host: target.host, port: target.port });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (quiet) clearTimeout(quiet);
      socket.destroy();
      const body = Buffer.concat(chunks);
      const statuses = [...body.toString('latin1').matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
      resolve({ statuses, body, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(chunks.length === 0 ? 'timeout' : undefined), timeoutMs);
    socket.on('connect', () => socket.end(fuzz.bytes));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete response (and nothing pending) means the server is done with us; otherwise a
      // silence after some bytes does.
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(() => finish(), endsWithCompleteResponse(Buffer.concat(chunks)) ? 10 : 300);
    });
    socket.on('close', () => finish());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after (or instead of) an answer is how servers end bad connections.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else finish(`${error.code ?? ''} ${error.message}`);
    });
  });
}

/** Whether `bytes` is a run of whole HTTP/1.1 responses (1xx interim ones included). */
function endsWithCompleteResponse(bytes: Buffer): boolean {
  let offset = 0;
  let complete = false;
  while (offset < bytes.length) {
    const headerEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headerEnd < 0) return false;
    const head = bytes.subarray(offset, headerEnd).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!status) return false;
    let end = headerEnd + 4;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (Number(status[1]) >= 200 && Number(status[1]) !== 204 && Number(status[1]) !== 304) {
      if (length) end += Number(length[1]);
      else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        const last = bytes.indexOf('\r\n0\r\n\r\n', headerEnd);
        if (last < 0) return false;
        end = last + 7;
      } else return false;
    }
    if (end > bytes.length) return false;
    complete = Number(status[1]) >= 200;
    offset = end;
  }
  return complete;
}
