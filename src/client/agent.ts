import { errorMessage } from '../error_message';
import type { AgentConfig, ManagedCertificate } from './agent_config';
import { resolveCredentials } from './credentials';
import type { AgentLog } from './agent_log';
import { StatusRecorder } from './agent_status';
import { CaClient, type ClientCredentials } from './ca_client';
import { readCurrentCertificate, writeCertificateFiles, type CurrentCertificate } from './certificate_files';
import { formatDuration, systemClock, type Clock } from './clock';
import { AuthenticationFailedError, ClientUsageError, exitCodeOf, isTransient, ServerError, EXIT_CODES } from './errors';
import { HookRunner } from './hooks';
import { RenewalScheduler, renewalTime, retryDelay, type CertificateLifetime } from './renewal_scheduler';
import { missingNames } from './requested_names';
import { requestCertificate, type IssuedCredentials } from './request_certificate';

export interface AgentOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** What `runOnce` reports: 0 when every certificate is in place, else the exit code of the first failure. */
export interface OnceResult {
  readonly exitCode: number;
  readonly failures: readonly { readonly name: string; readonly error: unknown }[];
}

/**
 * `mayfly agent`: keeps each configured certificate fresh. Each renewal makes a new key, presents
 * the current certificate (mTLS) when it may, or else the configured credentials, writes the files
 * atomically, then runs the certificate's hooks.
 */
export class RenewalAgent {
  private readonly client: CaClient;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly hooks: HookRunner;
  private readonly scheduler: RenewalScheduler;
  private readonly status: StatusRecorder;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: AgentLog,
    options: AgentOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.client = new CaClient(config.server, config.trust, config.requestTimeoutMs);
    this.hooks = new HookRunner({ initialMs: config.renewal.retryInitialMs, maxMs: config.renewal.retryMaxMs }, log, this.clock, withoutSecrets(process.env, config));
    this.status = new StatusRecorder((name, message) => log.warn(name, message));
    this.scheduler = new RenewalScheduler(config.renewal, (name) => this.renew(this.entry(name), true), log, this.clock, this.random, (name, dueAt, failure) => {
      const { paths } = this.entry(name);
      if (failure !== undefined) void this.status.record(name, paths, { kind: 'failed', at: this.clock.now(), message: errorMessage(failure) });
      void this.status.record(name, paths, { kind: 'planned', at: dueAt });
    });
  }

  /** Starts keeping every certificate fresh; what is missing, unusable or due is requested at once. */
  async start(): Promise<void> {
    for (const entry of this.config.certificates) this.scheduler.add(entry.name, await this.usableLifetime(entry));
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.hooks.stop();
    await this.status.settled();
  }

  /**
   * For boot scripts and init containers: every certificate that is missing or unusable is requested,
   * retrying while the server is unreachable or busy, for up to `timeoutMs`. One that is valid but
   * due is renewed if the server answers, and otherwise left in place (the daemon renews it later):
   * a boot does not wait for what it does not need. Hooks do not run, since the service starts after.
   */
  async runOnce(timeoutMs: number): Promise<OnceResult> {
    const deadline = this.clock.monotonic() + timeoutMs;
    const results = await Promise.all(
      this.config.certificates.map(async (entry) => {
        const current = await this.usableLifetime(entry);
        if (current && this.clock.now() < renewalTime(current, this.config.renewal, this.random())) {
          this.log.info(entry.name, `in place, valid until ${new Date(current.notAfter).toISOString()}`);
          return undefined;
        }
        for (let failures = 1; ; failures++) {
          try {
            await this.renew(entry, false);
            return undefined;
          } catch (error) {
            await this.status.record(entry.name, entry.paths, { kind: 'failed', at: this.clock.now(), message: errorMessage(error) });
            if (current && this.clock.now() < current.notAfter) {
              this.log.warn(entry.name, `renewal failed: ${errorMessage(error)}; the current certificate stays in place, valid until ${new Date(current.notAfter).toISOString()}`);
              return undefined;
            }
            const delay = retryDelay(failures, this.config.renewal, this.clock.now(), undefined, this.random(), error instanceof ServerError ? error.retryAfterMs : undefined);
            if (!isTransient(error) || this.clock.monotonic() + delay > deadline) {
              this.log.error(entry.name, `not in place: ${errorMessage(error)}`);
              return { name: entry.name, error };
            }
            this.log.warn(entry.name, `attempt ${failures} failed: ${errorMessage(error)}; trying again in ${formatDuration(delay)}`);
            await new Promise<void>((resolve) => this.clock.setTimer(resolve, delay));
          }
        }
      }),
    );
    const failures = results.filter((result) => result !== undefined);
    return { exitCode: failures.length === 0 ? EXIT_CODES.ok : exitCodeOf(failures[0].error), failures };
  }

  private entry(name: string): ManagedCertificate {
    const entry = this.config.certificates.find((candidate) => candidate.name === name);
    if (!entry) throw new Error(`no certificate named ${name}`);
    return entry;
  }

  /** The certificate on disk, if it can serve: it parses, matches its key, names what is configured, and has not expired. */
  private async usableLifetime(entry: ManagedCertificate): Promise<CertificateLifetime | undefined> {
    const current = await this.usableCurrent(entry, true);
    return current ? { receivedAt: current.receivedAt.getTime(), notAfter: current.notAfter.getTime() } : undefined;
  }

  private async usableCurrent(entry: ManagedCertificate, explain: boolean): Promise<CurrentCertificate | undefined> {
    const now = this.clock.now();
    const state = await readCurrentCertificate(entry.paths, now);
    const why = (reason: string) => {
      if (explain) this.log.info(entry.name, `${reason}; requesting a new certificate now`);
      return undefined;
    };
    if (state.status === 'missing') return why(`no certificate at ${entry.paths.cert} yet`);
    if (state.status === 'unusable') return why(state.reason);
    const { current } = state;
    if (current.notAfter.getTime() <= now) return why(`the certificate at ${entry.paths.cert} expired at ${current.notAfter.toISOString()}`);
    const missing = missingNames(current.certificatePem, entry.order.names);
    if (missing.length > 0) return why(`the certificate at ${entry.paths.cert} lacks configured names (${missing.join(', ')})`);
    return current;
  }

  /** One renewal of `entry`: a new key and certificate, written, and (in daemon mode) its hooks started. */
  private async renew(entry: ManagedCertificate, runHooks: boolean): Promise<CertificateLifetime> {
    const { issued, via } = await this.obtain(entry);
    await writeCertificateFiles(entry.paths, issued, entry.keyMode);
    await this.status.record(entry.name, entry.paths, { kind: 'renewed', at: issued.receivedAt.getTime() });
    const serial = issued.certificate.serialNumber.toLowerCase();
    this.log.info(entry.name, `renewed via ${via}: serial ${serial}, valid until ${issued.notAfter.toISOString()}; written to ${entry.paths.cert}`);
    if (runHooks) {
      this.hooks.trigger(entry.name, entry.hooks, {
        MAYFLY_CERT_NAME: entry.name,
        MAYFLY_CERT_FILE: entry.paths.cert,
        MAYFLY_KEY_FILE: entry.paths.key,
        MAYFLY_CHAIN_FILE: entry.paths.chain ?? '',
        MAYFLY_FULLCHAIN_FILE: entry.paths.fullchain ?? '',
        MAYFLY_SERIAL: serial,
        MAYFLY_NOT_AFTER: issued.notAfter.toISOString(),
      });
    }
    return { receivedAt: issued.receivedAt.getTime(), notAfter: issued.notAfter.getTime() };
  }

  /**
   * mTLS first when the certificate on disk is valid and renewal by it is wanted; the configured
   * credentials otherwise, or when the RA refuses the certificate (expired past its grace, say).
   */
  private async obtain(entry: ManagedCertificate): Promise<{ issued: IssuedCredentials; via: string }> {
    const current = renewsByMtls(entry) ? await this.usableCurrent(entry, false) : undefined;
    if (current) {
      const presented: ClientCredentials = { kind: 'mtls', cert: current.certificatePem + current.chainPem, key: current.privateKeyPem };
      try {
        return { issued: await requestCertificate(this.client, { ...entry.order, ra: entry.renewRa }, presented, () => this.clock.now()), via: `mTLS at RA ${entry.renewRa}` };
      } catch (error) {
        if (!(error instanceof AuthenticationFailedError) || !entry.credentials) throw error;
        this.log.warn(entry.name, `RA ${entry.renewRa} refused the current certificate; trying the configured credentials`);
      }
    }
    if (!entry.credentials) throw new ClientUsageError('no credentials are configured and there is no valid certificate to renew with');
    const credentials = await resolveCredentials(entry.credentials);
    return { issued: await requestCertificate(this.client, entry.order, credentials, () => this.clock.now()), via: `${credentials.kind} credentials at RA ${entry.order.ra}` };
  }
}

/** The agent's environment without the variables its credentials are read from: a hook needs none of them. */
function withoutSecrets(env: NodeJS.ProcessEnv, config: AgentConfig): NodeJS.ProcessEnv {
  const secret = new Set(config.secretVariables);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.has(name)));
}

/**
 * Whether to renew with the current certificate. An RA has one authentication backend and the client
 * cannot ask which, so `auto` reads the config: a separate `renew_ra` is there for mTLS renewal, and
 * without credentials mTLS is the only way; otherwise presenting the certificate to a static or token
 * RA would only earn a failed authentication in the server's ledger and back-off.
 */
function renewsByMtls(entry: ManagedCertificate): boolean {
  if (entry.renewWith === 'auto') return entry.renewRa !== entry.order.ra || entry.credentials === undefined;
  return entry.renewWith === 'mtls';
}
