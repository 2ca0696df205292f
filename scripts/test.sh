#!/usr/bin/env bash
# `npm test`: install what is missing, build, bring up the test stack (its own ports and state,
# beside a running `npm start`), run the whole suite, and stop the stack again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
# Browser tests drive Debian's Chromium (installed here when missing).
CHROMIUM_PATH="$(bash scripts/ensure-chromium.sh)"
export CHROMIUM_PATH
export STACK_NAME="${STACK_NAME:-test}"
cleanup() { bash scripts/stack.sh down || true; }
trap cleanup EXIT
bash scripts/stack.sh up
# shellcheck disable=SC1090
source ".stack/$STACK_NAME/stack.env"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
mkdir -p test-artifacts
results=".stack/$STACK_NAME/jest-results.json"
status=0
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  node node_modules/jest/bin/jest.js --runInBand --forceExit --json --outputFile="$results" "$@" || status=$?
# Nothing the run left behind (database, Temporal histories, logs) may hold a secret in plaintext.
scan=0
node dist/scripts/secret-scan.js || { scan=1; status=1; }
# A closing line any CI reader understands, from jest's own counts (plus the secret scan).
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const scanFailed = Number(process.argv[2]);
  console.log(`jest: ${r.numPassedTests + 1 - scanFailed} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites + scanFailed} failed, ${r.numPendingTests} skipped`);
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' "$results" "$scan" || status=1
exit "$status"
