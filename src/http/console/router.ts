import express, { type NextFunction, type Request, type Response } from 'express';
import type { AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { describeError, HttpError } from '../errors';
import type { Admission } from '../limits';
import { wantsJson } from '../negotiate';
import { serveAsset } from './assets';
import { showDryRun, submitDryRun } from './dry_run';
import { html } from './html';
import { page } from './layout';
import { requireAdmin, sessionOf, showLogin, submitLogin, submitLogout, type SignIn } from './login';
import { showOverview } from './overview';
import { showRecord } from './record';
import { requireSameOrigin } from './same_origin';
import { search } from './search';
import { SessionStore } from './session';

export interface ConsoleOptions {
  readonly runtime: () => Runtime;
  /** Absent when the ledger is disabled: the console then says so on every page. */
  readonly auditReader?: AuditReader;
  /** Where `mayfly audit verify` records its last result on this host (the overview shows it). */
  readonly verifyResultFile?: string;
  readonly admit: (request: Request, response: Response) => Promise<Admission>;
  readonly sessions?: SessionStore;
  /** The record proof GET /v1/audit/proof/<serial> answers, for the record page's check; absent without an audit public key. */
  readonly proveRecord?: ProveRecord;
}

/**
 * A certificate's record with its inclusion proof and the checkpoint it leads to (contracts.md: the
 * JSON of GET /v1/audit/proof/<serial>, routes/audit.ts recordProof): 400, 404 and 409 as that route.
 */
export type ProveRecord = (serial: string) => Promise<object>;

/**
 * Scripts and styles only from /ui/assets/ (none inline, none from elsewhere), forms only to the
 * console, no framing, no plugins: an injected tag could neither run nor send anything away.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const FORM_BODY = express.urlencoded({ extended: false, limit: '96kb', parameterLimit: 16 });

/** The audit console under /ui/: server-rendered pages for audit admins, signed in like the API. */
export function consoleRouter(options: ConsoleOptions): express.Router {
  const router = express.Router({ strict: true });
  const sign: SignIn = { runtime: options.runtime, sessions: options.sessions ?? new SessionStore(), admit: options.admit };
  const reader = (): AuditReader => {
    if (!options.auditReader) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
    return options.auditReader;
  };
  router.use('/ui', (_request, response, next) => {
    response.set('Content-Security-Policy', CONSOLE_CSP);
    response.set('Referrer-Policy', 'same-origin');
    next();
  });
  router.get('/ui', (_request, response) => response.redirect(301, '/ui/'));
  router.get('/ui/assets/:file', serveAsset);
  router.get('/ui/login', showLogin);
  // Admitted before the form is read, as a sign request is: an address's unauthenticated places cover the wait for the body too.
  router.post('/ui/login', requireSameOrigin, async (request, response, next) => {
    response.locals.admission = await options.admit(request, response);
    next();
  }, FORM_BODY, (request, response) => submitLogin(sign, response.locals.admission as Admission, request, response));
  router.post('/ui/logout', requireSameOrigin, (request, response) => submitLogout(sign, request, response));

  const admin = requireAdmin(sign);
  router.get('/ui/', admin, (request, response) => showOverview(reader(), options.verifyResultFile, request, response));
  router.get('/ui/search', admin, (request, response) => search(options.runtime(), reader(), request, response));
  router.get('/ui/record/:chain/:seq', admin, (request, response) => showRecord(reader(), request, response));
  router.get('/ui/proof/:serial', admin, async (request, response) => {
    if (!options.proveRecord) throw new HttpError(404, 'no_proofs', 'this ledger serves no inclusion proofs');
    response.json(await options.proveRecord(String(request.params.serial)));
  });
  router.get('/ui/dry-run', admin, (request, response) => showDryRun(options.runtime(), request, response));
  router.post('/ui/dry-run', requireSameOrigin, admin, FORM_BODY, (request, response) => submitDryRun(options.runtime(), request, response));
  router.use('/ui', (_request, _response, next) => next(new HttpError(404, 'not_found', 'no such page')));
  router.use('/ui', consoleErrorPage);
  return router;
}

/** An error inside the console is a page (the API's error handler answers in text or JSON). */
function consoleErrorPage(error: unknown, request: Request, response: Response, next: NextFunction): void {
  const described = describeError(error);
  // A 500 is logged by the app's handler; the page's script (proof.js) asks for JSON, which that handler answers too.
  if (described.status >= 500 || wantsJson(request)) return next(error);
  const session = response.locals.consoleSession as ReturnType<typeof sessionOf> | undefined;
  response
    .status(described.status)
    .set(described.headers)
    .type('html')
    .send(page({ title: described.status === 403 ? 'Forbidden' : described.status === 404 ? 'Not found' : 'Cannot do that', ...(session ? { session } : {}) }, html`<p class="error" role="alert">${described.message}</p>${session ? '' : html`<p><a href="/ui/login">Sign in</a></p>`}`));
}
