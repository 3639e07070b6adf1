"""Where the installed wheels put their binaries (the scripts directory of the environment)."""

from __future__ import annotations

import os
from importlib.metadata import distribution
from pathlib import Path


def script(dist_name: str, exe: str) -> str:
    """The path of ``exe`` as the wheel ``dist_name`` installed it."""
    dist = distribution(dist_name)
    for file in dist.files or ():
        if file.name == exe:
            path = Path(str(dist.locate_file(file))).resolve()
            assert os.access(path, os.X_OK), path
            return str(path)
    raise AssertionError(f"the {dist_name} wheel installed no {exe}")
