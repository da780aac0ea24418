/** Tests run TypeScript through SWC; `npm run typecheck` is the type check. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
      module: { type: 'commonjs' },
    }],
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/softhsm_setup.js',
  globalTeardown: '<rootDir>/test/softhsm_teardown.js',
};
