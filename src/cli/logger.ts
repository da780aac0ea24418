import pino, { type Logger } from 'pino';

/**
 * The server's log: JSON lines on stdout for collectors, or readable lines when a person watches
 * stdout in a terminal. Written asynchronously so that a slow pipe never holds up a request.
 */
export function createLogger(level: string): Logger {
  if (process.stdout.isTTY) return pino({ level, transport: { target: 'pino-pretty', options: { destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,next_step' } } });
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: false }));
}

/**
 * Process warnings (a tokens file or deny list gone, a deprecation) as log lines at warn, instead of
 * Node's plain text on stderr beside the JSON.
 */
export function logWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => logger.warn({ ...(warning.code ? { code: warning.code } : {}) }, warning.message));
}
