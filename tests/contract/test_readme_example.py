# test_login.py: a login against the mock with only the standard library. `pip install
# mixpanel-mock-idp pytest`, then `pytest`: the plugin is loaded by its entry point.
import base64, hashlib, json, secrets, urllib.parse as up, urllib.request as ur


class NoRedirect(ur.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the browser's landing page is the test's to read, not to follow


def test_login(mock_idp):
    base, cb = mock_idp.base_url, "http://localhost:19284/callback"
    reg = ur.Request(f"{base}/oauth/mcp/register/", json.dumps({"redirect_uris": [cb]}).encode(), {"Content-Type": "application/json"})
    client_id = json.load(ur.urlopen(reg))["client_id"]
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = up.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": cb, "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})
    try:
        ur.build_opener(NoRedirect).open(f"{base}/oauth/authorize/?{query}")
    except ur.HTTPError as redirect:
        code = up.parse_qs(up.urlsplit(redirect.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": cb, "client_id": client_id, "code_verifier": verifier}
    token = json.load(ur.urlopen(f"{base}/oauth/token/", up.urlencode(form).encode()))["access_token"]
    me = json.load(ur.urlopen(ur.Request(f"{base}/api/app/me", headers={"Authorization": f"Bearer {token}"})))
    assert me["results"]["user_email"]
    assert [e["path"] for e in mock_idp.journal()] == ["/oauth/mcp/register/", "/oauth/authorize/", "/oauth/token/", "/api/app/me"]
