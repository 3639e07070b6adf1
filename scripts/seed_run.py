"""What the scripts that run the seed's own CLI beside the kit share: a `mock-idp serve`, the
environment of one throw-away HOME (the seed's variable names and the kit's), and a run of the
seed's `mp login` in it."""
import json, os, subprocess, urllib.request
from pathlib import Path


class Mock:
    """`mock-idp serve` until `stop()`."""

    def __init__(self, kit):
        self.proc = subprocess.Popen([str(Path(kit) / "mock-idp"), "serve"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.base = json.loads(self.proc.stdout.readline())["base_url"]

    def admin(self, path, body):
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()

    def journal(self):
        """The requests served so far (bounded: the latest ones)."""
        return json.load(urllib.request.urlopen(self.base + "/__admin/journal"))

    def me_status(self, token):
        req = urllib.request.Request(self.base + "/api/app/me", headers={"Authorization": "Bearer " + token})
        return urllib.request.urlopen(req).status

    def stop(self):
        self.proc.terminate()


def env_for(home, base):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    e.update(HOME=str(home), MP_STORAGE_DIR=str(home / ".mp"), MP_OAUTH_STORAGE_DIR=str(home / ".mp"),
             MP_CONFIG_PATH=str(home / ".mp/config.toml"), MP_BASE_URL=base, MOCK_BASE=base)
    return e


def seed_login(seed, python, env, *args):
    """The seed's `mp login ARGS`, running."""
    return subprocess.Popen([python, str(Path(seed) / "seed_mp.py"), "login", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def seed_start(seed, python, env):
    """The seed's `mp login --start`: its envelope."""
    out, _ = seed_login(seed, python, env, "--start").communicate(timeout=60)
    return json.loads(out.decode().strip().splitlines()[-1])


def approve(kit, url):
    """The person in the browser: the redirect URL."""
    return subprocess.run([str(Path(kit) / "mock-idp"), "approve", url], capture_output=True,
                          timeout=30).stdout.decode().strip()
