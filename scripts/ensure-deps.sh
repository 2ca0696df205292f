#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or the lockfile changed, then builds.
# Runs before anything else in `npm start` and `npm test`, on the machine's own npm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .stack
stamp=node_modules/.lock.sha
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -x node_modules/.bin/node ]]; then
  echo "[setup] installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >.stack/npm-ci.log 2>&1 || { echo "[setup] npm ci failed; see .stack/npm-ci.log" >&2; exit 1; }
  echo "$want" >"$stamp"
fi
# npm puts node_modules/.bin first on PATH, so `node` below is the pinned Node 22.
node_modules/.bin/node --version | grep -q '^v22\.' || { echo "[setup] node_modules/.bin/node is not Node 22" >&2; exit 1; }
# The time-skipping test server of the workflow tests (decision 0054), once.
bash scripts/ensure-test-server.sh
echo "[setup] building (tsc)" >&2
node_modules/.bin/tsc -p tsconfig.json
