#!/usr/bin/env bash
# The check behind the `mp-login-required` plugin: can an account produce a token?
# `mp-login-status` decides (MP_ACCOUNT, else the active account); its envelope goes to
# $MP_LOGIN_OUT/status.json, from which the plugin takes the account.
# No: start a login, print the authorize URL and the exact command that completes it, fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${MP_LOGIN_OUT:?MP_LOGIN_OUT names the directory for the step files}
mkdir -p "$out"
bin_dir=${MP_LOGIN_BIN_DIR:-}
if "${bin_dir:+${bin_dir%/}/}mp-login-status" </dev/null >"$out/status.json" 2>/dev/null; then
  exit 0
fi
account=${MP_ACCOUNT:-}
echo "mp-login: no Mixpanel account is logged in${account:+ (\`$account\` has no tokens)}; starting a login" >&2
# start's own sentences are for a person running it by hand; here they show only on failure.
if ! bash "$here/step.sh" start 2>"$out/start.stderr"; then
  code=$(cat "$out/start.exit" 2>/dev/null || echo 1)
  cat "$out/start.stderr" >&2
  exit "$code"
fi
url=$(sed -n 's/.*"authorize_url":"\([^"]*\)".*/\1/p' "$out/start.json")
cat >&2 <<MSG

  1. Open this URL in any browser and approve:

     $url

  2. Copy the URL the browser lands on (the page may fail to load) and run:

     MP_LOGIN_REDIRECT_URL='<the URL the browser landed on>' cargo make mp-login-finish

  Then run this task again.
MSG
exit 2
