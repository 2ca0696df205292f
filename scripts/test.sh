#!/usr/bin/env bash
# `npm test`: install what is missing, build, bring up the test stack (its own ports and state,
# beside a running `npm start`), run the whole suite, and stop the stack again.
#
# The integration files that act as users run twice: in admin identity mode with the rest of the
# suite, then in appservice mode (jest.appservice.config.js) against the stack's synapse-as, a
# homeserver with password login off and no admin user. Arguments (test paths, jest options) go to
# both passes; the second runs those of its files they select, and is skipped when they select none.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
# Browser tests drive Debian's Chromium (installed here when missing).
CHROMIUM_PATH="$(bash scripts/ensure-chromium.sh)"
export CHROMIUM_PATH
export STACK_NAME="${STACK_NAME:-test}"
JEST=(env "NODE_OPTIONS=--experimental-vm-modules --no-warnings=ExperimentalWarning" node node_modules/jest/bin/jest.js --runInBand --forceExit)
# Which files the appservice pass runs, for these arguments (none: no synapse-as, no second pass).
listed="$("${JEST[@]}" -c jest.appservice.config.js --listTests "$@")" ||
  { echo "[test] could not list the appservice pass's files (jest.appservice.config.js)" >&2; exit 1; }
appservice_files="$(grep -c '\.test\.js$' <<<"$listed" || true)"
components=(postgres temporal synapse)
((appservice_files > 0)) && components+=(synapse-as)
cleanup() { bash scripts/stack.sh down || true; }
trap cleanup EXIT
bash scripts/stack.sh up "${components[@]}"
# shellcheck disable=SC1090
source ".stack/$STACK_NAME/stack.env"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
# Each tenant's reconcile schedule fires on the clock (every 15 minutes by default): inside a test that
# makes drift behind the service's back and then reads it, a run would repair it first. Tests trigger
# reconciliation themselves; in the suite the schedule fires once a week (Thursdays 00:00 UTC).
export RECONCILE_INTERVAL_MINUTES="${RECONCILE_INTERVAL_MINUTES:-10080}"
mkdir -p test-artifacts
results=".stack/$STACK_NAME/jest-results.json"
appservice_results=".stack/$STACK_NAME/jest-appservice-results.json"
rm -f "$results" "$appservice_results" # never report a previous run's counts
status=0
# --passWithNoTests: arguments may select files of one pass only; the closing line below fails a
# run in which neither pass ran a test.
"${JEST[@]}" --passWithNoTests --json --outputFile="$results" "$@" || status=$?
appservice_seconds=""
if ((appservice_files > 0)); then
  started=$SECONDS
  (
    # shellcheck disable=SC1090
    source ".stack/$STACK_NAME/appservice.env"
    "${JEST[@]}" -c jest.appservice.config.js --passWithNoTests --json --outputFile="$appservice_results" "$@"
  ) || status=1
  appservice_seconds=$((SECONDS - started))
fi
# Nothing the run left behind (database, Temporal histories, logs) may hold a secret in plaintext.
scan=0
node dist/scripts/secret-scan.js || { scan=1; status=1; }
# The fault-injection suite (test/faults/, scripts/test-faults.sh) on a stack of its own, after the
# main suite (whose stack goes down first: two stacks on two cores slow both). Not when a subset of
# tests was asked for with arguments, nor with SKIP_FAULTS=1.
faults_results=""
if [[ $# -eq 0 && "${SKIP_FAULTS:-}" != 1 ]]; then
  bash scripts/stack.sh down || true
  FAULTS_SKIP_SETUP=1 bash scripts/test-faults.sh || status=1
  faults_results=".stack/${FAULTS_STACK_NAME:-faults}/jest-results.json"
fi
# A closing line any CI reader understands, from jest's own counts: both passes, the secret scan
# and the fault suite's counts, when it ran. A pass that was due and wrote no results counts as a failure.
node -e '
  const fs = require("fs");
  const read = (p) => (p ? (fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, "utf8")) : null) : undefined);
  const counts = (r) =>
    r === undefined ? { passed: 0, failed: 0, skipped: 0, total: 0 }
    : r === null ? { passed: 0, failed: 1, skipped: 0, total: 0 }
    : { passed: r.numPassedTests, failed: r.numFailedTests + r.numRuntimeErrorTestSuites, skipped: r.numPendingTests, total: r.numTotalTests };
  const [main, appservice, faults] = [read(process.argv[1]), read(process.argv[2]), read(process.argv[3])].map(counts);
  const scanFailed = Number(process.argv[4]);
  if (process.argv[2]) {
    console.log(`appservice pass: ${appservice.passed} passed, ${appservice.failed} failed, ${appservice.skipped} skipped (${process.argv[5]} s)`);
  }
  const passed = main.passed + appservice.passed + faults.passed + 1 - scanFailed;
  const failed = main.failed + appservice.failed + faults.failed + scanFailed;
  console.log(`jest: ${passed} passed, ${failed} failed, ${main.skipped + appservice.skipped + faults.skipped} skipped`);
  if (main.total + appservice.total === 0) { console.error("no tests ran"); process.exit(1); }
  if (failed > 0) process.exit(1);
' "$results" "$( ((appservice_files > 0)) && echo "$appservice_results")" "$faults_results" "$scan" "$appservice_seconds" || status=1
exit "$status"
