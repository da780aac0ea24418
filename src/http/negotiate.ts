import type { Request } from 'express';

/**
 * Whether to answer in JSON: when the client prefers it in Accept, or sent JSON and accepts
 * anything. Anchor's clients send forms and get plain text, as they always did.
 */
export function wantsJson(request: Request): boolean {
  const preferred = request.accepts(['text/plain', 'application/json']);
  if (preferred === false) return false;
  const accept = request.headers.accept;
  const explicit = accept !== undefined && accept.trim() !== '' && accept.trim() !== '*/*';
  return explicit ? preferred === 'application/json' : request.is('application/json') === 'application/json';
}
