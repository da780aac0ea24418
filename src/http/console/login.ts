import type { NextFunction, Request, Response } from 'express';
import type { Credentials } from '../../auth/authenticator';
import type { Runtime } from '../../config/assemble';
import type { Requester } from '../../types';
import { authenticateAuditAdmin } from '../audit_admin';
import { headerCredentials } from '../sign_request';
import { HttpError } from '../errors';
import type { Admission } from '../limits';
import { html, queryString } from './html';
import { page } from './layout';
import { clearedSessionCookie, sessionCookie, sessionIdFrom, type ConsoleSession, type SessionStore } from './session';

export interface SignIn {
  readonly runtime: () => Runtime;
  readonly sessions: SessionStore;
  /** The API's admission: the same caps and back-off for a console sign-in as for a sign request. */
  readonly admit: (request: Request, response: Response) => Promise<Admission>;
}

const FORBIDDEN = 'the console is for members of an audit admin group (audit_admin_groups)';

/** Where to go after signing in: a console page, never another site (`//evil.example` is not a path here). */
const returnPath = (value: unknown): string => (typeof value === 'string' && /^\/ui\/[^\\]*$/.test(value) && !value.startsWith('//') ? value : '/ui/');

export const sessionOf = (response: Response): ConsoleSession => response.locals.consoleSession as ConsoleSession;

function loginPage(next: string, failure?: string): string {
  return page(
    { title: 'Sign in' },
    html`${failure ? html`<p class="error" role="alert">${failure}</p>` : ''}
<form method="post" action="/ui/login" class="login">
<input type="hidden" name="next" value="${next}">
<fieldset>
<legend>User and secret (static or LDAP)</legend>
<label for="user">User</label> <input id="user" name="user" autocomplete="username">
<label for="secret">Secret</label> <input id="secret" name="secret" type="password" autocomplete="current-password">
</fieldset>
<fieldset>
<legend>Or a bearer token</legend>
<label for="token">Token</label> <input id="token" name="token" type="password" autocomplete="off">
</fieldset>
<button type="submit">Sign in</button>
</form>
<p>With a client certificate from an mtls entry, open the console over HTTPS and you are signed in without this form.</p>`,
  );
}

/** GET /ui/login */
export function showLogin(request: Request, response: Response): void {
  response.type('html').send(loginPage(returnPath(request.query.next)));
}

/** Starts a session for an audit admin; the response carries its cookie. */
function startSession(sign: SignIn, requester: Requester, request: Request, response: Response): ConsoleSession {
  const session = sign.sessions.create(requester);
  response.set('Set-Cookie', sessionCookie(session.id, request.secure));
  return session;
}

/** POST /ui/login: the form's credentials, checked as the API checks them; a failure says only that it failed. */
export async function submitLogin(sign: SignIn, admission: Admission, request: Request, response: Response): Promise<void> {
  const form = (request.body ?? {}) as Record<string, unknown>;
  const field = (name: string): string | undefined => (typeof form[name] === 'string' && form[name] !== '' ? (form[name] as string) : undefined);
  const next = returnPath(form.next);
  const token = field('token');
  const credentials: Credentials = token !== undefined ? { bearer: token } : { user: field('user') ?? '', secret: field('secret') ?? '' };
  const admin = await authenticateAuditAdmin(sign.runtime(), admission, credentials);
  if (admin === undefined) {
    response.status(401).type('html').send(loginPage(next, 'Sign-in failed.'));
    return;
  }
  if (admin === 'forbidden') throw new HttpError(403, 'forbidden', FORBIDDEN);
  startSession(sign, admin, request, response);
  response.redirect(303, next);
}

/** POST /ui/logout */
export function submitLogout(sign: SignIn, request: Request, response: Response): void {
  sign.sessions.end(sessionIdFrom(request.headers.cookie));
  response.set('Set-Cookie', clearedSessionCookie(request.secure));
  response.redirect(303, '/ui/login');
}

/**
 * Lets a request on only with an audit admin's session. A browser presenting a client certificate
 * is signed in by it (mtls entries); anyone else without a session is sent to the sign-in form,
 * and a requester who is not an audit admin gets a 403.
 */
export function requireAdmin(sign: SignIn) {
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const session = sign.sessions.find(sessionIdFrom(request.headers.cookie));
    if (session) {
      response.locals.consoleSession = session;
      return next();
    }
    const clientCertificates = headerCredentials(request).clientCertificates;
    if (clientCertificates) {
      const admin = await authenticateAuditAdmin(sign.runtime(), await sign.admit(request, response), { clientCertificates });
      if (admin === 'forbidden') throw new HttpError(403, 'forbidden', FORBIDDEN);
      if (admin !== undefined) {
        response.locals.consoleSession = startSession(sign, admin, request, response);
        return next();
      }
    }
    response.redirect(303, `/ui/login${queryString({ next: request.method === 'GET' ? request.originalUrl : undefined })}`);
  };
}
