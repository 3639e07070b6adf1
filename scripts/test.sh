#!/usr/bin/env bash
# The README's test command: every test of the workspace, snapshots checked (`cargo make test`),
# installing cargo-make first when it is absent (the cargo-make consumer tests need it too).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-make >/dev/null || cargo install --locked cargo-make
exec cargo make test
