// The config error on its own, without the YAML parser: the CLI's error printer (src/cli/main.ts)
// tells it from other errors without loading `yaml` for every command.

export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the offending key, e.g. registration_authority.default.valid_hours */
  readonly key: string;
  readonly message: string;
}

/** The config cannot be used; every problem names its file, line and key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.key || '(top level)'}: ${p.message}`).join('\n'));
  }
}
