import express, { type Request, type Response, type Router } from 'express';
import type { RegistrationAuthority } from '../ra/registration_authority';
import { authFailureEvent } from '../audit/events';
import { describeError } from '../http/errors';
import { headerCredentials } from '../http/sign_request';
import { changeKey, newAccount, updateAccount, type AcmeAnswer } from './accounts';
import { authorizationRequest, challengeRequest } from './authorizations';
import { downloadCertificate, renewalInfo, revokeCertificate } from './certificates';
import type { AcmeContext, AcmeDoor, VerifiedRequest } from './context';
import { createEabKey } from './eab';
import { importJwk } from './jwk';
import { headerKey, parseJws, verifyJws } from './jws';
import { finalizeOrder, getOrder, listOrders, newOrder } from './orders';
import { AcmeProblem, type ProblemType } from './problems';
import { AcmeUrls } from './urls';

/** How often expired nonces and orders are swept, at most (on the back of a request, not a timer). */
const CLEANUP_INTERVAL_MS = 60_000;
const JWS_BODY_LIMIT = 64 * 1024;

/**
 * The ACME server (RFC 8555) of every RA with an `acme:` profile, mounted at /acme/<ra>. Each POST is
 * a JWS whose url, nonce and key are checked here before any handler runs.
 */
export function acmeRouter(door: AcmeDoor, registrationAuthority: (name: string) => RegistrationAuthority | undefined): Router {
  const router = express.Router({ mergeParams: true });
  let lastCleanup = 0;
  const contextOf = (request: Request, response: Response): AcmeContext => {
    if (response.locals.acme) return response.locals.acme as AcmeContext;
    const name = String(request.params.ra);
    const ra = registrationAuthority(name);
    if (!ra?.acme) throw new AcmeProblem('malformed', `no ACME directory for ${JSON.stringify(name.slice(0, 64))}`).withStatus(404);
    const origin = `${request.protocol}://${request.get('host') ?? 'localhost'}`;
    const context: AcmeContext = { door, ra, acme: ra.acme, urls: new AcmeUrls(`${origin}/acme/${encodeURIComponent(ra.name)}`), source: request.ip ?? '', enterSigning: () => door.enterSigning(response) };
    response.locals.acme = context;
    if (Date.now() - lastCleanup > CLEANUP_INTERVAL_MS) {
      lastCleanup = Date.now();
      void door.store.cleanup(new Date()).catch(door.logError);
    }
    return context;
  };

  /** Checks the JWS: its url is this request's, its nonce fresh, its key the account's (kid) or its own (jwk). */
  const verified = async (request: Request, context: AcmeContext, mode: 'jwk' | 'kid' | 'either'): Promise<VerifiedRequest> => {
    const jws = parseJws(request.body);
    const url = `${context.urls.base.slice(0, context.urls.base.indexOf('/acme/'))}${request.originalUrl}`;
    if (jws.header.url !== url) throw new AcmeProblem('unauthorized', `the JWS url ${JSON.stringify(jws.header.url.slice(0, 200))} is not this request's URL`);
    await door.nonces.consume(jws.header.nonce!);
    if (jws.header.kid === undefined) {
      if (mode === 'kid') throw new AcmeProblem('malformed', 'this request must be signed by an account (kid), not a jwk');
      const key = headerKey(jws);
      verifyJws(jws, key);
      return { jws, key, url };
    }
    if (mode === 'jwk') throw new AcmeProblem('malformed', 'this request must carry the key as jwk, not kid');
    const id = context.urls.accountIdOf(jws.header.kid);
    const account = id ? await door.store.get('account', id) : undefined;
    if (!account || account.ra !== context.ra.name) throw new AcmeProblem('accountDoesNotExist', 'kid names no account of this RA');
    if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
    const key = importJwk(account.jwk);
    verifyJws(jws, key);
    return { jws, key, account, url };
  };

  const send = async (response: Response, context: AcmeContext, answer: AcmeAnswer): Promise<void> => {
    response.set('Replay-Nonce', await door.nonces.issue());
    response.set('Link', [answer.headers?.Link, `<${context.urls.directory}>;rel="index"`].filter(Boolean).join(', '));
    for (const [name, value] of Object.entries(answer.headers ?? {})) if (name !== 'Link') response.set(name, value);
    response.status(answer.status);
    if (answer.body === undefined) response.end();
    else response.json(answer.body);
  };

  const post = (path: string, mode: 'jwk' | 'kid' | 'either', handle: (context: AcmeContext, request: VerifiedRequest, params: Record<string, string>) => Promise<AcmeAnswer>) => {
    router.post(path, async (request, response) => {
      const context = contextOf(request, response);
      await send(response, context, await handle(context, await verified(request, context, mode), request.params as Record<string, string>));
    });
  };

  router.use(express.json({ type: ['application/jose+json', 'application/json'], limit: JWS_BODY_LIMIT }));

  router.get('/directory', async (request, response) => {
    const context = contextOf(request, response);
    const { urls } = context;
    response.json({
      newNonce: urls.newNonce,
      newAccount: urls.newAccount,
      newOrder: urls.newOrder,
      revokeCert: urls.revokeCert,
      keyChange: urls.keyChange,
      renewalInfo: urls.renewalInfo,
      meta: { externalAccountRequired: context.acme.registration === 'eab', profiles: { [context.ra.name]: `Mayfly RA ${context.ra.name}: certificates for ${Math.round(context.ra.profile.validityMs / 60_000)} minutes` } },
    });
  });
  router.get('/new-nonce', async (request, response) => {
    contextOf(request, response);
    response.set('Replay-Nonce', await door.nonces.issue());
    // RFC 8555 7.2: HEAD answers 200, GET 204.
    response.status(request.method === 'HEAD' ? 200 : 204).end();
  });
  router.get('/renewal-info/:certId', async (request, response) => {
    const context = contextOf(request, response);
    await send(response, context, await renewalInfo(context, String(request.params.certId)));
  });
  router.post('/eab', async (request, response) => {
    const context = contextOf(request, response);
    if (context.acme.registration !== 'eab') throw new AcmeProblem('malformed', 'this RA takes open registration; no external account binding is needed').withStatus(404);
    const requester = await door.authenticate(response, context.ra, headerCredentials(request));
    if (!requester) {
      await door.ledger.append(authFailureEvent({ ra: context.ra.name, source: context.source, protocol: 'acme' }, undefined));
      throw new AcmeProblem('unauthorized', 'authenticate as for /v1/sign (HTTP Basic or a bearer token) to get an EAB key');
    }
    await send(response, context, await createEabKey(context, requester));
  });

  post('/new-account', 'jwk', (context, request) => newAccount(context, request));
  post('/account/:id', 'kid', (context, request, params) => updateAccount(context, request, params.id));
  post('/account/:id/orders', 'kid', (context, request) => listOrders(context, request));
  post('/key-change', 'kid', (context, request) => changeKey(context, request));
  post('/new-order', 'kid', (context, request) => newOrder(context, request));
  post('/order/:id', 'kid', (context, request, params) => getOrder(context, request, params.id));
  post('/order/:id/finalize', 'kid', (context, request, params) => finalizeOrder(context, request, params.id));
  post('/authz/:id', 'kid', (context, request, params) => authorizationRequest(context, request, params.id));
  post('/chall/:authz/:id', 'kid', (context, request, params) => challengeRequest(context, request, params.authz, params.id));
  post('/revoke-cert', 'either', (context, request) => revokeCertificate(context, request));
  router.post('/cert/:id{/:alt}', async (request, response) => {
    const context = contextOf(request, response);
    const verifiedRequest = await verified(request, context, 'kid');
    const alternate = request.params.alt === undefined ? 0 : Number(request.params.alt);
    if (!Number.isInteger(alternate) || alternate < 0) throw new AcmeProblem('malformed', 'no such alternate chain').withStatus(404);
    const answer = await downloadCertificate(context, verifiedRequest, String(request.params.id), alternate);
    response.set('Replay-Nonce', await door.nonces.issue());
    response.set('Link', [answer.headers?.Link, `<${context.urls.directory}>;rel="index"`].filter(Boolean).join(', '));
    response.status(200).set('Content-Type', 'application/pem-certificate-chain').send(Buffer.from(answer.pem));
  });

  router.use((request: Request, _response: Response, next: (error?: unknown) => void) => next(new AcmeProblem('malformed', `no ACME resource ${request.method} ${request.path.slice(0, 100)}`).withStatus(request.method === 'POST' || request.method === 'GET' ? 404 : 405)));
  router.use(async (error: unknown, _request: Request, response: Response, _next: (error?: unknown) => void) => {
    const problem = error instanceof AcmeProblem ? error : fromOtherError(error, door.logError);
    response.status(problem.status);
    for (const [name, value] of Object.entries(problem.headers)) response.set(name, value);
    // A client that gets badNonce retries with this one (RFC 8555 6.5).
    response.set('Replay-Nonce', await door.nonces.issue().catch(() => ''));
    response.type('application/problem+json').send(JSON.stringify(problem.document()));
  });
  return router;
}

/** Errors of the other stages, as problem documents; the status is the one errors.ts gives them. */
function fromOtherError(error: unknown, logError: (error: unknown) => void): AcmeProblem {
  const described = describeError(error);
  if (described.status >= 500 && described.status !== 503) logError(error);
  const type: ProblemType = described.status === 429 ? 'rateLimited' : described.status >= 500 ? 'serverInternal' : 'malformed';
  return new AcmeProblem(type, described.message, [], described.headers).withStatus(described.status);
}
