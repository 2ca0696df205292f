// Tests are compiled by tsc (npm run build) and run as native ESM from dist/: no transform step,
// so what runs under test is exactly what ships.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  testTimeout: 120_000,
  verbose: true,
  testSequencer: '<rootDir>/test/sequencer.cjs',
};
