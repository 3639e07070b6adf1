#!/usr/bin/env python3
"""The seed's `mp login --finish` (no lock: its placeholder is empty until its tokens land) while
the kit's `mp-login-start` sweeps the same storage directory, over and over, with `mp-token` and
`mp-login-status` running too. Every round the seed's login must publish and its token answer
/me: the sweep may never remove a placeholder a lockless login is filling.

Usage (the seed's python; needs the seed's seed_mp.py beside setup-venv):
  "$(SEED/setup-venv)" scripts/seed-race.py SEED_DIR target/release [ROUNDS]
Last line: 'seed finish beside kit sweeps: K/N published'; exit 1 unless K == N."""
import json, os, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

SEED, KIT = Path(sys.argv[1]), Path(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 15
PY = sys.executable

mock = subprocess.Popen([str(KIT / "mock-idp"), "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
base = json.loads(mock.stdout.readline())["base_url"]


def admin(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def env_for(home):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    e.update(HOME=str(home), MP_STORAGE_DIR=str(home / ".mp"), MP_OAUTH_STORAGE_DIR=str(home / ".mp"),
             MP_CONFIG_PATH=str(home / ".mp/config.toml"), MP_BASE_URL=base, MOCK_BASE=base)
    return e


published = 0
try:
    for r in range(ROUNDS):
        home = Path(tempfile.mkdtemp(prefix="mp-seed-race"))
        env = env_for(home)
        seed = lambda *a, **kw: subprocess.Popen([PY, str(SEED / "seed_mp.py"), "login", *a], env=env,
                                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, **kw)
        out, _ = seed("--start").communicate(timeout=60)
        url = json.loads(out.decode().strip().splitlines()[-1])["authorize_url"]
        redirect = subprocess.run([str(KIT / "mock-idp"), "approve", url], capture_output=True,
                                  timeout=30).stdout.decode().strip()
        # /me answers late: the seed's placeholder exists, without its tokens at first.
        admin("/__admin/faults", {"endpoint": "me", "delay_ms": 800, "times": 1})
        finish = seed("--finish", redirect)
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
            req = urllib.request.Request(base + "/api/app/me",
                                         headers={"Authorization": "Bearer " + token.stdout.decode().strip()})
            ok = urllib.request.urlopen(req).status == 200
        if ok:
            published += 1
        else:
            print(f"round {r}: seed finish exit {finish.returncode}: {err.decode()[-300:]!r}")
finally:
    mock.terminate()
print(f"seed finish beside kit sweeps: {published}/{ROUNDS} published")
sys.exit(0 if published == ROUNDS else 1)
