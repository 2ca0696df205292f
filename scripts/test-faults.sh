#!/usr/bin/env bash
# `npm run test:faults`: the fault-injection suite (test/faults/) on a stack of its own (default
# STACK_NAME=faults, ports +56000), since it SIGKILLs and restarts the worker, the API, Synapse,
# PostgreSQL and Temporal. Prints a closing `faults: N passed, N failed` line; exits non-zero on any
# failure. scripts/test.sh runs it after the main suite (FAULTS_SKIP_SETUP=1: already built).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[[ "${FAULTS_SKIP_SETUP:-}" == 1 ]] || bash scripts/ensure-deps.sh
export STACK_NAME="${FAULTS_STACK_NAME:-faults}"
export STACK_PORT_OFFSET="${FAULTS_STACK_PORT_OFFSET:-56000}"
# Never inherit another stack's environment (scripts/test.sh has sourced the test stack's).
unset DATABASE_URL STACK_DIR
results=".stack/$STACK_NAME/jest-results.json"
rm -f "$results" # never report a previous run's counts
cleanup() { bash scripts/stack.sh down || true; }
trap cleanup EXIT
bash scripts/stack.sh up
# shellcheck disable=SC1090
source ".stack/$STACK_NAME/stack.env"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
started=$SECONDS
status=0
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  node node_modules/jest/bin/jest.js -c jest.faults.config.js --runInBand --forceExit --json --outputFile="$results" "$@" || status=$?
node -e '
  const fs = require("fs");
  if (!fs.existsSync(process.argv[1])) { console.log("faults: 0 passed, 1 failed (jest wrote no results)"); process.exit(1); }
  const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  console.log(`faults: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped (${process.argv[2]} s)`);
  if (r.numTotalTests === 0) { console.error("no fault tests ran"); process.exit(1); }
' "$results" "$((SECONDS - started))" || status=1
exit "$status"
