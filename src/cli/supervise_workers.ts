import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load';
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
  const metricsListen = (await loadConfig(options.config ?? defaultConfigFile())).document.server.metrics_listen;
  if (metricsListen) {
    const ops = await startClusterOpsServer(...splitListen(metricsListen));
    logger.info(`Metrics and health of all ${workers} workers on ${ops.url}/metrics, /healthz, /readyz`);
  }
  let stopping = false;
  const start = (index: number) => {
    const worker = cluster.fork({ MAYFLY_WORKER: String(index) });
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
