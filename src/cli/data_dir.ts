import { join } from 'node:path';

/** The data folder: MAYFLY_HOME, or ./mayfly-data. */
export const dataDir = (): string => process.env.MAYFLY_HOME || 'mayfly-data';
/** The config file when no --config is given: mayfly.yaml in the data folder. */
export const defaultConfigFile = (): string => join(dataDir(), 'mayfly.yaml');
