import type { Express } from 'express';
import type { ReadinessReport } from '../readiness';

export interface OpsEndpoints {
  /** The Prometheus text: one process's registry, or the cluster's aggregation. */
  readonly metrics: { readonly contentType: string; metrics(): Promise<string> };
  readonly readiness: { check(): Promise<ReadinessReport> };
  /** false when /metrics is served on its own address (server.metrics_listen) instead. */
  readonly serveMetrics: boolean;
  /**
   * Whether /readyz says what is wrong (module paths, token labels, files) or only which part: the
   * reasons go only to the ops address, not to whoever can reach the API.
   */
  readonly readinessReasons: boolean;
}

/** /healthz (the process answers), /readyz (it can issue: 503 names what cannot) and /metrics. */
export function mountOpsRoutes(app: Express, ops: OpsEndpoints): void {
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', async (_request, response) => {
    const report = await ops.readiness.check();
    const checks = ops.readinessReasons ? report.checks : Object.fromEntries(Object.entries(report.checks).map(([name, result]) => [name, result === 'ok' ? 'ok' : 'failing']));
    response.status(report.ready ? 200 : 503).json({ ...report, checks });
  });
  if (ops.serveMetrics) {
    app.get('/metrics', async (_request, response) => {
      response.type(ops.metrics.contentType).send(await ops.metrics.metrics());
    });
  }
}
