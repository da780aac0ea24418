import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A ledger thread's script: beside this file when compiled; from dist/ when tests run the TypeScript. */
export function workerScript(name: string): string {
  const compiled = join(__dirname, `${name}.js`);
  if (existsSync(compiled)) return compiled;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const built = join(dir, 'dist', 'src', 'audit', `${name}.js`);
    if (existsSync(built)) return built;
  }
  throw new Error(`the audit ${name} is not built; run \`npm run build\``);
}
