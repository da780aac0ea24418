import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic_file';
import { errorMessage } from '../error_message';
import type { CertificatePaths } from './certificate_files';

// What the agent knows of each certificate and `mayfly agent status` shows: the last success, the
// last error, the next attempt. It lives beside the certificate (`web.pem` → `web.pem.status.json`),
// where the agent may write (systemd's ReadWritePaths) and an operator looks.

export interface CertificateStatus {
  /** When a certificate was last received (ISO 8601). */
  readonly lastSuccess?: string;
  /** The last failure, until a success clears it; `failures` in a row. */
  readonly lastError?: { readonly at: string; readonly message: string; readonly failures: number };
  /** When the agent plans to renew or retry (ISO 8601); absent after `--once`, which plans nothing. */
  readonly nextAttempt?: string;
}

export const statusFile = (paths: Pick<CertificatePaths, 'cert'>): string => `${paths.cert}.status.json`;

/** The recorded status; empty when none was recorded or the file is not one the agent wrote. */
export async function readStatus(paths: Pick<CertificatePaths, 'cert'>): Promise<CertificateStatus> {
  const text = await readFile(statusFile(paths), 'utf8').catch(() => undefined);
  try {
    const parsed: unknown = text === undefined ? {} : JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as CertificateStatus) : {};
  } catch {
    return {};
  }
}

/** What happened to a certificate: received, an attempt failed, or the next attempt planned. */
export type StatusEvent =
  | { readonly kind: 'renewed'; readonly at: number }
  | { readonly kind: 'failed'; readonly at: number; readonly message: string }
  | { readonly kind: 'planned'; readonly at: number };

/** A success clears the last error (and the plan, made again by the daemon right after). */
export function applyEvent(status: CertificateStatus, event: StatusEvent): CertificateStatus {
  if (event.kind === 'renewed') return { lastSuccess: iso(event.at) };
  if (event.kind === 'failed') return { ...status, lastError: { at: iso(event.at), message: event.message, failures: (status.lastError?.failures ?? 0) + 1 } };
  return { ...status, nextAttempt: iso(event.at) };
}

/**
 * Keeps each certificate's status file up to date. Events of one certificate are written one after
 * another, each merged into the last; a file that cannot be written is reported once, never fatal.
 */
export class StatusRecorder {
  private readonly writes = new Map<string, Promise<CertificateStatus>>();
  private readonly unwritable = new Set<string>();

  constructor(private readonly onWriteError: (name: string, message: string) => void) {}

  record(name: string, paths: Pick<CertificatePaths, 'cert'>, event: StatusEvent): Promise<void> {
    const next = (this.writes.get(name) ?? readStatus(paths)).then(async (status) => {
      const updated = applyEvent(status, event);
      try {
        await writeFileAtomic(statusFile(paths), `${JSON.stringify(updated, null, 2)}\n`, 0o644);
        this.unwritable.delete(name);
      } catch (error) {
        if (!this.unwritable.has(name)) this.onWriteError(name, `the status cannot be written to ${statusFile(paths)}: ${errorMessage(error)}`);
        this.unwritable.add(name);
      }
      return updated;
    });
    this.writes.set(name, next);
    return next.then(() => undefined);
  }

  /** Resolves once every event so far is written. */
  async settled(): Promise<void> {
    await Promise.all(this.writes.values());
  }
}

const iso = (time: number): string => new Date(time).toISOString();
