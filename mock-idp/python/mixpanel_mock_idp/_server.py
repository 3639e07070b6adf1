"""``MockIdp``: a ``mock-idp serve`` process for the length of a ``with`` block."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, List, Optional, Sequence, Type

from ._client import AdminClient, MockIdpError

_EXE = "mock-idp.exe" if os.name == "nt" else "mock-idp"


class BinaryNotFound(MockIdpError):
    """No ``mock-idp`` binary: not installed with this package, not ``MOCK_IDP_BIN``, not on PATH."""


class ServerStartError(MockIdpError):
    """``mock-idp serve`` exited or stayed silent instead of printing its ready line.

    ``stderr`` holds what the server said (a refused argument, a port in use).
    """

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(f"{message}\n--- mock-idp stderr ---\n{stderr}" if stderr else message)
        self.stderr = stderr


def _installed_binary() -> Optional[Path]:
    """The binary the wheel installed beside this package (its scripts directory)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
    except ImportError:  # pragma: no cover (Python < 3.8)
        return None
    try:
        dist = distribution("mixpanel-mock-idp")
    except PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == _EXE:
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return path
    return None


def find_binary() -> str:
    """The ``mock-idp`` to run: the one installed with this package (the wheel's scripts
    directory), else ``MOCK_IDP_BIN``, else the first on ``PATH``.

    Raises:
        BinaryNotFound: none of the three exists, with what was tried.
    """
    installed = _installed_binary()
    if installed is not None:
        return str(installed)
    env = os.environ.get("MOCK_IDP_BIN")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise BinaryNotFound(f"MOCK_IDP_BIN={env} is not an executable file")
    on_path = shutil.which(_EXE)
    if on_path:
        return on_path
    raise BinaryNotFound(
        "no mock-idp binary: not installed with the mixpanel_mock_idp package, MOCK_IDP_BIN is "
        "not set and none is on PATH; `pip install mixpanel-mock-idp` or set MOCK_IDP_BIN"
    )


class MockIdp(AdminClient):
    """A running ``mock-idp serve``, driven through the admin API it inherits.

    ``with MockIdp(scenario="multi-org") as idp:`` starts the server on a free port, waits for its
    ready line (at most ``ready_timeout`` seconds) and stops it when the block ends. The server
    also stops by itself when this process dies, even by SIGKILL: it watches its stdin (a pipe
    this process holds) and, on Linux, gets a parent-death signal. That signal follows the
    *thread* that started the server: start it from a thread that lives as long as it is needed.

    Args:
        scenario: the starting scenario (``single`` when None).
        args: more ``serve`` arguments, e.g. ``["--journal-capacity", "5000"]``.
        binary: the ``mock-idp`` to run (default: :func:`find_binary`).
        host: the address to listen on.
        port: the port (0: a free one).
        ready_timeout: seconds to wait for the ready line before failing.
    """

    def __init__(
        self,
        scenario: Optional[str] = None,
        *,
        args: Sequence[str] = (),
        binary: Optional[str] = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout: float = 10.0,
    ) -> None:
        super().__init__("http://unstarted.invalid")
        self._binary = binary
        self._argv: List[str] = ["serve", "--host", host, "--port", str(port)]
        if scenario is not None:
            self._argv += ["--scenario", scenario]
        self._argv += ["--exit-on-stdin-eof"]
        if sys.platform != "win32":
            self._argv += ["--exit-with-parent"]
        self._argv += list(args)
        self._ready_timeout = ready_timeout
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._stderr: Optional[IO[bytes]] = None

    @property
    def pid(self) -> Optional[int]:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> "MockIdp":
        """Start the server and wait for its ready line; :meth:`stop` ends it."""
        if self._proc is not None:
            raise MockIdpError("this MockIdp is already running")
        binary = self._binary or find_binary()
        # stderr goes to a file: nobody reads it while the server runs, and a pipe could fill.
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [binary, *self._argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            line = self._ready_line()
            base_url = json.loads(line)["base_url"]
        except ServerStartError:
            self.stop()
            raise
        except (ValueError, KeyError, TypeError):
            stderr = self._stop_and_read_stderr()
            raise ServerStartError(f"mock-idp serve printed {line!r}, not its ready line", stderr) from None
        self.base_url = base_url
        return self

    def _ready_line(self) -> str:
        """The first line of stdout, within ``ready_timeout`` seconds."""
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        deadline = time.monotonic() + self._ready_timeout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    stderr = self._stop_and_read_stderr()
                    raise ServerStartError(
                        f"mock-idp serve printed no ready line within {self._ready_timeout} s", stderr
                    )
                chunk = os.read(out.fileno(), 4096)
                if not chunk:
                    code = self._proc.wait()
                    stderr = self._stop_and_read_stderr()
                    raise ServerStartError(f"mock-idp serve exited with {code} before it was ready", stderr)
                buf += chunk
        return buf.split(b"\n", 1)[0].decode(errors="replace")

    def _stop_and_read_stderr(self) -> str:
        self.stop(timeout=0, _keep_stderr=True)
        err = self._stderr
        self._stderr = None
        if err is None:
            return ""
        err.seek(0)
        text = err.read().decode(errors="replace").strip()
        err.close()
        return text

    def stop(self, *, timeout: float = 5.0, _keep_stderr: bool = False) -> None:
        """Stop the server: close its stdin (it exits at end of file), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not _keep_stderr and self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "MockIdp":
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()
