"""A typed client for the admin API of a running mock (``/__admin/``, docs/mock-idp.md)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, TypedDict, cast


class MockIdpError(Exception):
    """Every error of this package."""


class AdminError(MockIdpError):
    """The admin API refused a request (4xx) or failed (5xx).

    ``reason`` is the server's own message (which names the field and what it takes), ``status``
    the HTTP status and ``body`` the parsed answer (or its text when it is not JSON).
    """

    def __init__(self, method: str, path: str, status: int, reason: str, body: Any) -> None:
        super().__init__(f"{method} {path}: {status}: {reason}")
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.body = body


class _JournalEntry(TypedDict):
    seq: int
    method: str
    path: str
    status: int


class JournalEntry(_JournalEntry, total=False):
    """One request the mock answered (admin requests are not journaled): ``method``, ``path``,
    ``status`` (0: a dropped connection), ``seq``; ``grant`` on the token endpoint's entries."""

    grant: str


class AdminClient:
    """The admin API of the mock at ``base_url``. Every method is one HTTP request."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed: Any = json.loads(raw)
                reason = str(parsed.get("message") or parsed.get("error") or raw.decode())
            except (ValueError, AttributeError):
                parsed = raw.decode(errors="replace")
                reason = parsed
            raise AdminError(method, path, e.code, reason, parsed) from None
        return json.loads(raw) if raw else None

    def _object(self, method: str, path: str, body: Optional[Any] = None) -> Dict[str, Any]:
        """A call whose answer is a JSON object (every admin route's is)."""
        answer = self._call(method, path, body)
        if not isinstance(answer, dict):
            raise MockIdpError(f"{method} {path}: the answer is not a JSON object: {answer!r}")
        return answer

    def status(self) -> Dict[str, Any]:
        """``GET /__admin``: scenario, faults, settings, journal size, live tables, limits."""
        return self._object("GET", "/__admin")

    def scenario(self, name: str, *, large_projects: Optional[int] = None) -> Dict[str, Any]:
        """Switch to the scenario ``name`` (this clears the faults)."""
        body: Dict[str, Any] = {"name": name}
        if large_projects is not None:
            body["large_projects"] = large_projects
        return self._object("POST", "/__admin/scenario", body)

    def set_me(self, body: Mapping[str, Any]) -> Dict[str, Any]:
        """Serve ``body`` from ``/api/app/me`` (wrapped ``{"status","results"}`` or bare)."""
        return self._object("PUT", "/__admin/me", dict(body))

    def fault(
        self,
        endpoint: str,
        status: Optional[int] = None,
        *,
        times: Optional[int] = None,
        retry_after: Optional[int] = None,
        delay_ms: Optional[int] = None,
        drop: Optional[bool] = None,
        body: Optional[str] = None,
        content_type: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Inject a fault on ``register``, ``authorize``, ``token``, ``revoke`` or ``me``.

        Without ``times`` it lasts until cleared. At least one of ``status``, ``delay_ms``,
        ``drop`` or ``body`` is needed.
        """
        fields: Dict[str, Any] = {
            "endpoint": endpoint,
            "status": status,
            "times": times,
            "retry_after": retry_after,
            "delay_ms": delay_ms,
            "drop": drop,
            "body": body,
            "content_type": content_type,
        }
        return self._object("POST", "/__admin/faults", {k: v for k, v in fields.items() if v is not None})

    def clear_faults(self, endpoint: Optional[str] = None) -> None:
        """Clear every fault, or one endpoint's."""
        self._call("DELETE", "/__admin/faults" + (f"/{endpoint}" if endpoint else ""))

    def journal_page(self, since: Optional[int] = None) -> Dict[str, Any]:
        """``GET /__admin/journal``: ``capacity``, ``total``, ``dropped`` and ``entries``."""
        return self._object("GET", "/__admin/journal" + ("" if since is None else f"?since={since}"))

    def journal(self, since: Optional[int] = None) -> List[JournalEntry]:
        """The requests answered (after ``since``, a ``seq``), oldest first."""
        return cast(List[JournalEntry], self.journal_page(since)["entries"])

    def clear_journal(self) -> None:
        """Empty the journal."""
        self._call("DELETE", "/__admin/journal")

    def settings(self, **settings: Any) -> Dict[str, Any]:
        """Change settings: ``deny``, ``code_ttl_secs``, ``access_token_ttl_secs``,
        ``journal_capacity``, ``iss`` (``send``/``omit``/``wrong``), ``metadata``,
        ``metadata_overrides``, ``refresh_tokens``."""
        return self._object("POST", "/__admin/settings", settings)

    def secrets(self) -> List[str]:
        """Every code, token and verifier the server issued or saw, for leak scans."""
        return [str(secret) for secret in self._object("GET", "/__admin/secrets")["issued"]]

    def reset(self) -> None:
        """A fresh server: clients, codes, tokens, faults, journal; scenario ``single``."""
        self._call("POST", "/__admin/reset")
