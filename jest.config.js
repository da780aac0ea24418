/**
 * Tests run TypeScript through SWC; `npm run typecheck` is the type check. This is `npm test`: every
 * test, the fuzz runs at a daily size. `*.full.test.ts` are the long runs (jest.full.config.js,
 * `npm run test:full`). What keeps a test fast, and what belongs in the full run: test/README.md.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.full\\.test\\.ts$'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
      module: { type: 'commonjs' },
    }],
  },
  testTimeout: 30000,
  // A worker a core (Jest's default leaves one core out: one worker on 2 cores). Most tests wait on
  // child processes, sockets and timers, so even on 2 cores two workers keep both busy.
  maxWorkers: '100%',
  // The longest files first, by the committed times in test/durations.json (a fresh clone has no
  // timing cache of Jest's; without one Jest orders by file size).
  testSequencer: '<rootDir>/test/sequencer.js',
  globalSetup: '<rootDir>/test/global_setup.js',
  globalTeardown: '<rootDir>/test/global_teardown.js',
};
