import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { MayflyMetrics } from '../http/metrics';
import type { Readiness, ReadinessReport } from '../http/readiness';
import { startOpsServer } from '../http/server';

// `mayfly serve --workers N` with server.metrics_listen: the primary serves that address, with
// the workers' metrics summed (prom-client's cluster aggregation) and /readyz asked of every worker
// over the cluster's IPC channel, so a scrape or a probe sees the whole server, not one worker.

const READYZ = 'mayfly:readyz';
/** A worker that does not answer within this is counted as not ready. */
const WORKER_TIMEOUT_MS = 7000;

interface ReadyzMessage {
  readonly type: typeof READYZ;
  readonly id: number;
  readonly report?: ReadinessReport;
}

const isReadyz = (message: unknown): message is ReadyzMessage => (message as { type?: unknown } | null)?.type === READYZ;

/** In a worker: hands its metrics to the primary's aggregation and answers its readiness questions. */
export function joinClusterOps(metrics: MayflyMetrics, readiness: Readiness): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one is what installs prom-client's answering listener in a worker.
  new AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (!isReadyz(message)) return;
    void readiness.check().then((report) => process.send?.({ type: READYZ, id: message.id, report } satisfies ReadyzMessage));
  });
}

/** In the primary: serves metrics_listen for all workers. */
export function startClusterOpsServer(host: string, port: number): ReturnType<typeof startOpsServer> {
  const aggregator = new AggregatorRegistry();
  const pending = new Map<number, (report: ReadinessReport) => void>();
  let nextId = 0;
  cluster.on('message', (_worker, message: unknown) => {
    if (isReadyz(message) && message.report) pending.get(message.id)?.(message.report);
  });
  const askWorker = (index: string, worker: Worker) =>
    new Promise<[string, ReadinessReport | undefined]>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => (pending.delete(id), resolve([index, undefined])), WORKER_TIMEOUT_MS);
      const settle = (report: ReadinessReport | undefined) => (clearTimeout(timer), pending.delete(id), resolve([index, report]));
      pending.set(id, settle);
      // A worker on its way out may have closed its channel: send() would then raise an 'error' on it.
      if (!worker.isConnected()) return settle(undefined);
      worker.send({ type: READYZ, id } satisfies ReadyzMessage, (error: Error | null) => error && settle(undefined));
    });
  const readiness = {
    async check(): Promise<ReadinessReport> {
      const workers = Object.entries(cluster.workers ?? {}).filter((entry): entry is [string, Worker] => entry[1] !== undefined);
      const answers = await Promise.all(workers.map(([index, worker]) => askWorker(index, worker)));
      const checks: Record<string, string> = answers.length === 0 ? { workers: 'none running' } : {};
      for (const [index, report] of answers) {
        if (!report) checks[`worker ${index}`] = `no answer within ${WORKER_TIMEOUT_MS / 1000} s`;
        else for (const [part, result] of Object.entries(report.checks)) checks[`worker ${index}: ${part}`] = result;
      }
      const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
      return { ready: failing.length === 0, checks, failing };
    },
  };
  return startOpsServer({ metrics: { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }, readiness, serveMetrics: true, readinessReasons: true }, host, port);
}
