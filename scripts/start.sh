#!/usr/bin/env bash
# `npm start`: install what is missing, build, bring up the local stack, run the worker and the
# API, print where everything is, and stop all of it on Ctrl-C (state is kept in .stack/<name>/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export STACK_NAME="${STACK_NAME:-dev}"
DIR=".stack/$STACK_NAME"
children=()
stopping=0
cleanup() {
  ((stopping)) && return
  stopping=1
  echo "[start] stopping worker and API" >&2
  for p in "${children[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${children[@]}"; do wait "$p" 2>/dev/null || true; done
  bash scripts/stack.sh down || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/stack.sh up
# shellcheck disable=SC1090
source "$DIR/stack.env"
node dist/worker/main.js >>"$DIR/worker.log" 2>&1 &
children+=($!)
node dist/api/main.js >>"$DIR/api.log" 2>&1 &
children+=($!)

api="http://127.0.0.1:$API_PORT"
for ((i = 0; i < 120; i++)); do
  curl -fsS -o /dev/null --max-time 2 "$api/healthz" 2>/dev/null && break
  for p in "${children[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "[start] a process exited early; see $DIR/worker.log and $DIR/api.log" >&2; tail -n 20 "$DIR/worker.log" "$DIR/api.log" >&2; exit 1; }
  done
  sleep 0.5
done
((i < 120)) || { echo "[start] the API did not answer at $api/healthz; see $DIR/api.log" >&2; exit 1; }

cat <<EOT

matrix-orchestrator is running (stack "$STACK_NAME"):
  API           $api            (health: $api/healthz)
  Demo          $api/demo/      (chat; sign in with: npm run -s dev-user-token -- --tenant T --user U)
  Worker        http://127.0.0.1:$WORKER_HTTP_PORT       (/metrics, /healthz, /readyz)
  Temporal UI   $TEMPORAL_UI_URL
  Temporal      $TEMPORAL_ADDRESS    (CLI: $TEMPORAL_CLI --address $TEMPORAL_ADDRESS workflow list)
  Synapse       $MATRIX_HOMESERVER_URL
  PostgreSQL    (see DATABASE_URL in $DIR/stack.env)
  Logs          $DIR/{worker,api,temporal,synapse,postgres}.log
  Dev token     source $DIR/stack.env && npm run -s dev-token

Press Ctrl-C to stop everything.
EOT
echo "[start] ready" >&2
# Stay up while both processes run; if one dies, stop the rest and say so.
while :; do
  for p in "${children[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "[start] a process exited; see $DIR/worker.log and $DIR/api.log" >&2
      exit 1
    fi
  done
  sleep 1
done
