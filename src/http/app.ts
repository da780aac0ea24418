import type { KeyObject } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../config/assemble';
import type { RegistrationAuthority } from '../ra/registration_authority';
import { describeError, HttpError, type ErrorBody } from './errors';
import { wantsJson } from './negotiate';
import { disabledLedger, type Ledger } from '../audit/ledger';
import type { AuditReader } from '../audit/store';
import helmet from 'helmet';
import { RateLimitError, RequestLimits, type Admission, type LimitOptions } from './limits';
import { auditCheckpoint, auditProof, listAudit, recordProof } from './routes/audit';
import { consoleRouter } from './console/router';
import { signAnswer, signCertificate, signProtocol } from './routes/sign';
import { bodyKind, claimedIdentity, readSignFields, signRequestParsers, type SignBodyKind } from './sign_request';
import { leanBodyKind, readLeanBody } from './sign_body';
import pino, { type Logger } from 'pino';
import { MayflyMetrics } from './metrics';
import { Readiness } from './readiness';
import { logRequest, requestLog, type RequestOutcome } from './request_log';
import { mountOpsRoutes } from './routes/ops';
import { Nonces } from '../acme/nonces';
import type { AcmeStore } from '../acme/store';
import type { AcmeDoor } from '../acme/context';

export interface AppOptions {
  /** The runtime in force; read once per request, so a reload never changes a request in flight. */
  readonly runtime: () => Runtime;
  /** Where every decision is recorded; the disabled ledger records nothing. */
  readonly ledger?: Ledger;
  /** Reads the ledger for GET /v1/audit; absent when the ledger is disabled. */
  readonly auditReader?: AuditReader;
  /** The audit public key, which proofs name (GET /v1/audit/proof/<serial>). */
  readonly auditPublicKey?: KeyObject;
  /** Where `mayfly audit verify` records its last result on this host, for the console's overview. */
  readonly verifyResultFile?: string;
  /** Largest accepted request body, bytes. */
  readonly bodyLimit?: number;
  /** Where internal faults are reported (never to the client). */
  readonly logError?: (error: unknown) => void;
  /** Proxies whose X-Forwarded-For is believed (it becomes the client address); none by default. */
  readonly trustedProxies?: readonly string[];
  readonly limits?: LimitOptions;
  /** One line per request goes here; silent when absent. */
  readonly logger?: Logger;
  /** The process's metrics, shared with a separate metrics listener; the app makes its own when absent. */
  readonly metrics?: MayflyMetrics;
  /** Whether /metrics is served here (not when server.metrics_listen serves it elsewhere). */
  readonly serveMetrics?: boolean;
  /** The process's readiness probe, shared with a separate metrics listener; made here when absent. */
  readonly readiness?: Readiness;
  /** ACME's state (accounts, orders, nonces); ACME is served only with one. */
  readonly acmeStore?: AcmeStore;
}

const DEFAULT_BODY_LIMIT = 64 * 1024;
const SIGN_ROUTE = '/v1/sign/:ra';

/** A Node request listener: what `http.createServer` serves. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The HTTP API: Anchor's routes and their JSON twins. Only speaks HTTP; the stages decide. Express
 * serves every route; the sign route's common requests take a shorter way to the same code (see leanSign).
 */
export function createApp(options: AppOptions): RequestListener {
  const app = express();
  const limits = new RequestLimits(options.limits);
  const ledger = options.ledger ?? disabledLedger;
  const metrics = options.metrics ?? new MayflyMetrics(options.runtime);
  const logger = options.logger ?? pino({ enabled: false });
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const trustsProxies = options.trustedProxies !== undefined && options.trustedProxies.length > 0;
  const securityHeaders = helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } });
  const leanSecurityHeaders = headersSetBy(securityHeaders);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // request.ip is the socket's address unless the socket is a trusted proxy.
  app.set('trust proxy', trustsProxies ? [...options.trustedProxies!] : false);
  app.use(securityHeaders);
  app.use((_request, response, next) => {
    response.set('Cache-Control', 'no-store');
    next();
  });
  app.use(requestLog(logger, metrics));
  mountOpsRoutes(app, { metrics: metrics.registry, readiness: options.readiness ?? new Readiness(options.runtime, ledger), serveMetrics: options.serveMetrics ?? true, readinessReasons: false });

  app.get('/robots.txt', (_request, response) => {
    response.type('text/plain').send('User-agent: *\nDisallow: /\n');
  });

  const registrationAuthority = (request: Request, response: Response): RegistrationAuthority => {
    const name = String(request.params.ra);
    const ra = options.runtime().registrationAuthorities.get(name);
    if (!ra) throw new HttpError(404, 'unknown_ra', `no registration authority named ${JSON.stringify(name.slice(0, 64))}`);
    (response.locals as RequestOutcome).raName = ra.name;
    return ra;
  };

  app.get('/v1/ca/:ra', (request, response) => {
    const ra = registrationAuthority(request, response);
    // After a rotation the chains it replaced follow, until their certificates have expired.
    if (wantsJson(request)) {
      response.json({ chain: ra.signingCa.chainPems, previous_chains: ra.signingCa.previousChains.map((previous) => previous.pems) });
    } else response.type('text/plain').send(ra.signingCa.servedChainPem);
  });
  app.all('/v1/ca/:ra', methodNotAllowed('GET, HEAD'));

  // Held until the answer is sent, or the client leaves. A pipelined request whose connection dies
  // before its turn to be answered never sees its response close (Node), so the connection's own
  // close lets go of it too: otherwise each such request would keep its places for good.
  const admit = async (source: string, request: IncomingMessage, response: ServerResponse): Promise<Admission> => {
    const admission = await limits.admitSource(source);
    const socket = request.socket;
    const leave = () => {
      admission.leave();
      socket.off('close', leave);
    };
    response.once('close', leave);
    response.once('finish', leave);
    socket.once('close', leave);
    return admission;
  };
  // The RA and the admission are settled before the body is read, so a reload mid-request cannot change them.
  const signState = (response: Response) => response.locals as { ra: RegistrationAuthority; admission: Admission };

  app.get('/v1/audit', async (request, response) => {
    await listAudit(options.runtime(), options.auditReader, await admit(request.ip ?? '', request, response), request, response);
  });
  app.all('/v1/audit', methodNotAllowed('GET, HEAD'));
  const provable = options.auditReader && options.auditPublicKey ? { reader: options.auditReader, publicKey: options.auditPublicKey } : undefined;
  app.get('/v1/audit/checkpoint', async (request, response) => {
    await auditCheckpoint(options.runtime(), provable, await admit(request.ip ?? '', request, response), request, response);
  });
  app.all('/v1/audit/checkpoint', methodNotAllowed('GET, HEAD'));
  app.get('/v1/audit/proof/:serial', async (request, response) => {
    await auditProof(options.runtime(), provable, await admit(request.ip ?? '', request, response), request, response);
  });
  app.all('/v1/audit/proof/:serial', methodNotAllowed('GET, HEAD'));
  app.use(
    consoleRouter({
      runtime: options.runtime,
      ...(options.auditReader ? { auditReader: options.auditReader } : {}),
      ...(options.verifyResultFile ? { verifyResultFile: options.verifyResultFile } : {}),
      // The record page checks the same proof GET /v1/audit/proof/<serial> answers.
      ...(provable ? { proveRecord: (serial: string) => recordProof(provable, serial) } : {}),
      admit: (request, response) => admit(request.ip ?? '', request, response),
    }),
  );

  app.post(
    '/v1/sign/:ra',
    async (request, response, next) => {
      signState(response).ra = registrationAuthority(request, response); // 404 before reading a body meant for nobody
      // Rates and the cap on unauthenticated requests are fast 429s here, before the body is read.
      signState(response).admission = await admit(request.ip ?? '', request, response);
      next();
    },
    signRequestParsers(bodyLimit, limits.options.bodyTimeoutMs),
    async (request, response) => {
      const { ra, admission } = signState(response);
      const kind = bodyKind(request);
      const fields = readSignFields(request, kind, request.body, request.files?.[0]?.buffer);
      const issued = await signCertificate(ra, ledger, admission, metrics, fields, signProtocol(kind));
      (response.locals as RequestOutcome).serial = issued.serialNumber;
      const answer = signAnswer(ra, issued, wantsJson(request));
      response.type(answer.type).send(answer.body);
    },
  );
  app.all('/v1/sign/:ra', methodNotAllowed('POST'));

  if (options.acmeStore) {
    const door: AcmeDoor = {
      store: options.acmeStore,
      nonces: new Nonces(options.acmeStore),
      ledger,
      admitIdentity: (key) => limits.admitIdentity(key),
      // POST /acme/<ra>/eab authenticates as /v1/sign does: under the same caps and back-off.
      authenticate: (response, ra, credentials) =>
        (response.locals.admission as Admission).authenticate(claimedIdentity(credentials), () => ra.authenticator.authenticate(credentials), ra.authenticator.costly?.(credentials) ?? true),
      logError: options.logError ?? (() => undefined),
      enterSigning: (response) => (response.locals.admission as Admission).enterSigning(),
    };
    app.use(
      '/acme/:ra',
      async (request, response, next) => {
        response.locals.admission = await admit(request.ip ?? '', request, response);
        next();
      },
      // Loaded only when an RA serves ACME: the router and its validation (with @peculiar/x509)
      // are a fifth of what a `serve` start evaluates.
      (require('../acme/router') as typeof import('../acme/router')).acmeRouter(door, (name) => options.runtime().registrationAuthorities.get(name)),
    );
  }

  app.use((_request, _response, next) => next(new HttpError(404, 'not_found', 'no such resource')));
  /** Says what went wrong, counts and logs it: the one way every route answers an error. */
  const describeFailure = (error: unknown, outcome: RequestOutcome): ErrorBody => {
    const described = describeError(error);
    if (described.status >= 500 && described.status !== 503) options.logError?.(error);
    outcome.errorCode = described.error;
    outcome.reasons = described.reasons;
    if (error instanceof RateLimitError) metrics.limited(error.limit);
    else if (described.error === 'overloaded') metrics.limited('concurrency');
    return described;
  };
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const described = describeFailure(error, response.locals as RequestOutcome);
    const answer = errorAnswer(described, wantsJson(request));
    response.status(described.status).set(described.headers).type(answer.type).send(answer.body);
  });

  /**
   * POST /v1/sign/<ra> without Express, for the requests nearly every client sends (a UTF-8 form or
   * JSON body, an Accept of JSON, text or anything, no proxy to believe), to the RA named: the same
   * headers, limits, stages, answers, errors and log line as the Express route, without Express's
   * per-request cost. Every other request, to this route too, is Express's.
   */
  const leanSign = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'POST' || trustsProxies) return false;
    const match = SIGN_PATH.exec(request.url ?? '');
    if (!match) return false;
    let name: string;
    try {
      name = decodeURIComponent(match[1]);
    } catch {
      return false;
    }
    const kind = leanBodyKind(request);
    const json = kind && acceptsJson(request.headers.accept, kind);
    if (!kind || json === undefined) return false;
    const ra = options.runtime().registrationAuthorities.get(name);
    if (!ra) return false;
    void signLean(ra, kind, json, request, response);
    return true;
  };
  const signLean = async (ra: RegistrationAuthority, kind: SignBodyKind, json: boolean, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    for (const [name, value] of leanSecurityHeaders) response.setHeader(name, value);
    response.setHeader('Cache-Control', 'no-store');
    const outcome: RequestOutcome = { raName: ra.name };
    // Express's request.ip when no proxy is believed.
    const source = request.socket.remoteAddress ?? '';
    logRequest(logger, metrics, request, response, { outcome: () => outcome, route: () => SIGN_ROUTE, source: () => source });
    const fail = (error: unknown) => {
      const described = describeFailure(error, outcome);
      const answer = errorAnswer(described, json);
      sendAnswer(response, described.status, described.headers, answer.type, answer.body);
    };
    const sign = async (admission: Admission, body: unknown) => {
      const issued = await signCertificate(ra, ledger, admission, metrics, readSignFields(request, kind, body), signProtocol(kind));
      outcome.serial = issued.serialNumber;
      const answer = signAnswer(ra, issued, json);
      sendAnswer(response, 200, {}, answer.type, answer.body);
    };
    try {
      const admission = await admit(source, request, response);
      readLeanBody(request, kind, bodyLimit, limits.options.bodyTimeoutMs, (error, body) => (error === undefined ? sign(admission, body).catch(fail) : fail(error)));
    } catch (error) {
      fail(error);
    }
  };
  return (request, response) => {
    if (!leanSign(request, response)) app(request, response);
  };
}

/**
 * The headers a middleware sets on every response, found once by running it on a recorder: helmet's
 * options here are fixed, so its headers are too, and the short way sets them without its chain of
 * middleware functions on every request.
 */
function headersSetBy(middleware: (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void): readonly (readonly [string, string])[] {
  const headers: [string, string][] = [];
  const recorder = { setHeader: (name: string, value: string) => headers.push([name, value]), removeHeader: () => undefined };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  return headers;
}

/** The sign route's path (any case, an optional trailing slash and query, as Express matches it). */
const SIGN_PATH = /^\/v1\/sign\/([^/?#]+)\/?(?:\?.*)?$/i;

/**
 * wantsJson for the Accept headers clients send (none, anything, JSON, text), or undefined for the
 * rest, which Express's content negotiation answers.
 */
function acceptsJson(accept: string | undefined, kind: SignBodyKind): boolean | undefined {
  const wanted = accept?.trim();
  if (wanted === undefined || wanted === '' || wanted === '*/*') return kind === 'json';
  if (wanted === 'application/json') return true;
  if (wanted === 'text/plain') return false;
  return undefined;
}

/** An error's body: JSON, or its message and reasons as text. */
function errorAnswer(described: ErrorBody, json: boolean): { readonly type: 'text/plain' | 'application/json'; readonly body: string } {
  if (json) return { type: 'application/json', body: JSON.stringify({ error: described.error, message: described.message, reasons: described.reasons }) };
  const reasons = described.reasons.map((r) => `\n- ${r.validator}: ${r.reason}`).join('');
  return { type: 'text/plain', body: `${described.message}${reasons}\n` };
}

/** Writes a whole answer as Express's send does for a string (UTF-8, with its length). */
function sendAnswer(response: ServerResponse, status: number, headers: Readonly<Record<string, string>>, type: string, body: string): void {
  if (response.headersSent) return void response.destroy();
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader('Content-Type', `${type}; charset=utf-8`);
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(body);
}

function methodNotAllowed(allow: string) {
  return (_request: Request, _response: Response, next: NextFunction) => {
    next(new HttpError(405, 'method_not_allowed', `method not allowed; use ${allow}`, { Allow: allow }));
  };
}
