#!/usr/bin/env bash
# The whole two-shot login against the bundled mock IdP, in a throw-away HOME:
#   mock-idp serve  →  mp-login-start | mock-idp approve | mp-login-finish
# Needs only the Rust toolchain. MOCK_SCENARIO picks the /me scenario (default multi-org).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --workspace --bins
bin="$PWD/target/debug"
demo=$(mktemp -d)
export HOME="$demo/home" MP_STORAGE_DIR="$demo/home/.mp" MP_CONFIG_PATH="$demo/home/.mp/config.toml"
mkdir -p "$HOME"

"$bin/mock-idp" serve --scenario "${MOCK_SCENARIO:-multi-org}" >"$demo/ready.json" 2>"$demo/mock.log" &
mock=$!
# Stop the mock whatever happens, then drop the throw-away HOME.
trap 'kill "$mock" 2>/dev/null || true; wait "$mock" 2>/dev/null || true; rm -rf "$demo"' EXIT

for _ in $(seq 200); do
  [ -s "$demo/ready.json" ] && break
  kill -0 "$mock" 2>/dev/null || { cat "$demo/mock.log" >&2; exit 1; }
  sleep 0.05
done
MP_BASE_URL=$(sed -n 's/.*"base_url":"\([^"]*\)".*/\1/p' "$demo/ready.json")
export MP_BASE_URL
echo "mock IdP at $MP_BASE_URL" >&2

# The user's two shots; `mock-idp approve` plays the person in the browser.
"$bin/mp-login-start" | "$bin/mock-idp" approve | "$bin/mp-login-finish"

echo >&2
echo "--- $MP_CONFIG_PATH" >&2
cat "$MP_CONFIG_PATH" >&2
echo "--- files under $MP_STORAGE_DIR" >&2
(cd "$MP_STORAGE_DIR" && find . -mindepth 1 -printf '%m %p\n' | sort -k2) >&2
