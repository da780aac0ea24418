/** `npm run test:full`: only the long runs (`*.full.test.ts`), which `npm test` runs at a daily size. */
const daily = require('./jest.config');

module.exports = { ...daily, testMatch: ['**/*.full.test.ts'], testPathIgnorePatterns: ['/node_modules/'] };
