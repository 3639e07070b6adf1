#!/usr/bin/env bash
# The mock IdP driven with nothing but curl and jq (and coreutils): the contract another
# language's test suite relies on. MOCK_IDP names the binary (default: target/debug/mock-idp).
set -euo pipefail
MOCK_IDP=${MOCK_IDP:-$(dirname "$0")/../../../target/debug/mock-idp}
CALLBACK=http://localhost:19284/callback
passed=0
failed=0
check() { # check NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1: got '$2', want '$3'" >&2; fi
}

work=$(mktemp -d)
"$MOCK_IDP" serve --port 0 >"$work/ready" 2>"$work/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
base=$(jq -r .base_url "$work/ready")

# Dynamic client registration (RFC 7591).
reg=$(curl -sS -w '\n%{http_code}' -H 'content-type: application/json' \
  -d "{\"redirect_uris\":[\"$CALLBACK\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],\"token_endpoint_auth_method\":\"none\",\"scope\":\"projects\"}" \
  "$base/oauth/mcp/register/")
check "register status" "$(tail -n1 <<<"$reg")" 201
client_id=$(head -n1 <<<"$reg" | jq -r .client_id)

# PKCE S256 (RFC 7636) with coreutils: 32 random bytes, base64url; challenge = b64url(sha256).
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
verifier=$(head -c 32 /dev/urandom | b64url)
hex=$(printf %s "$verifier" | sha256sum | cut -d' ' -f1)
challenge=$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | b64url)

# Authorize: the redirect carries code and state.
location=$(curl -sS -o /dev/null -w '%{redirect_url}' -G "$base/oauth/authorize/" \
  --data-urlencode response_type=code --data-urlencode "client_id=$client_id" \
  --data-urlencode "redirect_uri=$CALLBACK" --data-urlencode state=s-42 \
  --data-urlencode "code_challenge=$challenge" --data-urlencode code_challenge_method=S256)
code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")
check "state echoed" "$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' <<<"$location")" s-42

# Token exchange, then /me behind the bearer token.
token=$(curl -sS -d grant_type=authorization_code --data-urlencode "code=$code" \
  --data-urlencode "redirect_uri=$CALLBACK" --data-urlencode "client_id=$client_id" \
  --data-urlencode "code_verifier=$verifier" "$base/oauth/token/")
access=$(jq -r .access_token <<<"$token")
check "token type" "$(jq -r .token_type <<<"$token")" Bearer
me() { curl -sS -o "$work/me" -w '%{http_code}' -H "Authorization: Bearer $access" "$base/api/app/me"; }
check "me status" "$(me)" 200
check "me single" "$(jq '.results.projects | length' "$work/me")" 1
check "me without token" "$(curl -sS -o /dev/null -w '%{http_code}' "$base/api/app/me")" 401
# The code is spent.
again=$(curl -sS -d grant_type=authorization_code --data-urlencode "code=$code" \
  --data-urlencode "redirect_uri=$CALLBACK" --data-urlencode "client_id=$client_id" \
  --data-urlencode "code_verifier=$verifier" "$base/oauth/token/" | jq -r .error)
check "code reuse" "$again" invalid_grant

# Admin: switch the scenario.
curl -sS -o /dev/null -H 'content-type: application/json' -d '{"name":"multi-org"}' "$base/__admin/scenario"
me >/dev/null
check "me multi-org" "$(jq '.results.projects | length' "$work/me")" 9

# Admin: a fault for the next /me only.
check "fault injected" "$(curl -sS -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"endpoint":"me","status":503,"retry_after":2,"times":1}' "$base/__admin/faults")" 201
check "me faulty" "$(me)" 503
check "me recovered" "$(me)" 200

# Admin: the journal saw it all, without secrets.
journal=$(curl -sS "$base/__admin/journal")
check "journal me statuses" "$(jq -c '[.entries[] | select(.path == "/api/app/me") | .status]' <<<"$journal")" "[200,401,200,503,200]"
check "journal has no code" "$(grep -c -- "$code" <<<"$journal" || true)" 0
check "secrets listed" "$(curl -sS "$base/__admin/secrets" | jq --arg a "$access" '.issued | index($a) != null')" true

# Admin: reset forgets clients and tokens.
curl -sS -o /dev/null -X POST "$base/__admin/reset"
check "token forgotten" "$(me)" 401

# The `serve --help` example that captures the base URL in a script, run as written (with
# `mock-idp` on PATH): it returns with the URL while the server runs on, and `kill $!` stops it.
mkdir "$work/bin"
ln -s "$(realpath "$MOCK_IDP")" "$work/bin/mock-idp"
example=$("$MOCK_IDP" serve --help | sed -n 's/^ *\(.*MP_BASE_URL=.*"\$ready")\).*/\1/p')
got=$(PATH="$work/bin:$PATH" timeout 10 bash -c "$example"'; echo "$MP_BASE_URL"; kill $!; wait $!' 2>/dev/null || true)
check "help example returns the base URL" "$(grep -c '^http://127\.0\.0\.1:[0-9]*$' <<<"$got")" 1

# Stop: SIGTERM ends the server cleanly.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
check "clean exit" "$status" 0

echo "contract: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
