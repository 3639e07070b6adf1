#!/usr/bin/env bash
# `cargo make contract`: the Python contract suite (tests/contract) against the installed wheels
# only. A fresh venv each run; the two wheels come from target/wheels/ with no index access
# (`--no-index`); pytest and mixpanel-headless 0.4 (for part b) from the index, cached under
# target/pip-cache. PATH holds the venv and the system, no cargo and no target/: what the suite
# runs is what pip installed. Build the wheels first (`cargo make wheels`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/contract-venv
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$root/target/pip-cache} PIP_DISABLE_PIP_VERSION_CHECK=1
shopt -s nullglob
wheels=("$root"/target/wheels/mp_login-*.whl "$root"/target/wheels/mixpanel_mock_idp-*.whl)
[ "${#wheels[@]}" -eq 2 ] || { echo "contract: want the two wheels in target/wheels/ (cargo make wheels); found ${wheels[*]:-none}" >&2; exit 1; }

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --no-index "${wheels[@]}"
# typer 0.20 dropped an argument mixpanel-headless 0.4 passes (scripts/check-mp-0.4.sh).
"$venv/bin/pip" install -q pytest 'mixpanel-headless==0.4.0' 'typer<0.20'

want=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]["version"])' "$root/Cargo.toml")
for exe in mp-login-start mock-idp; do
  got=$("$venv/bin/$exe" --version)
  [ "$got" = "$exe $want" ] || { echo "contract: $exe --version says '$got', the workspace is $want" >&2; exit 1; }
done
echo "contract: mp-login-start and mock-idp --version match the workspace version $want"

cd "$root"
# The package must be the installed one, not this tree's mock-idp/python.
env -i HOME="$HOME" PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" "$venv/bin/python" -c \
  'import mixpanel_mock_idp, sys; p = mixpanel_mock_idp.__file__; sys.exit(0 if p.startswith(sys.argv[1]) else f"imported from {p}")' "$venv"
env -i HOME="$HOME" PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 MP_CONTRACT_REQUIRE_HEADLESS=1 \
  "$venv/bin/pytest" -q -p no:cacheprovider tests/contract "$@"
