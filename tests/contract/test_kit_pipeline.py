"""(c) The installed `mp-login-start | mock-idp approve | mp-login-finish` pipeline, from
subprocess, against the `mock_idp` fixture; the published account read back."""

from __future__ import annotations

import json
import os
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Dict

import pytest
from mixpanel_mock_idp import MockIdp

from installed import script

MP_LOGIN = "mp-login"


def kit_env(home: Path, base_url: str) -> Dict[str, str]:
    """A throw-away HOME whose logins go to the mock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    env.update(
        HOME=str(home),
        MP_STORAGE_DIR=str(home / ".mp"),
        MP_CONFIG_PATH=str(home / ".mp" / "config.toml"),
        MP_BASE_URL=base_url,
    )
    return env


def two_shot_login(env: Dict[str, str]) -> dict:
    """`mp-login-start | mock-idp approve | mp-login-finish`; finish's envelope."""
    start = subprocess.Popen([script(MP_LOGIN, "mp-login-start")], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    approve = subprocess.Popen(
        [script("mixpanel-mock-idp", "mock-idp"), "approve"], env=env, stdin=start.stdout, stdout=subprocess.PIPE
    )
    assert start.stdout is not None and approve.stdout is not None
    start.stdout.close()
    finish = subprocess.run(
        [script(MP_LOGIN, "mp-login-finish")], env=env, stdin=approve.stdout, capture_output=True, timeout=60
    )
    approve.stdout.close()
    assert start.wait(timeout=10) == 0 and approve.wait(timeout=10) == 0
    envelope = json.loads(finish.stdout)
    assert finish.returncode == 0, (envelope, finish.stderr.decode())
    return envelope


def test_the_installed_pipeline_publishes_an_account(mock_idp: MockIdp, tmp_path: Path) -> None:
    env = kit_env(tmp_path, mock_idp.base_url)
    envelope = two_shot_login(env)
    name = envelope["account"]["name"]
    tokens = json.loads((tmp_path / ".mp" / "accounts" / name / "tokens.json").read_text())
    assert tokens["access_token"] in mock_idp.secrets()
    assert f'account = "{name}"' in (tmp_path / ".mp" / "config.toml").read_text()
    status = subprocess.run([script(MP_LOGIN, "mp-login-status")], env=env, capture_output=True, timeout=30)
    assert status.returncode == 0, status.stdout
    # The kit reads the RFC 8414 metadata for the issuer it checks the redirect's `iss` against.
    assert [(e["method"], e["path"], e["status"]) for e in mock_idp.journal()] == [
        ("POST", "/oauth/mcp/register/", 201),
        ("GET", "/.well-known/oauth-authorization-server/oauth", 200),
        ("GET", "/oauth/authorize/", 302),
        ("POST", "/oauth/token/", 200),
        ("GET", "/api/app/me", 200),
    ]


@pytest.mark.mock_idp(scenario="multi-org")
def test_the_installed_pipeline_picks_from_the_marker_s_scenario(mock_idp: MockIdp, tmp_path: Path) -> None:
    envelope = two_shot_login(kit_env(tmp_path, mock_idp.base_url))
    assert envelope["account"]["name"]
    # multi-org: the pick comes from the organization with most projects (docs/pick.md).
    assert envelope["project"]["id"]


def test_the_kit_resolves_localhost(mock_idp: MockIdp, tmp_path: Path) -> None:
    # The wheel's binaries are linked against glibc 2.17 and resolve names through the system's
    # NSS: `localhost` must work as it does for a source build.
    port = mock_idp.base_url.rsplit(":", 1)[1]
    two_shot_login(kit_env(tmp_path, f"http://localhost:{port}"))
    assert [e["path"] for e in mock_idp.journal()][-1] == "/api/app/me"


@pytest.mark.parametrize("dist,exe", [(MP_LOGIN, "mp-login-start"), ("mixpanel-mock-idp", "mock-idp")])
def test_the_binaries_are_the_wheel_s_version(dist: str, exe: str) -> None:
    out = subprocess.run([script(dist, exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [exe, version(dist)]


def can_unshare_mounts() -> bool:
    try:
        return os.geteuid() == 0 and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not can_unshare_mounts(), reason="needs root and `unshare -m` to give the run its own /etc/resolv.conf")
def test_a_wheel_binary_resolves_a_dns_name_through_the_system_resolver(mock_idp: MockIdp, tmp_path: Path) -> None:
    # In a mount namespace whose /etc/resolv.conf names a stub DNS server, `mock-idp approve`
    # (built and linked as the kit's binaries are) follows the authorize URL by a DNS name: the
    # name is resolved the way the system's glibc does, by DNS, not by /etc/hosts. (The kit's
    # own binaries take http only on loopback hosts, so the login's base URL stays 127.0.0.1; a
    # finish would then rightly refuse the redirect's `iss`, which names the other host.)
    from dns_stub import DnsStub

    stub = DnsStub("127.53.0.1")
    try:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text("nameserver 127.53.0.1\noptions attempts:1 timeout:2\n")
        origin = mock_idp.base_url.split("//", 1)[1]
        env = kit_env(tmp_path, mock_idp.base_url)
        pipeline = (
            'mount --bind "$1" /etc/resolv.conf && "$2" 2>/dev/null'
            ' | sed "s|//$3/|//mock-idp.test:${3#*:}/|" | "$4" approve'
        )
        approve = subprocess.run(
            [
                "unshare", "-m", "sh", "-c", pipeline, "sh", str(resolv),
                script(MP_LOGIN, "mp-login-start"), origin,
                script("mixpanel-mock-idp", "mock-idp"),
            ],
            env=env,
            capture_output=True,
            timeout=60,
        )
    finally:
        stub.close()
    assert approve.returncode == 0, approve.stderr
    assert approve.stdout.startswith(b"http://localhost:19284/callback?code=")
    assert "mock-idp.test" in stub.questions
    assert [(e["path"], e["status"]) for e in mock_idp.journal()][-1] == ("/oauth/authorize/", 302)
