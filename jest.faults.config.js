// The fault-injection suite (`npm run test:faults`, and after the main suite in `npm test`): a
// separate jest project because it kills and restarts the stack's services, so it runs on a stack
// of its own (scripts/test-faults.sh). See docs/decisions/0014-fault-suite.md.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/dist/test/faults'],
  testMatch: ['**/*.test.js'],
  testTimeout: 600_000,
  verbose: true,
};
