#!/usr/bin/env bash
# The README's demo: `cargo make mp-login-demo` (installing cargo-make first when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-make >/dev/null || cargo install --locked cargo-make
exec cargo make mp-login-demo
