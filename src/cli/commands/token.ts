import type { Command } from 'commander';
import { parseDuration } from '../../config/duration';
import { configFileOf, configOption } from './config_option';
import { print } from './output';

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('bearer tokens for the token backend')
    .command('create')
    .description('create a bearer token, print it once, and keep only its hash in the tokens file')
    .requiredOption('--auth <name>', 'the authentication entry (backend: token)')
    .addOption(configOption())
    .option('--name <name>', 'who the token is for (shown as the requester)')
    .option('--groups <a,b>', 'groups, comma-separated', '')
    .option('--ttl <duration>', 'lifetime, e.g. 30d or 12h (default: no expiry)')
    .action(async (options: { auth: string; config?: string; name?: string; groups: string; ttl?: string }) => {
      const { configPath, loadConfig } = require('../../config/load') as typeof import('../../config/load');
      const { createToken } = require('../../auth/token') as typeof import('../../auth/token');
      const config = await loadConfig(configFileOf(options));
      const entry = config.document.authentication[options.auth];
      const defined = Object.keys(config.document.authentication).join(', ') || 'none';
      if (!entry) throw new Error(`no authentication entry named ${JSON.stringify(options.auth)} in ${config.source.file} (defined: ${defined}); add one with backend: token and tokens_file: tokens.yaml, then run this again`);
      if (entry.backend !== 'token') throw new Error(`authentication ${options.auth} in ${config.source.file} is backend: ${entry.backend}; tokens need an entry with backend: token (and tokens_file)`);
      const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl);
      if (options.ttl !== undefined && ttlMs === undefined) throw new Error(`--ttl ${options.ttl} is not a duration such as 30d or 12h`);
      const { token, entry: created } = await createToken(configPath(config, entry.tokens_file), {
        ...(options.name ? { name: options.name } : {}),
        groups: options.groups.split(',').map((g) => g.trim()).filter(Boolean),
        ...(ttlMs !== undefined ? { ttlMs } : {}),
      });
      print(token);
      process.stderr.write(`Token ${created.id} for ${created.name}${created.expires ? `, expires ${created.expires}` : ''}. It is shown only now; the file keeps its hash.\n`);
    });
}
