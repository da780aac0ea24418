import { EXIT_CODES } from '../../client/errors';

export const print = (line: string) => process.stdout.write(`${line}\n`);
export const printError = (line: string) => process.stderr.write(`${line}\n`);

/** request and agent exit with documented codes; a usage error is 2 there, as in their --help. */
export const usageExit = (error: { exitCode: number }) => process.exit(error.exitCode === 0 ? 0 : EXIT_CODES.usage);
