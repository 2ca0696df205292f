#!/usr/bin/env bash
# Temporal's time-skipping test server (Java), for the workflow tests that skip time
# (test/workflows/time-skipping.ts; decision 0054). The SDK would download it, which it cannot do
# here: Maven fetches io.temporal:temporal-test-server and its dependencies (scripts/test-server/pom.xml)
# into .stack/test-server/lib once, and .stack/test-server/temporal-test-server runs it on the port
# the SDK passes. Needs java (17+) and mvn; without them it says so and the rest of the set-up goes on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.stack/test-server"
POM="$ROOT/scripts/test-server/pom.xml"
stamp="$DIR/lib/.pom.sha"
want="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    echo "[setup] java and mvn are needed for the time-skipping test server (decision 0054); its tests will fail" >&2
    exit 0
  fi
  echo "[setup] fetching Temporal's time-skipping test server (mvn)" >&2
  rm -rf "$DIR/lib"
  mkdir -p "$DIR"
  mvn -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$DIR/lib" >"$DIR/mvn.log" 2>&1 ||
    { echo "[setup] mvn could not fetch the time-skipping test server (see $DIR/mvn.log); its tests will fail, the rest goes on" >&2; exit 0; }
  echo "$want" >"$stamp"
fi
cat >"$DIR/temporal-test-server" <<'SH'
#!/usr/bin/env bash
# Written by scripts/ensure-test-server.sh: the SDK runs it as `temporal-test-server <port> [args]`.
# C1 only and the serial collector: the SDK waits 5 s for the port, and the JVM starts faster so.
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"
SH
chmod +x "$DIR/temporal-test-server"
