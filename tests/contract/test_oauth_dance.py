"""(a) A whole OAuth dance with a plain urllib client against the `mock_idp` fixture."""

from __future__ import annotations

import pytest
from mixpanel_mock_idp import AdminError, MockIdp

from plain_oauth import authorize, call, exchange, login, me, pkce, refresh, register


def requests_of(idp: MockIdp) -> list:
    """The journal as (method, path, status), the shape these tests compare."""
    return [(e["method"], e["path"], e["status"]) for e in idp.journal()]


def test_a_login_registers_authorizes_exchanges_and_reads_me(mock_idp: MockIdp) -> None:
    client_id = register(mock_idp.base_url)
    verifier, challenge = pkce()
    redirect = authorize(mock_idp.base_url, client_id, challenge, state="s-42")
    # RFC 9207: the authorization response names its issuer.
    assert redirect["state"] == "s-42"
    assert redirect["iss"] == f"{mock_idp.base_url}/oauth"
    status, tokens = exchange(mock_idp.base_url, client_id, redirect["code"], verifier)
    assert status == 200, tokens
    assert tokens["token_type"].lower() == "bearer" and tokens["refresh_token"]
    status, body = me(mock_idp.base_url, tokens["access_token"])
    assert status == 200 and body["status"] == "ok"
    assert body["results"]["user_email"]
    assert requests_of(mock_idp) == [
        ("POST", "/oauth/mcp/register/", 201),
        ("GET", "/oauth/authorize/", 302),
        ("POST", "/oauth/token/", 200),
        ("GET", "/api/app/me", 200),
    ]
    assert mock_idp.journal()[2]["grant"] == "authorization_code"
    # Every secret of the login is one the server can list, for a leak scan of the client's logs.
    assert {tokens["access_token"], tokens["refresh_token"], verifier} <= set(mock_idp.secrets())


def test_the_code_is_bound_to_the_pkce_verifier_and_burned_by_a_failed_attempt(mock_idp: MockIdp) -> None:
    client_id = register(mock_idp.base_url)
    verifier, challenge = pkce()
    code = authorize(mock_idp.base_url, client_id, challenge)["code"]
    status, body = exchange(mock_idp.base_url, client_id, code, pkce()[0])
    assert (status, body["error"]) == (400, "invalid_grant")
    # The right verifier is too late: the failed attempt removed the code.
    status, body = exchange(mock_idp.base_url, client_id, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_code_is_one_time(mock_idp: MockIdp) -> None:
    client_id = register(mock_idp.base_url)
    verifier, challenge = pkce()
    code = authorize(mock_idp.base_url, client_id, challenge)["code"]
    assert exchange(mock_idp.base_url, client_id, code, verifier)[0] == 200
    status, body = exchange(mock_idp.base_url, client_id, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_plain_pkce_is_refused_at_the_redirect(mock_idp: MockIdp) -> None:
    client_id = register(mock_idp.base_url)
    verifier, _ = pkce()
    redirect = authorize(mock_idp.base_url, client_id, verifier, method="plain")
    assert redirect["error"] == "invalid_request" and "code" not in redirect


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(mock_idp: MockIdp) -> None:
    first = login(mock_idp.base_url)
    status, second = refresh(mock_idp.base_url, first["client_id"], first["refresh_token"])
    assert status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # The rotated-out token again: reuse detection (OAuth 2.1 §4.3.1) ends the whole family.
    status, body = refresh(mock_idp.base_url, first["client_id"], first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert refresh(mock_idp.base_url, first["client_id"], second["refresh_token"])[0] == 400
    assert me(mock_idp.base_url, second["access_token"])[0] == 401
    assert [e.get("grant") for e in mock_idp.journal() if e["path"] == "/oauth/token/"] == [
        "authorization_code",
        "refresh_token",
        "refresh_token",
        "refresh_token",
    ]


def test_revocation_ends_the_refresh_token_and_its_access_tokens(mock_idp: MockIdp) -> None:
    tokens = login(mock_idp.base_url)
    status, _, _ = call(
        "POST",
        f"{mock_idp.base_url}/oauth/revoke/",
        form={"token": tokens["refresh_token"], "client_id": tokens["client_id"]},
    )
    assert status == 200
    assert refresh(mock_idp.base_url, tokens["client_id"], tokens["refresh_token"])[0] == 400
    status, _, body = call("GET", f"{mock_idp.base_url}/api/app/me", token=tokens["access_token"])
    assert (status, body["error"]) == (401, "invalid_token")
    assert requests_of(mock_idp)[-3:] == [
        ("POST", "/oauth/revoke/", 200),
        ("POST", "/oauth/token/", 400),
        ("GET", "/api/app/me", 401),
    ]


def test_rfc_8414_metadata_names_the_endpoints_and_the_iss_parameter(mock_idp: MockIdp) -> None:
    status, _, meta = call("GET", f"{mock_idp.base_url}/.well-known/oauth-authorization-server/oauth")
    assert status == 200
    assert meta["issuer"] == f"{mock_idp.base_url}/oauth"
    assert meta["token_endpoint"] == f"{mock_idp.base_url}/oauth/token/"
    assert meta["revocation_endpoint"] == f"{mock_idp.base_url}/oauth/revoke/"
    assert "S256" in meta["code_challenge_methods_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    mock_idp.settings(metadata=False)
    assert call("GET", f"{mock_idp.base_url}/.well-known/oauth-authorization-server/oauth")[0] == 404


def test_a_fault_with_times_answers_then_clears_itself(mock_idp: MockIdp) -> None:
    tokens = login(mock_idp.base_url)
    mock_idp.fault("me", 503, times=1, retry_after=2)
    status, headers, _ = call("GET", f"{mock_idp.base_url}/api/app/me", token=tokens["access_token"])
    assert (status, headers.get("retry-after")) == (503, "2")
    assert me(mock_idp.base_url, tokens["access_token"])[0] == 200


def test_set_me_serves_the_test_s_own_body(mock_idp: MockIdp) -> None:
    mock_idp.set_me({"user_email": "grace@example.com", "organizations": {}, "projects": {}})
    status, body = me(mock_idp.base_url, login(mock_idp.base_url)["access_token"])
    assert status == 200 and body["results"]["user_email"] == "grace@example.com"


@pytest.mark.mock_idp(scenario="multi-org")
def test_the_marker_picks_the_scenario(mock_idp: MockIdp) -> None:
    assert mock_idp.status()["scenario"] == "multi-org"
    status, body = me(mock_idp.base_url, login(mock_idp.base_url)["access_token"])
    assert status == 200 and len(body["results"]["projects"]) == 9


def test_a_refused_admin_request_raises_with_the_server_s_reason(mock_idp: MockIdp) -> None:
    with pytest.raises(AdminError) as refused:
        mock_idp.fault("me", 503, times=0)
    assert refused.value.status == 400
    assert "times" in refused.value.reason and "1" in refused.value.reason
    with pytest.raises(AdminError, match="unknown scenario `nope`"):
        mock_idp.scenario("nope")


def test_state_left_by_one_test_part_1_leaves_a_fault_and_a_client(mock_idp: MockIdp) -> None:
    register(mock_idp.base_url)
    mock_idp.fault("register", 500)
    mock_idp.scenario("cross-region")
    assert mock_idp.status()["live"]["clients"] == 1


def test_state_left_by_one_test_part_2_finds_a_fresh_server(mock_idp: MockIdp) -> None:
    status = mock_idp.status()
    assert status["scenario"] == "single" and status["faults"] == {} and status["live"]["clients"] == 0
    assert mock_idp.journal() == []
    register(mock_idp.base_url)
