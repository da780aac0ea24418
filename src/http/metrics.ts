import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Ledger } from '../audit/ledger';
import type { Runtime } from '../config/assemble';

/** Which front-door limit refused a request. */
export type LimitName = 'source' | 'identity' | 'auth_backoff' | 'unauthenticated' | 'credential_checks' | 'concurrency';

// Signing takes ~40 µs (P-256 in process) to ~100 ms (a busy token); commits ~1–50 ms (an fsync).
const SIGNING_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * Prometheus metrics of one process, in their own registry (no global state). Labels take only
 * names from the config (RAs, signing CAs, validators), never what a client sent, so a client
 * cannot grow the series without bound.
 */
export class MayflyMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'mayfly_requests_total', help: 'HTTP requests by registration authority, route and outcome (ok, or the error code answered)', labelNames: ['ra', 'route', 'outcome'], registers: [this.registry] });
  private readonly refusals = new Counter({ name: 'mayfly_refusals_total', help: 'Policy refusals by registration authority and validator (one request can count for several validators)', labelNames: ['ra', 'validator'], registers: [this.registry] });
  private readonly issued = new Counter({ name: 'mayfly_certificates_issued_total', help: 'Certificates issued, by registration authority', labelNames: ['ra'], registers: [this.registry] });
  private readonly signing = new Histogram({ name: 'mayfly_signing_duration_seconds', help: 'Time the signer took over a certificate signature, by signing CA', labelNames: ['signer'], buckets: SIGNING_BUCKETS, registers: [this.registry] });
  private readonly rateLimited = new Counter({ name: 'mayfly_rate_limited_total', help: 'Requests refused by a front-door limit (429 or 503 overloaded), by limit', labelNames: ['limit'], registers: [this.registry] });
  private readonly auditCommit = new Histogram({ name: 'mayfly_audit_commit_duration_seconds', help: 'Time of each audit ledger commit (one fsync per batch)', buckets: COMMIT_BUCKETS, registers: [this.registry] });
  private readonly auditBatch = new Histogram({ name: 'mayfly_audit_batch_records', help: 'Records per audit ledger commit', buckets: BATCH_BUCKETS, registers: [this.registry] });
  private readonly restartRequired = new Gauge({ name: 'mayfly_config_restart_required', help: 'Settings changed in the config file that apply only after a restart (1 each; none after a restart)', labelNames: ['setting'], registers: [this.registry] });
  private readonly reloadFailures = new Counter({ name: 'mayfly_config_reload_failures_total', help: 'Config reloads refused (the config in force stays)', registers: [this.registry] });

  constructor(runtime: () => Runtime) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mayfly_' });
    const signingCas = () => [...runtime().signingCas.values()];
    new Gauge({
      name: 'mayfly_ca_expiry_seconds',
      help: 'Seconds until the issuing certificate of each signing CA expires',
      labelNames: ['signing_ca'],
      registers: [this.registry],
      // Every worker reports the same CAs: summed over a cluster they would seem to live N times longer.
      aggregator: 'min',
      collect() {
        this.reset();
        for (const ca of signingCas()) this.set({ signing_ca: ca.name }, Math.round((ca.notAfter.getTime() - Date.now()) / 1000));
      },
    });
    // The token's counts live in the signer (a reload starts a new one, which Prometheus reads as a counter reset).
    const tokenCounter = (name: string, help: string, read: (events: { errors: number; logins: number }) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['signer'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const ca of signingCas()) if (ca.signer.tokenEvents) this.inc({ signer: ca.name }, read(ca.signer.tokenEvents));
        },
      });
    tokenCounter('mayfly_pkcs11_errors_total', 'PKCS#11 operations that failed (a lost session, login or token), by signing CA', (events) => events.errors);
    tokenCounter('mayfly_pkcs11_logins_total', 'PKCS#11 logins, the first included (more mean the signer reconnected), by signing CA', (events) => events.logins);
  }

  watchLedger(ledger: Ledger): void {
    ledger.onCommit((records, seconds) => {
      this.auditCommit.observe(seconds);
      this.auditBatch.observe(records);
    });
  }

  /** After each reload: a refusal counts; an applied one names the settings still waiting for a restart. */
  reloaded(result: { readonly ok: boolean; readonly restartRequired?: readonly string[] }): void {
    if (!result.ok) {
      this.reloadFailures.inc();
      return;
    }
    this.restartRequired.reset();
    for (const setting of result.restartRequired ?? []) this.restartRequired.set({ setting }, 1);
  }

  request(ra: string, route: string, outcome: string): void {
    this.requests.inc({ ra, route, outcome });
  }

  refused(ra: string, validators: readonly string[]): void {
    for (const validator of validators) this.refusals.inc({ ra, validator });
  }

  certificateIssued(ra: string, signingCa: string, signatureSeconds: number): void {
    this.issued.inc({ ra });
    this.signing.observe({ signer: signingCa }, signatureSeconds);
  }

  limited(limit: LimitName): void {
    this.rateLimited.inc({ limit });
  }
}
