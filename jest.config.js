/** Unit specs sit beside the code; e2e specs run the real app against the real database and Redis. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.check.json' }];
module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      // Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
      displayName: 'browser',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
};
