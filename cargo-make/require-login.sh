#!/usr/bin/env bash
# The check behind the `mp-login-required` plugin: is an account published?
# Yes: its name goes to $MP_LOGIN_OUT/account and the plugin runs the task with MP_ACCOUNT set.
# No: start a login, print the authorize URL and the exact command that completes it, fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${MP_LOGIN_OUT:?MP_LOGIN_OUT names the directory for the step files}
mkdir -p "$out"
rm -f "$out/account"
storage=${MP_STORAGE_DIR:-${MP_OAUTH_STORAGE_DIR:-$HOME/.mp}}
config=${MP_CONFIG_PATH:-$HOME/.mp/config.toml}

account=${MP_ACCOUNT:-}
if [ -z "$account" ] && [ -f "$config" ]; then
  # `[active] account = "<name>"`, as mp-login-finish writes it.
  account=$(sed -n '/^[[:space:]]*\[[[:space:]]*active[[:space:]]*\]/,/^[[:space:]]*\[/ s/^[[:space:]]*account[[:space:]]*=[[:space:]]*["'"'"']\([A-Za-z0-9_-]*\)["'"'"'].*/\1/p' "$config" | head -n1)
fi
if [ -n "$account" ] && [ -f "$storage/accounts/$account/tokens.json" ]; then
  echo "$account" >"$out/account"
  echo "mp-login: using the Mixpanel account \`$account\`" >&2
  exit 0
fi

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
