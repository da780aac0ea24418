import type { Command } from 'commander';
import { print } from './output';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerHashSecret(program: Command): void {
  program
    .command('hash-secret')
    .description('read a secret on stdin and print the hash to put in the config as secret_hash')
    .action(async () => {
      const secret = (await readStdin()).replace(/\r?\n$/, '');
      if (secret.length === 0) throw new Error('no secret on stdin');
      const { hashSecret } = require('../../auth/secret_hash') as typeof import('../../auth/secret_hash');
      print(await hashSecret(secret));
    });
}
