// Tests are compiled by tsc (npm run build) and run as native ESM from dist/: no transform step,
// so what runs under test is exactly what ships.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  // The fault-injection suite kills services: it runs on its own stack (jest.faults.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/test/faults/'],
  testTimeout: 120_000,
  verbose: true,
  testSequencer: '<rootDir>/test/sequencer.cjs',
};
