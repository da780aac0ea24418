import { watchFile, type FileWatch } from '../file_watch';
import { assembleRuntime, releaseRuntime, type Runtime } from './assemble';
import { servesAcme } from './acme_store';
import { loadConfig, type MayflyConfig } from './load';

/** A reload applied (naming the changed settings that wait for a restart), or refused. */
export type ReloadResult = { readonly ok: true; readonly restartRequired: readonly string[] } | { readonly ok: false; readonly error: unknown };

/**
 * The sections `mayfly serve` reads once, at start: the listeners, TLS, limits, the log level and
 * the ledger are built from them before the first request. Everything else — authentication,
 * signing_ca, registration_authority (validators, fixups, lifetimes), plugins — is in the runtime a
 * reload replaces. ACME is the one RA setting that is not: its store opens at start when an RA serves it.
 */
export const RESTART_ONLY_SECTIONS = ['server', 'audit'] as const;

/** The dotted paths of the leaves that differ between two parsed sections (a list or scalar is one leaf). */
function changedLeaves(before: unknown, after: unknown, path: string): string[] {
  const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isMap(before) && isMap(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].flatMap((key) => changedLeaves(before[key], after[key], `${path}.${key}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
}

/** The settings of `next` that differ from those the process started with and take a restart to apply. */
export function settingsNeedingRestart(started: MayflyConfig, next: MayflyConfig): string[] {
  const changed = RESTART_ONLY_SECTIONS.flatMap((section) => changedLeaves(started.document[section], next.document[section], section));
  const acmeAtStart = servesAcme(started);
  for (const [name, ra] of Object.entries(next.document.registration_authority)) {
    if (!acmeAtStart && ra.acme?.enabled) changed.push(`registration_authority.${name}.acme`);
  }
  return changed.sort();
}

const DEBOUNCE_MS = 200;
/** How long a replaced runtime stays usable for the requests that started on it (the request timeout). */
const RETIRE_AFTER_MS = 30_000;

/**
 * Holds the runtime in force and replaces it when the config changes (file watch, or `reload()`
 * on SIGHUP). A new config is loaded and assembled in full before the swap, so a bad one is
 * refused and the old one keeps serving; requests in flight keep the runtime they started with.
 * Changes to settings read only at start are not applied: each reload names those still pending.
 */
export class ConfigReloader {
  private runtime: Runtime;
  /** The config the process started with: what the restart-only settings still come from. */
  private readonly started: MayflyConfig;
  private pending: Promise<ReloadResult> = Promise.resolve({ ok: true, restartRequired: [] });
  private watcher?: FileWatch;
  private timer?: NodeJS.Timeout;

  constructor(
    initial: Runtime,
    private readonly onReload: (result: ReloadResult) => void = () => {},
  ) {
    this.runtime = initial;
    this.started = initial.config;
  }

  readonly current = (): Runtime => this.runtime;

  /** Loads the config file again; resolves after the swap, or after the refusal. */
  reload(): Promise<ReloadResult> {
    // One reload at a time, in order: the last change always wins.
    this.pending = this.pending.then(async () => {
      let result: ReloadResult;
      try {
        const retired = this.runtime;
        this.runtime = await assembleRuntime(await loadConfig(retired.config.source.file));
        setTimeout(() => releaseRuntime(retired), RETIRE_AFTER_MS).unref();
        result = { ok: true, restartRequired: settingsNeedingRestart(this.started, this.runtime.config) };
      } catch (error) {
        result = { ok: false, error };
      }
      this.onReload(result);
      return result;
    });
    return this.pending;
  }

  /** Reloads whenever the config file changes (file_watch.ts: the file, not the folder the ledger writes in). */
  watchFile(): void {
    this.watcher = watchFile(this.runtime.config.source.file, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
