"""(b) mixpanel-headless 0.4's own OAuth client code against the mock, through the
`mixpanel_headless_oauth` fixture (its one patch: the region → base URL table).

Skipped when mixpanel-headless is absent, unless MP_CONTRACT_REQUIRE_HEADLESS=1 (`.ci/run`).
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import httpx
import pytest
from mixpanel_mock_idp import MockIdp

from plain_oauth import CALLBACK, call

if os.environ.get("MP_CONTRACT_REQUIRE_HEADLESS") == "1":
    import mixpanel_headless  # noqa: F401  (a missing install fails the run instead of skipping)
else:
    pytest.importorskip("mixpanel_headless")

from mixpanel_headless._internal.auth.client_registration import ensure_client_registered
from mixpanel_headless._internal.auth.flow import OAuthFlow
from mixpanel_headless._internal.auth.pkce import PkceChallenge
from mixpanel_headless._internal.auth.storage import OAuthStorage
from mixpanel_headless.exceptions import OAuthError


def browser_approves(authorize_url: str) -> str:
    """What the person's browser does: follow the authorize URL; the code it lands with."""
    status, headers, body = call("GET", authorize_url)
    assert status in (302, 303), (status, body)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["location"]).query))
    return query["code"]


def test_mixpanel_headless_registers_exchanges_and_refreshes(mixpanel_headless_oauth: MockIdp, tmp_path: Path) -> None:
    idp = mixpanel_headless_oauth
    storage = OAuthStorage(tmp_path)
    with httpx.Client() as http:
        client = ensure_client_registered(http, "us", CALLBACK, storage)
        # Cached: a second call registers nothing.
        assert ensure_client_registered(http, "us", CALLBACK, storage).client_id == client.client_id
        flow = OAuthFlow("us", storage=storage, http_client=http)
        pkce = PkceChallenge.generate()
        url = flow._build_authorize_url(client.client_id, CALLBACK, pkce.challenge, "st-hl")
        assert url.startswith(f"{idp.base_url}/oauth/authorize/?")
        tokens = flow.exchange_code(browser_approves(url), pkce.verifier, client.client_id, CALLBACK)
        assert tokens.refresh_token is not None
        refreshed = flow.refresh_tokens(tokens, client.client_id)
        assert refreshed.access_token.get_secret_value() != tokens.access_token.get_secret_value()
        # The rotated-out refresh token again: the mock revokes the grant, and mixpanel-headless
        # names that permanent failure OAUTH_REFRESH_REVOKED (re-login), not a transient error.
        with pytest.raises(OAuthError) as revoked:
            flow.refresh_tokens(tokens, client.client_id)
        assert revoked.value.code == "OAUTH_REFRESH_REVOKED"
    assert [(e["method"], e["path"], e["status"], e.get("grant")) for e in idp.journal()] == [
        ("POST", "/oauth/mcp/register/", 201, None),
        ("GET", "/oauth/authorize/", 302, None),
        ("POST", "/oauth/token/", 200, "authorization_code"),
        ("POST", "/oauth/token/", 200, "refresh_token"),
        ("POST", "/oauth/token/", 400, "refresh_token"),
    ]


@pytest.mark.parametrize("region", ["us", "eu", "in"])
def test_every_region_is_pointed_at_the_mock(mixpanel_headless_oauth: MockIdp, tmp_path: Path, region: str) -> None:
    with httpx.Client() as http:
        client = ensure_client_registered(http, region, CALLBACK, OAuthStorage(tmp_path))
    assert client.client_id
    assert [e["path"] for e in mixpanel_headless_oauth.journal()] == ["/oauth/mcp/register/"]


def test_a_registration_429_is_mixpanel_headless_s_rate_limit_error(mixpanel_headless_oauth: MockIdp, tmp_path: Path) -> None:
    mixpanel_headless_oauth.fault("register", 429, retry_after=7, times=1)
    with httpx.Client() as http, pytest.raises(OAuthError) as limited:
        ensure_client_registered(http, "us", CALLBACK, OAuthStorage(tmp_path))
    assert limited.value.code == "OAUTH_REGISTRATION_ERROR"
    assert limited.value.details["retry_after"] == "7"


def test_a_token_500_is_a_transient_token_error(mixpanel_headless_oauth: MockIdp, tmp_path: Path) -> None:
    with httpx.Client() as http:
        storage = OAuthStorage(tmp_path)
        client = ensure_client_registered(http, "us", CALLBACK, storage)
        flow = OAuthFlow("us", storage=storage, http_client=http)
        pkce = PkceChallenge.generate()
        code = browser_approves(flow._build_authorize_url(client.client_id, CALLBACK, pkce.challenge, "s"))
        mixpanel_headless_oauth.fault("token", 500, times=1)
        with pytest.raises(OAuthError) as failed:
            flow.exchange_code(code, pkce.verifier, client.client_id, CALLBACK)
    assert failed.value.code == "OAUTH_TOKEN_ERROR"
    assert failed.value.details["status_code"] == 500


# The README's example, as it is printed there.
from mixpanel_headless._internal.auth.client_registration import ensure_client_registered
from mixpanel_headless._internal.auth.storage import OAuthStorage

def test_registration(mixpanel_headless_oauth, tmp_path):
    with httpx.Client() as http:
        ensure_client_registered(http, "us", "http://localhost:19284/callback", OAuthStorage(tmp_path))
    assert [e["path"] for e in mixpanel_headless_oauth.journal()] == ["/oauth/mcp/register/"]
