import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load';
import { WORKERS_ENV } from '../config/signing_ca/local';
import { startClusterOpsServer } from './cluster_ops';
import { defaultConfigFile } from './data_dir';
import { prepareDataDir, splitListen, type ServeOptions } from './serve';

/**
 * The primary of `serve --workers N`: prepares the data folder once, then runs N workers that share
 * the port (each its own ledger chain). It passes SIGHUP on, replaces a worker that dies, and on
 * SIGTERM stops them all, each writing its last checkpoint.
 */
export async function superviseWorkers(options: ServeOptions, workers: number, logger: Logger): Promise<void> {
  await prepareDataDir(options, logger);
  cluster.setupPrimary({ execArgv: workerExecArgv() });
  const metricsListen = (await loadConfig(options.config ?? defaultConfigFile())).document.server.metrics_listen;
  if (metricsListen) {
    const ops = await startClusterOpsServer(...splitListen(metricsListen));
    logger.info(`Metrics and health of all ${workers} workers on ${ops.url}/metrics, /healthz, /readyz`);
  }
  let stopping = false;
  const start = (index: number) => {
    const worker = cluster.fork({ MAYFLY_WORKER: String(index), [WORKERS_ENV]: String(workers) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      logger.warn(`worker ${index} stopped (${signal ?? `exit ${code}`}); starting another`);
      setTimeout(() => start(index), 1000).unref();
    });
  };
  for (let index = 0; index < workers; index++) start(index);
  process.on('SIGHUP', () => Object.values(cluster.workers ?? {}).forEach((worker) => worker?.process.kill('SIGHUP')));
  const stop = () => {
    stopping = true;
    const running = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    if (running.length === 0) process.exit(0);
    let left = running.length;
    for (const worker of running) {
      worker.once('exit', () => {
        left -= 1;
        if (left === 0) process.exit(0);
      });
      worker.process.kill('SIGTERM');
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * A worker's young generation, in MiB a semi-space. V8 sizes it from the heap limit (64 MiB on a
 * machine with a few GiB: 128 MiB of new space) and grows it to that under load, a step at a time, so
 * each worker's RSS climbed by 50–60 MiB minutes into a steady load and never came down (the soak,
 * 2026-12-06). Capped, it reaches its size within seconds: the same garbage is collected more often,
 * in collections that cost what the live objects cost (a request's few). A Node option the operator
 * gives (`NODE_OPTIONS` or the command line) wins.
 */
const WORKER_SEMI_SPACE_MIB = 16;

function workerExecArgv(): string[] {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((option) => option.includes('--max-semi-space-size'));
  return given ? process.execArgv : [...process.execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`];
}
