import { X509Certificate } from 'node:crypto';
import { AuthenticationFailedError, ClientUsageError, PolicyRefusedError, ServerError, TrustError, type RefusalReason } from './errors';
import { httpsExchange, type HttpsAnswer, type TlsSettings } from './https_transport';
import { parseCertificates, TrustAnchors } from './trust';

/** How the client proves who it is: Anchor's user and secret, a bearer token, or a client certificate. */
export type ClientCredentials =
  | { readonly kind: 'static'; readonly user: string; readonly secret: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'mtls'; readonly cert: string; readonly key: string };

/** A root given as a file, or only as a fingerprint to be pinned from the server's chain. */
export type TrustSource = { readonly kind: 'anchors'; readonly anchors: TrustAnchors } | { readonly kind: 'fingerprint'; readonly fingerprint: string };

/** The server's answer to a sign request, parsed but not yet believed. */
export interface SignAnswer {
  readonly certificate: X509Certificate;
  readonly certificatePem: string;
  /** What the server sent as the issuing chain (issuing certificate first, maybe the root last). */
  readonly chain: readonly X509Certificate[];
}

/**
 * The Mayfly API as a client sees it: GET /v1/ca/<ra> and POST /v1/sign/<ra>, each answer turned
 * into a value or one of the typed errors in errors.ts. Credentials only ever travel over a
 * connection verified against the trusted root.
 */
export class CaClient {
  private anchors: TrustAnchors | undefined;
  private pinning: Promise<TrustAnchors> | undefined;

  constructor(
    readonly server: URL,
    private readonly trust: TrustSource,
    private readonly timeoutMs: number = 30_000,
  ) {
    if (server.protocol !== 'https:') throw new ClientUsageError(`the server URL must be https:// (credentials never travel in clear): ${server.href}`);
    // Node would send user:password from the URL as Basic authentication, even on the pinning request.
    if (server.username || server.password) throw new ClientUsageError('the server URL must not hold a user name or password; give credentials with --user/--secret-env or the config');
    if (trust.kind === 'anchors') this.anchors = trust.anchors;
  }

  /** The roots to trust; with a fingerprint, read once from `ra`'s public chain and pinned. */
  async trustAnchors(ra: string): Promise<TrustAnchors> {
    if (this.anchors) return this.anchors;
    const fingerprint = this.trust.kind === 'fingerprint' ? this.trust.fingerprint : undefined;
    if (fingerprint === undefined) throw new TrustError('no trusted root');
    // Certificates renewed at the same moment share one bootstrap; a failed one is tried again next time.
    this.pinning ??= this.pin(ra, fingerprint).finally(() => (this.pinning = undefined));
    return this.pinning;
  }

  private async pin(ra: string, fingerprint: string): Promise<TrustAnchors> {
    // Unverified on purpose, and the only such request: it carries nothing secret, and its answer is
    // believed only for the certificate whose hash the operator gave.
    const answer = await httpsExchange(this.url(`v1/ca/${encodeURIComponent(ra)}`), { method: 'GET', headers: { Accept: 'text/plain' }, tls: { verify: false }, timeoutMs: this.timeoutMs });
    if (answer.status !== 200) throw answerError(answer, ra);
    this.anchors = TrustAnchors.pinByFingerprint(answer.body, fingerprint, `${this.server.origin}/v1/ca/${ra}`);
    return this.anchors;
  }

  /** Submits a CSR; the answer's certificate is parsed, not yet checked against key or root. */
  async sign(ra: string, csrPem: string, credentials: ClientCredentials): Promise<SignAnswer> {
    const anchors = await this.trustAnchors(ra);
    const tls: TlsSettings = {
      verify: true,
      ca: anchors.pem,
      ...(credentials.kind === 'mtls' ? { clientCertificate: { cert: credentials.cert, key: credentials.key } } : {}),
    };
    const answer = await httpsExchange(this.url(`v1/sign/${encodeURIComponent(ra)}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authorization(credentials) },
      body: JSON.stringify({ csr: csrPem }),
      tls,
      timeoutMs: this.timeoutMs,
    });
    if (answer.status !== 200) throw answerError(answer, ra);
    const body = parseJson(answer.body) as { certificate?: unknown; chain?: unknown } | undefined;
    if (typeof body?.certificate !== 'string' || !Array.isArray(body.chain) || !body.chain.every((pem) => typeof pem === 'string')) {
      throw new ServerError('the server answered 200 without a certificate and chain');
    }
    try {
      const [certificate] = parseCertificates(body.certificate, 'the answer');
      if (!certificate) throw new Error('no certificate');
      return { certificate, certificatePem: certificate.toString(), chain: body.chain.flatMap((pem: string) => parseCertificates(pem, 'the answer\'s chain')) };
    } catch {
      // An unreadable answer is the server's fault (exit 6, retried), not a failure of trust.
      throw new ServerError('the server answered 200 with a certificate that cannot be parsed');
    }
  }

  private url(path: string): URL {
    // Keeps any path prefix of the server URL (a Mayfly behind a proxy at /mayfly/).
    const base = this.server.href.endsWith('/') ? this.server.href : `${this.server.href}/`;
    return new URL(path, base);
  }
}

function authorization(credentials: ClientCredentials): Record<string, string> {
  if (credentials.kind === 'static') return { Authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.secret}`, 'utf8').toString('base64')}` };
  if (credentials.kind === 'token') return { Authorization: `Bearer ${credentials.token}` };
  return {};
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A non-200 answer as one of the typed errors; the server's own message is kept. */
function answerError(answer: HttpsAnswer, ra: string): Error {
  const body = parseJson(answer.body) as { error?: unknown; message?: unknown; reasons?: unknown } | undefined;
  const message = typeof body?.message === 'string' ? body.message : answer.body.trim().split('\n')[0]?.slice(0, 200) || `HTTP ${answer.status}`;
  if (answer.status === 401) return new AuthenticationFailedError(`authentication failed at RA ${ra}: the server does not accept these credentials`);
  if (answer.status === 403 && body?.error === 'policy_refused') {
    const reasons: RefusalReason[] = Array.isArray(body.reasons)
      ? body.reasons.filter((r): r is RefusalReason => typeof r?.validator === 'string' && typeof r?.reason === 'string').map(({ validator, reason }) => ({ validator, reason }))
      : [];
    return new PolicyRefusedError(reasons);
  }
  if (answer.status === 404) return new ClientUsageError(`the server has no registration authority ${JSON.stringify(ra)}: check --ra (the RA's name in the server's config)`);
  return new ServerError(`the server answered ${answer.status}: ${message}`, answer.status, retryAfterMs(answer.headers['retry-after']));
}

/** Retry-After (RFC 9110 10.2.3) in milliseconds from now: delay-seconds, or an HTTP-date. */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
