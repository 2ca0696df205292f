/* global require, module */
// Runs test files in a fixed order. The relay's files go first: Synapse forgets an appservice's
// recovery state when it restarts and only retries pushes after a backoff that can reach minutes,
// so files that restart Synapse (outage, readiness, metrics) run after every file that needs
// pushes promptly. Within each group, alphabetical.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest loads sequencers with require()
const Sequencer = require('@jest/test-sequencer').default;

const rank = (path) => {
  if (/relay/.test(path)) return 0;
  if (/(synapse-outage|synapse-held-back|readiness|metrics|shutdown|e2e\/start)\.test\.js$/.test(path)) return 2;
  return 1;
};

class OrderedSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = OrderedSequencer;
