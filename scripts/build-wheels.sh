#!/usr/bin/env bash
# `cargo make wheels`: the `mp-login` and `mixpanel-mock-idp` wheels in target/wheels/, tagged
# manylinux2014 (glibc 2.17, so pip installs them on any Linux CI image of the last decade).
#
# Why zig: a plain build links against this machine's glibc and gets its tag (2.36 here:
# manylinux_2_34, which older images refuse). `maturin --zig` links against glibc 2.17's symbol
# versions instead, still dynamically: host names resolve through the system's own NSS
# (/etc/nsswitch.conf, nscd, systemd-resolved), which a static glibc would bypass or break.
# maturin's auditwheel check runs on each wheel and fails the build on a newer symbol.
#
# The tools (maturin, ziglang; pinned) go into a venv under target/ once and are reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${WHEEL_TOOLS_VENV:-$root/target/wheel-tools}
maturin_version=1.16.0
ziglang_version=0.17.1
if ! "$tools/bin/maturin" --version 2>/dev/null | grep -qx "maturin $maturin_version" \
  || ! "$tools/bin/python" -m ziglang version 2>/dev/null | grep -qx "$ziglang_version"; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q "maturin==$maturin_version" "ziglang==$ziglang_version"
fi
export PATH="$tools/bin:$PATH"
out=$root/target/wheels
rm -f "$out"/mp_login-*.whl "$out"/mixpanel_mock_idp-*.whl
cd "$root"
# Both builds share target/x86_64-unknown-linux-gnu/release: the second reuses the first's
# dependencies (reqwest, rustls, serde…), so the pair costs little more than one build.
for manifest in Cargo.toml mock-idp/Cargo.toml; do
  maturin build --release --zig --compatibility manylinux2014 --manifest-path "$manifest" --out "$out"
done
ls -l "$out"/*.whl
