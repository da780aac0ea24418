import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { MayflyMetrics } from './metrics';

/** What a route leaves in response.locals for the request's log line and metrics. */
export interface RequestOutcome {
  /** The RA asked for, once it is known to exist (never a name a client made up). */
  raName?: string;
  serial?: string;
  /** The error code answered (policy_refused, authentication_failed, …). */
  errorCode?: string;
  /** Validators that refused, with their reasons. */
  reasons?: readonly { readonly validator: string; readonly reason: string }[];
}

const OPS_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
const CLIENT_REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * One log line and one count per request, when its answer has been sent: id, route, RA, status,
 * outcome, serial or reasons, duration. Headers and bodies are never logged: they carry secrets
 * and CSRs.
 */
export function requestLog(logger: Logger, metrics: MayflyMetrics) {
  return (request: Request, response: Response, next: NextFunction): void => {
    logRequest(logger, metrics, request, response, {
      outcome: () => response.locals as RequestOutcome,
      route: () => (request.route as { path?: string } | undefined)?.path ?? 'unmatched',
      source: () => request.ip,
    });
    next();
  };
}

/** What the log line says of a request that only its router knows. */
export interface RequestFacts {
  readonly outcome: () => RequestOutcome;
  readonly route: () => string;
  readonly source: () => string | undefined;
}

/** Gives the request its id (X-Request-Id) and logs and counts it once its answer has been sent. */
export function logRequest(logger: Logger, metrics: MayflyMetrics, request: IncomingMessage, response: ServerResponse, facts: RequestFacts): void {
  const started = performance.now();
  const sent = request.headers['x-request-id'];
  const id = typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : randomUUID();
  response.setHeader('X-Request-Id', id);
  // 'close' comes for every request, also one whose client left before the answer ('finish' only then).
  response.once('close', () => {
    const outcome = facts.outcome();
    const route = facts.route();
    const result = !response.writableFinished ? 'aborted' : response.statusCode < 400 ? 'ok' : (outcome.errorCode ?? String(response.statusCode));
    metrics.request(outcome.raName ?? '', route, result);
    // Probes and scrapes come every few seconds: worth a line only when debugging.
    const level = OPS_ROUTES.has(route) && response.statusCode < 400 ? 'debug' : 'info';
    logger[level](
      {
        request_id: id,
        method: request.method,
        route,
        ...(outcome.raName ? { ra: outcome.raName } : {}),
        status: response.writableFinished ? response.statusCode : null,
        outcome: result,
        ...(outcome.serial ? { serial: outcome.serial } : {}),
        ...(outcome.reasons?.length ? { reasons: outcome.reasons } : {}),
        source: facts.source(),
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      },
      'request',
    );
  });
}
