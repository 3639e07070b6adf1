#!/usr/bin/env bash
# The kit beside the seed (mixpanel-headless PR #158) and mixpanel-headless 0.4, on release
# builds: the side-by-side dance, the auto-pick on random /me bodies, the /me reader on odd bodies
# (seed-differential.py), the seed's lockless finish beside the kit's sweeps (seed-race.py), the
# seed's start finished by the kit's listener (seed-listen.py), and
# the published account in mp 0.4's own CLI. Needs the seed's source and its tooling in SEED_DIR
# (default: ../shared/seed beside the project; see docs/seed.md#seed-check) and PyPI for the venvs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seed=${SEED_DIR:-$root/../shared/seed}
if [ ! -x "$seed/setup-venv" ]; then
  echo "seed-check: no seed at $seed: set SEED_DIR to a directory with the seed's source and tooling (docs/seed.md#seed-check)" >&2
  exit 2
fi
cd "$root"
cargo build --release --workspace
"$seed/compare-dance" target/release
"$("$seed/setup-venv")" scripts/seed-compare-autopick.py target/release/mp-autopick "${SEED_BODIES:-1000}"
"$("$seed/setup-venv")" scripts/seed-differential.py target/release/mp-autopick "${SEED_DIFFERENTIAL:-3000}"
"$("$seed/setup-venv")" scripts/seed-race.py "$seed" target/release "${SEED_RACE_ROUNDS:-15}"
"$("$seed/setup-venv")" scripts/seed-listen.py "$seed" target/release "${SEED_LISTEN_ROUNDS:-3}"
scripts/check-mp-0.4.sh target/release
