"""`MockIdp` and the fixtures' process rules: a killed test run leaves no server, a server that
cannot start fails at once with its stderr, the binary is found where the docs say."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import mixpanel_mock_idp._server as server
from mixpanel_mock_idp import BinaryNotFound, MockIdp, ServerStartError, find_binary

from installed import script

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc")


def running(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie runs nothing and holds no port)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for_file(path: Path, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)
    return path.read_text().strip()


def test_a_pytest_run_killed_by_sigkill_leaves_no_mock_idp(tmp_path: Path) -> None:
    (tmp_path / "test_sleeper.py").write_text(
        textwrap.dedent(
            """
            import os, pathlib, time

            def test_sleeps(mock_idp):
                pathlib.Path(os.environ["PID_FILE"]).write_text(str(mock_idp.pid))
                time.sleep(120)
            """
        )
    )
    pid_file = tmp_path / "pid"
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_sleeper.py")],
        cwd=tmp_path,
        env={**os.environ, "PID_FILE": str(pid_file)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pid = int(wait_for_file(pid_file, 60))
        assert running(pid) and Path(f"/proc/{pid}/comm").read_text().strip() == "mock-idp"
    finally:
        run.kill()
        run.wait()
    assert gone_within(pid, 5), f"mock-idp {pid} outlived the killed pytest"


@pytest.mark.parametrize(
    "flag,stdin",
    [("--exit-with-parent", "subprocess.DEVNULL"), ("--exit-on-stdin-eof", "subprocess.PIPE")],
)
def test_each_way_of_following_the_parent_works_alone(tmp_path: Path, flag: str, stdin: str) -> None:
    pid_file = tmp_path / "pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import pathlib, subprocess, sys, time
                p = subprocess.Popen([sys.argv[1], "serve", "{flag}"], stdin={stdin}, stdout=subprocess.PIPE)
                p.stdout.readline()
                pathlib.Path(sys.argv[2]).write_text(str(p.pid))
                time.sleep(120)
                """
            ),
            script("mixpanel-mock-idp", "mock-idp"),
            str(pid_file),
        ]
    )
    try:
        pid = int(wait_for_file(pid_file, 30))
        time.sleep(0.2)
        assert running(pid), f"mock-idp serve {flag} stopped while its parent lived"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert gone_within(pid, 5), f"mock-idp serve {flag} outlived its parent"


def test_a_server_that_cannot_start_fails_with_its_stderr() -> None:
    started = time.monotonic()
    with pytest.raises(ServerStartError) as failed:
        MockIdp(args=["--journal-capacity", "0"]).start()
    assert "journal-capacity" in failed.value.stderr
    assert time.monotonic() - started < 5


def test_a_silent_server_fails_within_the_ready_timeout(tmp_path: Path) -> None:
    silent = tmp_path / "silent-mock-idp"
    silent.write_text("#!/bin/sh\necho 'about to hang' >&2\nexec sleep 60\n")
    silent.chmod(0o755)
    idp = MockIdp(binary=str(silent), ready_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ServerStartError, match="no ready line within 0.5 s") as failed:
        idp.start()
    assert time.monotonic() - started < 3
    assert "about to hang" in failed.value.stderr
    assert idp.pid is None


def test_mock_idp_stops_its_server_on_exit() -> None:
    with MockIdp(scenario="multi-org") as idp:
        pid = idp.pid
        assert pid is not None and running(pid)
        assert idp.status()["scenario"] == "multi-org"
    assert gone_within(pid, 5)


def test_the_binary_is_the_wheel_s_then_mock_idp_bin_then_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert find_binary() == script("mixpanel-mock-idp", "mock-idp")
    fake = tmp_path / "mock-idp"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    # Without the wheel's own binary: MOCK_IDP_BIN, then PATH, then a clear error.
    monkeypatch.setattr(server, "_installed_binary", lambda: None)
    monkeypatch.setenv("MOCK_IDP_BIN", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert find_binary() == str(fake)
    monkeypatch.delenv("MOCK_IDP_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_binary() == str(fake)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(BinaryNotFound, match="MOCK_IDP_BIN"):
        find_binary()
