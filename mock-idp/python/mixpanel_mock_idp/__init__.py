"""The mock Mixpanel OAuth IdP and ``/me`` server, from Python.

- :class:`MockIdp` starts ``mock-idp serve`` (the binary this wheel installs) and stops it on exit.
- :class:`AdminClient` drives a running server through its admin API (``/__admin/``).
- The pytest plugin (loaded by the ``pytest11`` entry point) gives the ``mock_idp_server``,
  ``mock_idp`` and ``mixpanel_headless_oauth`` fixtures and the ``mock_idp`` marker.

The reference is ``docs/mock-idp.md`` in the repository.
"""

from ._client import AdminClient, AdminError, JournalEntry, MockIdpError
from ._server import BinaryNotFound, MockIdp, ServerStartError, find_binary

__all__ = [
    "AdminClient",
    "AdminError",
    "BinaryNotFound",
    "JournalEntry",
    "MockIdp",
    "MockIdpError",
    "ServerStartError",
    "find_binary",
]
