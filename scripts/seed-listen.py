#!/usr/bin/env python3
"""The seed's `mp login --start` finished by the kit's `mp-login-finish --listen`: the seed picks
the callback port and writes the inflight file; the kit listens on that port; the person
approves and the browser returns to the listener (a plain GET here). Every round must publish,
show a page naming the account, make one code exchange, and leave a token that answers /me.

Run with the seed's python, from SEED_DIR/setup-venv (seed_mp.py must sit beside it), as
seed-check does: seed-listen.py SEED_DIR target/release [ROUNDS]; 3 rounds by default. The last
line says 'seed start, kit --listen: K/N published'; the exit is 1 unless every round published."""
import json, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

from seed_run import Mock, approve, env_for, seed_start  # scripts/seed_run.py

SEED, KIT = Path(sys.argv[1]), Path(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
PY = sys.executable


def wait_for_port(port):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


mock = Mock(KIT)
published = 0
try:
    for r in range(ROUNDS):
        home = Path(tempfile.mkdtemp(prefix="mp-seed-listen"))
        env = env_for(home, mock.base)
        seen = mock.journal()["total"]
        started = seed_start(SEED, PY, env)
        port = int(started["redirect_uri"].split(":")[2].split("/")[0])
        listener = subprocess.Popen([str(KIT / "mp-login-finish"), "--listen", "--listen-timeout", "60",
                                     "--inflight", started["inflight_path"]], env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_port(port)
        page = urllib.request.urlopen(approve(KIT, started["authorize_url"]), timeout=60)
        body = page.read().decode()
        out, err = listener.communicate(timeout=60)
        envelope = json.loads(out)
        exchanges = sum(1 for j in mock.journal()["entries"] if j["seq"] > seen and j["path"] == "/oauth/token/")
        token = subprocess.run([str(KIT / "mp-token")], env=env, capture_output=True, timeout=60)
        ok = (listener.returncode == 0 and page.status == 200 and envelope["account"]["name"] in body
              and exchanges == 1 and token.returncode == 0
              and mock.me_status(token.stdout.decode().strip()) == 200)
        if ok:
            published += 1
        else:
            print(f"round {r}: listener exit {listener.returncode}, page {page.status}, "
                  f"{exchanges} exchanges: {err.decode()[-300:]!r}")
finally:
    mock.stop()
print(f"seed start, kit --listen: {published}/{ROUNDS} published")
sys.exit(0 if published == ROUNDS else 1)
