#!/usr/bin/env bash
# One login step for the cargo-make tasks of login.toml: runs a kit binary with its inputs taken
# from environment variables, writes its envelope to $MP_LOGIN_OUT/<step>.json and its exit code
# to $MP_LOGIN_OUT/<step>.exit, and exits with the binary's own exit code.
#
#   step.sh start|finish|resume|autopick
set -uo pipefail

step=${1:?usage: step.sh start|finish|resume|autopick}
out=${MP_LOGIN_OUT:?MP_LOGIN_OUT names the directory for the step files}
mkdir -p "$out"
bin_dir=${MP_LOGIN_BIN_DIR:-}
args=()
opt() { # opt FLAG VALUE: pass FLAG VALUE when VALUE is set
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}

case "$step" in
  start)
    bin=mp-login-start
    opt --name "${MP_LOGIN_NAME:-}"
    opt --project "${MP_LOGIN_PROJECT:-}"
    ;;
  finish)
    bin=mp-login-finish
    if [ -n "${MP_LOGIN_REDIRECT_URL:-}" ] && [ -n "${MP_LOGIN_REDIRECT_FILE:-}" ]; then
      # Let the binary say it: its INVALID_ARGUMENT envelope is the step's record.
      args+=("$MP_LOGIN_REDIRECT_URL" --redirect-file "$MP_LOGIN_REDIRECT_FILE")
    elif [ -n "${MP_LOGIN_REDIRECT_URL:-}" ]; then
      args+=("$MP_LOGIN_REDIRECT_URL")
    elif [ -n "${MP_LOGIN_REDIRECT_FILE:-}" ]; then
      args+=(--redirect-file "$MP_LOGIN_REDIRECT_FILE")
    else
      echo "mp-login: set MP_LOGIN_REDIRECT_URL (the URL the browser landed on) or MP_LOGIN_REDIRECT_FILE (a file holding it)" >&2
    fi
    opt --name "${MP_LOGIN_NAME:-}"
    opt --project "${MP_LOGIN_PROJECT:-}"
    ;;
  resume)
    bin=mp-login-resume
    if [ -n "${MP_LOGIN_PLACEHOLDER:-}" ]; then
      args+=("$MP_LOGIN_PLACEHOLDER")
    else
      args+=(--from-envelope "$out/finish.json")
    fi
    opt --name "${MP_LOGIN_NAME:-}"
    opt --project "${MP_LOGIN_PROJECT:-}"
    ;;
  autopick)
    bin=mp-autopick
    if [ -z "${MP_LOGIN_ME_FILE:-}" ]; then
      echo "mp-login: set MP_LOGIN_ME_FILE to the /me JSON to pick from" >&2
    fi
    args+=(--me "${MP_LOGIN_ME_FILE:-/dev/null}")
    opt --project "${MP_LOGIN_PROJECT:-}"
    ;;
  *)
    echo "mp-login: unknown step \`$step\`" >&2
    exit 3
    ;;
esac

# stdin is never an input here: a task's redirect comes from the variables above.
"${bin_dir:+${bin_dir%/}/}$bin" "${args[@]}" </dev/null >"$out/$step.json"
code=$?
echo "$code" >"$out/$step.exit"
if [ "$code" -ne 0 ]; then
  echo "mp-login: step \`$step\` failed with exit code $code; its envelope is $out/$step.json" >&2
fi
exit "$code"
