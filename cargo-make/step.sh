#!/usr/bin/env bash
# One login step for the cargo-make tasks of login.toml: runs a kit binary with its inputs taken
# from environment variables, writes its envelope to $MP_LOGIN_OUT/<step>.json and its exit code
# to $MP_LOGIN_OUT/<step>.exit, and exits with the binary's own exit code.
#
#   step.sh login|start|finish|resume|autopick|token|logout
#
# `token` is the exception: mp-token's stdout is the access token itself, which goes to the
# task's stdout and never to a file. `login` (mp-login, for a person) keeps the terminal as its
# stdin, where the person may paste the URL the browser landed on.
set -uo pipefail

step=${1:?usage: step.sh login|start|finish|resume|autopick|token|logout}
out=${MP_LOGIN_OUT:?MP_LOGIN_OUT names the directory for the step files}
mkdir -p "$out"
bin_dir=${MP_LOGIN_BIN_DIR:-}
# The binaries read their inputs from these variables themselves (clap's `env`); an empty one
# counts as unset here, as a task's `env` often leaves them empty.
for var in MP_LOGIN_NAME MP_LOGIN_PROJECT MP_LOGIN_REDIRECT_URL MP_LOGIN_REDIRECT_FILE \
  MP_LOGIN_PLACEHOLDER MP_LOGIN_FROM_ENVELOPE MP_LOGIN_ME_FILE; do
  [ -n "${!var:-}" ] || unset "$var"
done

stdin=/dev/null
case "$step" in
  login)
    bin=mp-login
    stdin=/dev/stdin
    ;;
  start)
    bin=mp-login-start
    # The person finishes with the task, not the raw binary.
    export MP_LOGIN_FINISH_COMMAND="MP_LOGIN_REDIRECT_URL='<the URL the browser landed on>' cargo make mp-login-finish"
    ;;
  finish)
    bin=mp-login-finish
    if [ -z "${MP_LOGIN_REDIRECT_URL:-}" ] && [ -z "${MP_LOGIN_REDIRECT_FILE:-}" ]; then
      echo "mp-login: set MP_LOGIN_REDIRECT_URL (the URL the browser landed on) or MP_LOGIN_REDIRECT_FILE (a file holding it)" >&2
    fi
    ;;
  resume)
    bin=mp-login-resume
    # Without a placeholder, the one the failed finish's envelope names.
    [ -n "${MP_LOGIN_PLACEHOLDER:-}" ] || export MP_LOGIN_FROM_ENVELOPE="${MP_LOGIN_FROM_ENVELOPE:-$out/finish.json}"
    ;;
  autopick)
    bin=mp-autopick
    if [ -z "${MP_LOGIN_ME_FILE:-}" ]; then
      echo "mp-login: set MP_LOGIN_ME_FILE to the /me JSON to pick from" >&2
      export MP_LOGIN_ME_FILE=/dev/null
    fi
    ;;
  token)
    exec "${bin_dir:+${bin_dir%/}/}mp-token" </dev/null
    ;;
  logout) bin=mp-logout ;;
  *)
    echo "mp-login: unknown step \`$step\`" >&2
    exit 3
    ;;
esac

# stdin is an input only for `login`: a task's redirect comes from the variables above.
"${bin_dir:+${bin_dir%/}/}$bin" <"$stdin" >"$out/$step.json"
code=$?
echo "$code" >"$out/$step.exit"
if [ "$code" -ne 0 ]; then
  echo "mp-login: step \`$step\` failed with exit code $code; its envelope is $out/$step.json" >&2
fi
exit "$code"
