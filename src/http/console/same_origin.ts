import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../errors';

/**
 * CSRF defence for the console's POSTs, beside the SameSite=Strict cookie: a browser names the page
 * that sent a request in Origin (every POST, RFC 6454 7.3 and the Fetch standard), and only the
 * console's own origin may change anything. A POST without Origin is refused too: no browser sends one.
 */
export function requireSameOrigin(request: Request, _response: Response, next: NextFunction): void {
  const origin = request.headers.origin;
  if (origin === undefined || origin !== `${request.protocol}://${request.headers.host ?? ''}`) {
    throw new HttpError(403, 'cross_origin', 'this form may only be sent from the console itself');
  }
  next();
}
