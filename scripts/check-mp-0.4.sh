#!/usr/bin/env bash
# The published account keeps working in mixpanel-headless 0.4's own `mp` CLI: a kit login
# against mock-idp, then `mp account list`, `mp account token` and `mp account test` (with
# MP_API_BASE_URL pointing its API calls at the mock). Installs mixpanel-headless==0.4.0 into a
# venv (MP04_VENV, default target/mp04-venv) the first time.
#   scripts/check-mp-0.4.sh [KIT_BIN_DIR]   (default target/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/target/release}" && pwd)
venv=${MP04_VENV:-$root/target/mp04-venv}
if ! "$venv/bin/mp" --version 2>/dev/null | grep -q '^mp version 0\.4\.0$'; then
  python3 -m venv "$venv"
  # typer 0.20 dropped an argument mixpanel-headless 0.4 passes.
  "$venv/bin/pip" install -q 'mixpanel-headless==0.4.0' 'typer<0.20'
fi
work=$(mktemp -d)
mock=
cleanup() { [ -n "$mock" ] && kill "$mock" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$bin/mock-idp" serve --scenario multi-org >"$work/mock.json" 2>/dev/null &
mock=$!
for _ in $(seq 100); do [ -s "$work/mock.json" ] && break; sleep 0.05; done
base=$(sed -n 's/.*"base_url":"\([^"]*\)".*/\1/p' "$work/mock.json")
mkdir -p "$work/home"
export HOME="$work/home" MP_STORAGE_DIR="$work/home/.mp" MP_CONFIG_PATH="$work/home/.mp/config.toml"
unset MP_OAUTH_STORAGE_DIR MP_ACCOUNT MP_PROJECT_ID MP_OAUTH_TOKEN
fail() { echo "check-mp-0.4: FAIL: $*" >&2; exit 1; }

MP_BASE_URL=$base "$bin/mp-login-start" 2>/dev/null | "$bin/mock-idp" approve \
  | MP_BASE_URL=$base "$bin/mp-login-finish" >"$work/finish.json" 2>/dev/null \
  || fail "the kit's login did not publish: $(cat "$work/finish.json")"
name=$(sed -n 's/.*"account":{"name":"\([^"]*\)".*/\1/p' "$work/finish.json")
[ -n "$name" ] || fail "no account name in $(cat "$work/finish.json")"
mp="$venv/bin/mp"

# 1. `mp account list`: the account, its type and region, active.
"$mp" account list >"$work/list.txt" 2>&1 || fail "mp account list: $(cat "$work/list.txt")"
grep -Eq "^$name +oauth_browser +us +\*" "$work/list.txt" || fail "mp account list shows: $(cat "$work/list.txt")"
echo "ok: mp account list shows \`$name\` (oauth_browser, us, active)"

# 2. `mp account token`: the access token the kit saved (compared, never printed).
"$mp" account token >"$work/token.txt" 2>"$work/token.err" || fail "mp account token: $(cat "$work/token.err")"
saved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$MP_STORAGE_DIR/accounts/$name/tokens.json")
[ "$(tr -d '\n' <"$work/token.txt")" = "$saved" ] || fail "mp account token is not the token in tokens.json"
echo "ok: mp account token prints the access token of accounts/$name/tokens.json"

# 3. `mp account test`: /me through the mock with that token.
MP_API_BASE_URL=$base "$mp" account test >"$work/test.json" 2>&1 || fail "mp account test: $(cat "$work/test.json")"
python3 - "$work/test.json" "$name" <<'PY' || fail "mp account test said: $(cat "$work/test.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and r["account_name"] == sys.argv[2] and r["accessible_project_count"] == 9, r
PY
echo "ok: MP_API_BASE_URL=<mock> mp account test: ok, 9 projects, as ada@example.com"

# 4. After `mp-token` refreshed the account, mp reads the new token.
"$bin/mp-token" --force-refresh >"$work/refreshed.txt" 2>"$work/refresh.err" || fail "mp-token: $(cat "$work/refreshed.txt")"
[ "$(cat "$work/refreshed.txt")" != "$saved" ] || fail "mp-token did not refresh"
"$mp" account token >"$work/token2.txt" 2>"$work/token2.err" || fail "mp account token after the refresh: $(cat "$work/token2.err")"
cmp -s "$work/refreshed.txt" "$work/token2.txt" || fail "mp account token is not the token mp-token refreshed"
echo "ok: after mp-token --force-refresh, mp account token prints the new token"
echo "check-mp-0.4: 4 passed, 0 failed"
