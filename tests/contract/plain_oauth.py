"""A whole OAuth client in the standard library (urllib), as a contract test's other side."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional, Tuple

CALLBACK = "http://localhost:19284/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def call(
    method: str,
    url: str,
    *,
    json_body: Optional[Any] = None,
    form: Optional[Dict[str, str]] = None,
    token: Optional[str] = None,
) -> Tuple[int, Dict[str, str], Any]:
    """One request, redirects not followed: (status, headers, JSON body or text)."""
    data = None
    headers: Dict[str, str] = {}
    if json_body is not None:
        data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        resp = _opener.open(req, timeout=10)
    except urllib.error.HTTPError as e:
        resp = e
    with resp:
        raw = resp.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, body


def pkce() -> Tuple[str, str]:
    """A verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register(base: str, redirect_uri: str = CALLBACK) -> str:
    """Dynamic client registration (RFC 7591): the new client_id."""
    status, _, body = call(
        "POST",
        f"{base}/oauth/mcp/register/",
        json_body={
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert status == 201, body
    return str(body["client_id"])


def authorize(base: str, client_id: str, challenge: str, state: str = "st-1", method: str = "S256") -> Dict[str, str]:
    """The authorize request a browser makes; the redirect's query parameters."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": method,
        }
    )
    status, headers, body = call("GET", f"{base}/oauth/authorize/?{query}")
    assert status in (302, 303), (status, body)
    location = headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(base: str, client_id: str, code: str, verifier: str) -> Tuple[int, Any]:
    """The authorization code grant (RFC 6749 §4.1.3) with the PKCE verifier."""
    status, _, body = call(
        "POST",
        f"{base}/oauth/token/",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    return status, body


def refresh(base: str, client_id: str, refresh_token: str) -> Tuple[int, Any]:
    """The refresh token grant (RFC 6749 §6)."""
    status, _, body = call(
        "POST",
        f"{base}/oauth/token/",
        form={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )
    return status, body


def me(base: str, access_token: str) -> Tuple[int, Any]:
    """``GET /api/app/me`` with the access token."""
    status, _, body = call("GET", f"{base}/api/app/me", token=access_token)
    return status, body


def login(base: str) -> Dict[str, Any]:
    """A whole login: register, authorize, token, ``/me``. The token answer, with ``client_id``."""
    client_id = register(base)
    verifier, challenge = pkce()
    code = authorize(base, client_id, challenge)["code"]
    status, tokens = exchange(base, client_id, code, verifier)
    assert status == 200, tokens
    status, body = me(base, tokens["access_token"])
    assert status == 200, body
    return {**tokens, "client_id": client_id}
