"""The same whole login as tests/contract/plain_oauth.login, against node's `oidc-provider`
(scripts/oidc-provider-bench.mjs): register, authorize (its interaction granted at once, with
cookies), token, userinfo. Used by scripts/bench-python.py."""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import plain_oauth

CALLBACK = "http://127.0.0.1:19284/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(base: str) -> None:
    """One whole login; raises on anything unexpected."""
    status, _, reg = plain_oauth.call(
        "POST",
        f"{base}/reg",
        json_body={
            "redirect_uris": [CALLBACK],
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        },
    )
    assert status == 201, reg
    client_id = reg["client_id"]
    verifier, challenge = plain_oauth.pkce()
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    url = f"{base}/auth?" + urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "state": "st-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    while not url.startswith(CALLBACK):
        try:
            opener.open(url, timeout=10).read()
            raise AssertionError(f"no redirect from {url}")
        except urllib.error.HTTPError as e:
            assert e.code in (302, 303), (e.code, e.read())
            url = urllib.parse.urljoin(url, e.headers["Location"])
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    status, _, tokens = plain_oauth.call(
        "POST",
        f"{base}/token",
        form={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert status == 200, tokens
    status, _, me = plain_oauth.call("GET", f"{base}/me", token=tokens["access_token"])
    assert status == 200 and me["sub"] == "ada", me


def run(dir: Path, n: int) -> float:
    """Logins per second over ``n`` logins against a fresh oidc-provider."""
    script = Path(__file__).resolve().parent / "oidc-provider-bench.mjs"
    proc = subprocess.Popen(["node", str(script), str(dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        base = json.loads(proc.stdout.readline())["base_url"]
        login(base)  # warm
        started = time.perf_counter()
        for _ in range(n):
            login(base)
        return n / (time.perf_counter() - started)
    finally:
        proc.kill()
        proc.wait()
