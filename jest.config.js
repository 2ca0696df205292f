// Tests are compiled by tsc (npm run build) and run as native ESM from dist/: no transform step,
// so what runs under test is exactly what ships.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  // The fault-injection suite kills services: it runs on its own stack (jest.faults.config.js).
  // appservice-mode.test.js needs the appservice identity mode: it runs in the appservice pass
  // only (jest.appservice.config.js).
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/dist/test/faults/',
    '<rootDir>/dist/test/integration/appservice-mode\\.test\\.js$',
  ],
  testTimeout: 120_000,
  verbose: true,
  testSequencer: '<rootDir>/test/sequencer.cjs',
};
