import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { configOption } from './config_option';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the API (on a fresh machine, first creates a development CA and config)')
    .addOption(configOption(true))
    .option('--listen <host:port>', 'listen address, overriding server.listen')
    .option('--allow-plaintext', 'serve plain HTTP instead of HTTPS, for a TLS-terminating proxy on this host: only on a loopback address unless the config sets server.allow_plaintext: true')
    .option('--workers <n>', 'processes sharing the port: a number, or "auto" for one per core', '1')
    .action(async (options: { config?: string; listen?: string; allowPlaintext?: boolean; workers: string }) => {
      const workers = options.workers === 'auto' ? availableParallelism() : Number(options.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a whole number ≥ 1, or auto');
      const { createLogger, logWarnings } = require('../logger') as typeof import('../logger');
      // Every line the server prints is a log line: JSON, or readable on a terminal.
      const logger = createLogger('info');
      logWarnings(logger);
      if (workers > 1 && cluster.isPrimary) return (require('../supervise_workers') as typeof import('../supervise_workers')).superviseWorkers(options, workers, logger);
      const worker = Number(process.env.MAYFLY_WORKER ?? 0);
      const { serve } = require('../serve') as typeof import('../serve');
      const serving = serve(options, logger, worker > 0);
      // Stopping lets requests in progress finish (server.limits.shutdown_grace), then writes a last
      // checkpoint, so the ledger's head at shutdown is signed. A second SIGTERM (systemd signals the
      // whole group, and the primary of --workers passes it on) changes nothing; a second ^C stops at once.
      // The handlers are in place before serve prints where it listens: a SIGTERM sent on that line
      // (Node's default would end the process at once) waits for the start, then drains.
      let stopping: Promise<void> | undefined;
      const stop = () => void (stopping ??= serving.then((running) => running.close()).then(() => process.exit(0)));
      process.once('SIGINT', stop);
      process.on('SIGTERM', stop);
      process.on('SIGHUP', () => void serving.then((running) => running.reloader.reload()));
      await serving;
    });
}
