#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (as root; otherwise says how).
# Prints the path of the browser on success.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for b in /usr/bin/chromium /usr/bin/chromium-browser; do
  [[ -x "$b" ]] && { echo "$b"; exit 0; }
done
[[ "$(id -u)" == 0 ]] || { echo "[chromium] not installed; run: sudo apt-get install -y chromium" >&2; exit 1; }
mkdir -p "$ROOT/.stack"
(
  exec 9>"$ROOT/.stack/apt.lock"
  flock 9
  [[ -x /usr/bin/chromium ]] && exit 0
  echo "[chromium] installing Debian's chromium for the browser tests" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$ROOT/.stack/apt-chromium.log" 2>&1 ||
    { echo "[chromium] apt-get install chromium failed; see .stack/apt-chromium.log" >&2; exit 1; }
)
echo /usr/bin/chromium
