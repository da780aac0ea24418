import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { assembleRuntime, releaseRuntime, type Runtime } from './assemble';
import { loadConfig } from './load';

export type ReloadResult = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

const DEBOUNCE_MS = 200;
/** How long a replaced runtime stays usable for the requests that started on it (the request timeout). */
const RETIRE_AFTER_MS = 30_000;

/**
 * Holds the runtime in force and replaces it when the config changes (file watch, or `reload()`
 * on SIGHUP). A new config is loaded and assembled in full before the swap, so a bad one is
 * refused and the old one keeps serving; requests in flight keep the runtime they started with.
 */
export class ConfigReloader {
  private runtime: Runtime;
  private pending: Promise<ReloadResult> = Promise.resolve({ ok: true });
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  constructor(
    initial: Runtime,
    private readonly onReload: (result: ReloadResult) => void = () => {},
  ) {
    this.runtime = initial;
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
        result = { ok: true };
      } catch (error) {
        result = { ok: false, error };
      }
      this.onReload(result);
      return result;
    });
    return this.pending;
  }

  /** Reloads whenever the config file changes (watching its folder, so editors' renames count). */
  watchFile(): void {
    const file = this.runtime.config.source.file;
    this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== basename(file)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
