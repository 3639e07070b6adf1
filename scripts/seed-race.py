#!/usr/bin/env python3
"""The seed's `mp login --finish` (no lock: its placeholder is empty until its tokens land) while
the kit's `mp-login-start` sweeps the same storage directory, over and over, with `mp-token` and
`mp-login-status` running too. Every round the seed's login must publish and its token answer
/me: the sweep may never remove a placeholder a lockless login is filling.

Usage (the seed's python; needs the seed's seed_mp.py beside setup-venv):
  "$(SEED/setup-venv)" scripts/seed-race.py SEED_DIR target/release [ROUNDS]
Last line: 'seed finish beside kit sweeps: K/N published'; exit 1 unless K == N."""
import subprocess, sys, tempfile, time
from pathlib import Path

from seed_run import Mock, approve, env_for, seed_login, seed_start  # scripts/seed_run.py

SEED, KIT = Path(sys.argv[1]), Path(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 15
PY = sys.executable

mock = Mock(KIT)
base = mock.base


published = 0
try:
    for r in range(ROUNDS):
        home = Path(tempfile.mkdtemp(prefix="mp-seed-race"))
        env = env_for(home, base)
        url = seed_start(SEED, PY, env)["authorize_url"]
        redirect = approve(KIT, url)
        # /me answers late: the seed's placeholder exists, without its tokens at first.
        mock.admin("/__admin/faults", {"endpoint": "me", "delay_ms": 800, "times": 1})
        finish = seed_login(SEED, PY, env, "--finish", redirect)
        deadline = time.time() + 1.5
        while time.time() < deadline and finish.poll() is None:
            for cmd in (["mp-login-start", "--inflight", str(home / "other-inflight.json")],
                        ["mp-token"], ["mp-login-status"]):
                subprocess.run([str(KIT / cmd[0]), *cmd[1:]], env=env, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=60)
        out, err = finish.communicate(timeout=120)
        token = subprocess.run([str(KIT / "mp-token")], env=env, capture_output=True, timeout=60)
        ok = finish.returncode == 0 and token.returncode == 0
        if ok:
            ok = mock.me_status(token.stdout.decode().strip()) == 200
        if ok:
            published += 1
        else:
            print(f"round {r}: seed finish exit {finish.returncode}: {err.decode()[-300:]!r}")
finally:
    mock.stop()
print(f"seed finish beside kit sweeps: {published}/{ROUNDS} published")
sys.exit(0 if published == ROUNDS else 1)
