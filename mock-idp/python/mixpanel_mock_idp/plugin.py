"""The pytest plugin (entry point ``pytest11``): one mock per session, reset before each test.

Fixtures:
    mock_idp_server: the session's running :class:`~mixpanel_mock_idp.MockIdp`.
    mock_idp: the same server, reset (and switched to the test's scenario) before the test.
    mixpanel_headless_oauth: ``mock_idp``, with mixpanel-headless's OAuth code pointed at it.

The scenario: ``@pytest.mark.mock_idp(scenario="multi-org")`` on a test, class or module, else
``--mock-idp-scenario NAME``, else ``single``.
"""

from __future__ import annotations

from typing import Iterator, Optional

import pytest

from ._server import MockIdp


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mixpanel-mock-idp")
    group.addoption(
        "--mock-idp-scenario",
        default=None,
        metavar="NAME",
        help="the mock IdP scenario of tests without a mock_idp marker (default: single)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_idp(scenario=None): the scenario the mock_idp fixture starts this test from",
    )


def _scenario_of(request: pytest.FixtureRequest) -> Optional[str]:
    marker = request.node.get_closest_marker("mock_idp")
    if marker is not None:
        scenario = marker.kwargs.get("scenario", marker.args[0] if marker.args else None)
        if scenario is not None:
            return str(scenario)
    option = request.config.getoption("--mock-idp-scenario")
    return None if option is None else str(option)


@pytest.fixture(scope="session")
def mock_idp_server() -> Iterator[MockIdp]:
    """The session's mock IdP: started once, stopped at the end (or with this process)."""
    with MockIdp() as server:
        yield server


@pytest.fixture
def mock_idp(mock_idp_server: MockIdp, request: pytest.FixtureRequest) -> MockIdp:
    """The session's mock IdP, reset: no clients, tokens, faults or journal; the test's scenario."""
    mock_idp_server.reset()
    scenario = _scenario_of(request)
    if scenario is not None and scenario != "single":
        mock_idp_server.scenario(scenario)
    return mock_idp_server


@pytest.fixture
def mixpanel_headless_oauth(mock_idp: MockIdp, monkeypatch: pytest.MonkeyPatch) -> MockIdp:
    """``mock_idp``, with mixpanel-headless's OAuth client code (registration, authorize URL,
    token exchange and refresh) pointed at it, for every region, for this test.

    The one patch: ``client_registration.OAUTH_BASE_URLS`` maps a region to its OAuth base URL
    and ``flow.py`` imports that same dict, so its entries are replaced in place. Skips the
    test when mixpanel-headless is not installed.
    """
    registration = pytest.importorskip("mixpanel_headless._internal.auth.client_registration")
    table = getattr(registration, "OAUTH_BASE_URLS", None)
    if not isinstance(table, dict):
        pytest.fail(
            "mixpanel_headless._internal.auth.client_registration.OAUTH_BASE_URLS is gone: "
            "this mixpanel-headless keeps its OAuth base URLs elsewhere"
        )
    for region in list(table):
        monkeypatch.setitem(table, region, f"{mock_idp.base_url}/oauth/")
    return mock_idp
