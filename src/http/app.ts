import express, { type NextFunction, type Request, type Response } from 'express';
import type { Runtime } from '../config/assemble';
import type { RegistrationAuthority } from '../ra/registration_authority';
import { describeError, HttpError } from './errors';
import { wantsJson } from './negotiate';
import { disabledLedger, type Ledger } from '../audit/ledger';
import type { AuditReader } from '../audit/store';
import helmet from 'helmet';
import { RateLimitError, RequestLimits, type Admission, type LimitOptions } from './limits';
import { listAudit } from './routes/audit';
import { consoleRouter, type ProveRecord } from './console/router';
import { signCertificate } from './routes/sign';
import { claimedIdentity, signRequestParsers } from './sign_request';
import pino, { type Logger } from 'pino';
import { MayflyMetrics } from './metrics';
import { Readiness } from './readiness';
import { requestLog, type RequestOutcome } from './request_log';
import { mountOpsRoutes } from './routes/ops';
import { certificatePem } from '../pem';
import { acmeRouter } from '../acme/router';
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
  /** Proves a certificate's record for the console's record page (GET /v1/audit/proof/<serial>'s answer). */
  readonly proveRecord?: ProveRecord;
  /** ACME's state (accounts, orders, nonces); ACME is served only with one. */
  readonly acmeStore?: AcmeStore;
}

const DEFAULT_BODY_LIMIT = 64 * 1024;

/** The HTTP API: Anchor's routes and their JSON twins. Only speaks HTTP; the stages decide. */
export function createApp(options: AppOptions): express.Express {
  const app = express();
  const limits = new RequestLimits(options.limits);
  const ledger = options.ledger ?? disabledLedger;
  const metrics = options.metrics ?? new MayflyMetrics(options.runtime);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // request.ip is the socket's address unless the socket is a trusted proxy.
  app.set('trust proxy', options.trustedProxies && options.trustedProxies.length > 0 ? [...options.trustedProxies] : false);
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
  app.use((_request, response, next) => {
    response.set('Cache-Control', 'no-store');
    next();
  });
  app.use(requestLog(options.logger ?? pino({ enabled: false }), metrics));
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
      response.json({ chain: ra.signingCa.chain.map(certificatePem), previous_chains: ra.signingCa.previousChains.map((previous) => previous.pems) });
    } else response.type('text/plain').send(ra.signingCa.servedChainPem);
  });
  app.all('/v1/ca/:ra', methodNotAllowed('GET, HEAD'));

  // Held until the answer is sent, or the client leaves. A pipelined request whose connection dies
  // before its turn to be answered never sees its response close (Node), so the connection's own
  // close lets go of it too: otherwise each such request would keep its places for good.
  const admit = async (request: Request, response: Response): Promise<Admission> => {
    const admission = await limits.admitSource(request.ip ?? '');
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
    await listAudit(options.runtime(), options.auditReader, await admit(request, response), request, response);
  });
  app.all('/v1/audit', methodNotAllowed('GET, HEAD'));
  app.use(consoleRouter({ runtime: options.runtime, ...(options.auditReader ? { auditReader: options.auditReader } : {}), ...(options.proveRecord ? { proveRecord: options.proveRecord } : {}), admit }));

  app.post(
    '/v1/sign/:ra',
    async (request, response, next) => {
      signState(response).ra = registrationAuthority(request, response); // 404 before reading a body meant for nobody
      // Rates and the cap on unauthenticated requests are fast 429s here, before the body is read.
      signState(response).admission = await admit(request, response);
      next();
    },
    signRequestParsers(options.bodyLimit ?? DEFAULT_BODY_LIMIT, limits.options.bodyTimeoutMs),
    (request, response) => signCertificate(signState(response).ra, ledger, signState(response).admission, metrics, request, response),
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
        response.locals.admission = await admit(request, response);
        next();
      },
      acmeRouter(door, (name) => options.runtime().registrationAuthorities.get(name)),
    );
  }

  app.use((_request, _response, next) => next(new HttpError(404, 'not_found', 'no such resource')));
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const described = describeError(error);
    if (described.status >= 500 && described.status !== 503) options.logError?.(error);
    const outcome = response.locals as RequestOutcome;
    outcome.errorCode = described.error;
    outcome.reasons = described.reasons;
    if (error instanceof RateLimitError) metrics.limited(error.limit);
    else if (described.error === 'overloaded') metrics.limited('concurrency');
    response.status(described.status).set(described.headers);
    if (wantsJson(request)) {
      response.json({ error: described.error, message: described.message, reasons: described.reasons });
    } else {
      const reasons = described.reasons.map((r) => `\n- ${r.validator}: ${r.reason}`).join('');
      response.type('text/plain').send(`${described.message}${reasons}\n`);
    }
  });
  return app;
}

function methodNotAllowed(allow: string) {
  return (_request: Request, _response: Response, next: NextFunction) => {
    next(new HttpError(405, 'method_not_allowed', `method not allowed; use ${allow}`, { Allow: allow }));
  };
}
