#!/usr/bin/env bash
# `cargo make mp-login-demo`: the whole two-shot login, composed of the login tasks, against a
# mock-idp this script starts and always stops, in a throw-away HOME under target/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo="${MP_LOGIN_DEMO_DIR:-$root/target/mp-login-demo}"
# Only what the demo itself writes is cleared: MP_LOGIN_DEMO_DIR may name any directory.
rm -rf "$demo/home" "$demo/steps" "$demo/mock.json" "$demo/mock.log" "$demo/redirect.txt"
mkdir -p "$demo/home"
# cargo and rustup keep their own homes while HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$demo/home" MP_STORAGE_DIR="$demo/home/.mp" MP_CONFIG_PATH="$demo/home/.mp/config.toml"
export MP_LOGIN_OUT="$demo/steps" MP_LOGIN_BIN_DIR="${MP_LOGIN_BIN_DIR:-$root/target/debug}"

"$MP_LOGIN_BIN_DIR/mock-idp" serve --scenario "${MOCK_SCENARIO:-multi-org}" >"$demo/mock.json" 2>"$demo/mock.log" &
mock=$!
stop_mock() {
  kill "$mock" 2>/dev/null || true
  wait "$mock" 2>/dev/null || true
}
trap stop_mock EXIT
for _ in $(seq 200); do
  [ -s "$demo/mock.json" ] && break
  kill -0 "$mock" 2>/dev/null || { cat "$demo/mock.log" >&2; exit 1; }
  sleep 0.05
done
MP_BASE_URL=$(sed -n 's/.*"base_url":"\([^"]*\)".*/\1/p' "$demo/mock.json")
export MP_BASE_URL
echo "mp-login-demo: mock IdP at $MP_BASE_URL; step files in $MP_LOGIN_OUT" >&2

task() { cargo make --makefile "$root/Makefile.toml" --skip-tasks '^build$' "$@"; }
task mp-login-start
# The user in the browser: open the authorize URL, land on the redirect.
"$MP_LOGIN_BIN_DIR/mock-idp" approve <"$MP_LOGIN_OUT/start.json" >"$demo/redirect.txt"
MP_LOGIN_REDIRECT_FILE="$demo/redirect.txt" task mp-login-finish

echo "mp-login-demo: published account (from $MP_LOGIN_OUT/finish.json):" >&2
cat "$MP_LOGIN_OUT/finish.json"
echo "--- $MP_CONFIG_PATH" >&2
cat "$MP_CONFIG_PATH" >&2
