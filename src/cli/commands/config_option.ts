import { Option } from 'commander';
import { defaultConfigFile } from '../data_dir';

/**
 * `--config <file>`, as every command that reads the server's config declares it. No commander
 * default: `serve` tells "not given" from the default file (it creates that one when missing).
 */
export function configOption(createdIfMissing = false): Option {
  return new Option('--config <file>', `config file (default: $MAYFLY_HOME/mayfly.yaml${createdIfMissing ? ', created if missing' : ''})`);
}

/** The config file the command reads: --config, or the default. */
export const configFileOf = (options: { config?: string }): string => options.config ?? defaultConfigFile();
