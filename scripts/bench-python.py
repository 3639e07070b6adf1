"""The Python fixture's figures (docs/mock-idp.md, "Measured"):
ready time of `MockIdp()`, the reset a function-scoped `mock_idp` costs, and whole logins per
second from Python, beside the same loop against node's `oidc-provider` when it is installed.

Run with the python of a venv where the two wheels are installed (`cargo make contract` leaves
one in target/contract-venv):
    target/contract-venv/bin/python scripts/bench-python.py [--oidc-provider DIR]
DIR holds node_modules/oidc-provider (`npm install oidc-provider` there).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "contract"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mixpanel_mock_idp import MockIdp  # noqa: E402

import plain_oauth  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def ready_times(n: int) -> List[float]:
    """`MockIdp()` entered → the first request answered, then stopped; n times."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        with MockIdp() as idp:
            with urllib.request.urlopen(f"{idp.base_url}/.well-known/oauth-authorization-server") as r:
                r.read()
            times.append(time.perf_counter() - started)
    return times


def reset_times(idp: MockIdp, n: int) -> List[float]:
    """What the `mock_idp` fixture does before each test (a reset), after a login's worth of state."""
    times = []
    for _ in range(n):
        plain_oauth.login(idp.base_url)
        started = time.perf_counter()
        idp.reset()
        times.append(time.perf_counter() - started)
    return times


def logins_per_second(login: Callable[[], None], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        login()
    return n / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=50)
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--oidc-provider", type=Path, default=None)
    args = ap.parse_args()

    ready = ready_times(args.starts)
    print(f"ready: median {ms(statistics.median(ready))}, p90 {ms(sorted(ready)[int(len(ready) * 0.9)])} over {len(ready)} starts")
    with MockIdp() as idp:
        resets = reset_times(idp, 500)
        print(f"reset (the function fixture): median {ms(statistics.median(resets))}, max {ms(max(resets))} over {len(resets)}")
        idp.reset()
        ours = logins_per_second(lambda: plain_oauth.login(idp.base_url) and None, args.logins)
        print(f"mock-idp: {ours:.0f} logins/s over {args.logins} (register, authorize, token, /me; urllib)")
    theirs: Optional[float] = None
    if args.oidc_provider is not None:
        import oidc_provider_bench

        theirs = oidc_provider_bench.run(args.oidc_provider, args.logins)
        print(f"oidc-provider: {theirs:.0f} logins/s over {args.logins} (register, authorize, token, userinfo; urllib)")
        print(f"mock-idp is {ours / theirs:.1f}x oidc-provider's rate")
    print(json.dumps({"ready_median_ms": statistics.median(ready) * 1000, "reset_median_ms": statistics.median(resets) * 1000,
                      "mock_logins_per_s": ours, "oidc_provider_logins_per_s": theirs}))


if __name__ == "__main__":
    main()
