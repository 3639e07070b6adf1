#!/usr/bin/env python3
"""Differential test: the kit's `mp-autopick` against the seed's whole `/me` read path, on N seeded
`/me` documents given as raw BYTES: live-shaped bodies plus deliberately odd ones (NaN/Infinity,
lone surrogate escapes, UTF-8 BOM, UTF-16/UTF-32 with and without BOM, odd organization_id
values and project ids, duplicate keys, deep nesting, odd numbers, wrong types in fields the seed
declares, truncations and random byte mutations).

Usage (the seed's python, which can import mixpanel_headless):
  "$($SEED_DIR/setup-venv)" scripts/seed-differential.py target/release/mp-autopick [N] [SEED]
N defaults to 3000, SEED to 158.

Seed side, in this one process, exactly what `mp login --finish` does with the /me bytes:
  httpx `response.json()` = `json.loads(response.content)` (bytes: `json.detect_encoding`, BOMs
  stripped, UTF-16/32 sniffed, 'surrogatepass'; NaN/Infinity accepted), api_client.py:341-344 and
  436-445 (only JSONDecodeError is caught there: UnicodeDecodeError, RecursionError and the
  4300-digit ValueError escape as themselves); unwrap a top-level `results` (api_client.py:1072);
  a non-object becomes {"results": ...} (api_client.py:1309-1310); `MeResponse.model_validate`
  (accounts.py:327); the placeholder me.json dump, which runs BEFORE the pick and whose errors other
  than OSError fail the publish (accounts.py:1921-1924 -> auth/inflight.py:471-475: pydantic's
  `model_dump(mode="json")` refuses values nested ~255 deep); `_resolve_project(auto_pick=True,
  region)` (accounts.py:2514-2961); the E-2 check (accounts.py:1940). json.loads runs at the stack
  depth it has under `mp login --finish` (21 frames, measured), so RecursionError hits as there.
  Informational only: whether the pick would then pass the `default_project` pattern `^\\d+$` at
  `add()` (auth/account.py:114-116; pydantic's Rust regex: Unicode \\d, strict $); the seed's publish
  fails after the rename when it does not (CONFIG_ERROR, unwrapped, tokens removed).
Kit side: `mp-autopick --region R` with the bytes on stdin, one subprocess per document; its
stdout must be exactly one JSON line (else: category kit-malformed).

Agreement: both accept with the same project.id and every project_pick key; or both refuse,
where NEEDS_REGION_SWITCH must be matched by NEEDS_REGION_SWITCH with equal details.
Disagreements are keyed CATEGORY:KIND (KIND = the generator of the document). Per-category and
per-key counts are printed with the first example of each key. Last line:
'differential vs seed: K/N agree'. Exit 1 when any disagreement key matches no pattern in ALLOW."""
import fnmatch, json, os, subprocess, sys, time

from mixpanel_headless._internal.auth.account import OAuthBrowserAccount
from mixpanel_headless._internal.me import MeResponse
from mixpanel_headless.accounts import _assert_project_region_matches, _resolve_project
from mixpanel_headless.exceptions import MixpanelHeadlessError

# fnmatch patterns over disagreement keys "CATEGORY:KIND", e.g. "seed-accepts/kit-refuses:nan-ignored"
# or "picks-differ:*". Categories: seed-accepts/kit-refuses, kit-accepts/seed-refuses, picks-differ,
# seed-nrs/kit-refuses-body, kit-nrs/seed-refuses-body (both refuse, but only one of them with
# NEEDS_REGION_SWITCH), nrs-details-differ, kit-malformed (crash, hang, not one JSON line).
# The differences the kit keeps, each said in docs/seed.md ("The /me reader").
ALLOW: list[str] = [
    # Deliberate: the kit reads what the pick needs; the seed's pydantic model also refuses
    # wrong types in fields the pick never uses, ids Python's int() cannot read (the seed then
    # crashes with ValueError), nulls for `projects`/`organizations`, nesting of 255+ levels
    # (its me.json dump) and integers of over 4300 digits.
    "kit-accepts/seed-refuses:*",
    "kit-nrs/seed-refuses-body:*",
    # Deliberate (the kit's ME_INVALID): a top-level answer that is not an object is not a /me
    # body; the seed publishes it as an empty account named `account`.
    "seed-accepts/kit-refuses:shape:*",
    # Deliberate: a lone surrogate (escaped) reads as U+FFFD; Rust strings cannot hold one.
    "picks-differ:surrogate-escape:*",
    "nrs-details-differ:surrogate-escape:*",
    # Deliberate: surrogates encoded in UTF-8 (the seed's `surrogatepass`) are not UTF-8; the kit
    # copies the body into me.json, which it keeps valid UTF-8.
    "*:surrogate-bytes",
]

KIT = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 158
from me_bodies import document, rng  # scripts/me_bodies.py: the generators
from seed_pick import project_pick  # scripts/seed_pick.py

rng.seed(SEED)
KIT_TIMEOUT = 20
CLI_FRAMES = 21  # frames on the stack at api_client._handle_response under `mp login --finish`


# ---------------------------------------------------------------- the two sides
def loads_at_cli_depth(raw):
    f, depth = sys._getframe(), 0
    while f:
        depth, f = depth + 1, f.f_back

    def down(n):
        return json.loads(raw) if n <= 0 else down(n - 1)
    return down(CLI_FRAMES - depth)


def seed_side(raw, region):
    os.environ.pop("MP_PROJECT_ID", None)
    try:
        result = loads_at_cli_depth(raw)  # httpx Response.json(): json.loads(self.content)
    except json.JSONDecodeError as e:  # api_client.py:343, then 441-445: INVALID_RESPONSE
        return {"ok": False, "code": "INVALID_RESPONSE", "why": f"JSONDecodeError: {e}"}
    except Exception as e:  # not caught by `except json.JSONDecodeError`: escapes as itself
        return {"ok": False, "code": type(e).__name__, "why": f"{type(e).__name__}: {str(e)[:120]}"}
    if isinstance(result, dict) and "results" in result:  # api_client.py:1072-1073
        result = result["results"]
    if not isinstance(result, dict):  # api_client.py:1309-1310
        result = {"results": result}
    try:
        me = MeResponse.model_validate(result)  # accounts.py:327
    except Exception as e:
        first = e.errors(include_url=False)[0] if hasattr(e, "errors") else {}
        return {"ok": False, "code": type(e).__name__,
                "why": f"{type(e).__name__}: {'.'.join(map(str, first.get('loc', ())))}: {first.get('msg', e)}"}
    try:  # cache_me_in_placeholder (auth/inflight.py:471-475), before the pick; only OSError is caught
        data = me.model_dump(mode="json")
        data["cached_at"] = 0.0
        json.dumps(data, indent=2, default=str).encode("utf-8")
    except Exception as e:
        return {"ok": False, "code": type(e).__name__, "why": f"placeholder me.json: {type(e).__name__}: {str(e)[:100]}"}
    try:
        pick = _resolve_project(me_resp=me, explicit_project=None, project_picker=None,
                                auto_pick=True, region=region)
        _assert_project_region_matches(me, pick.project_id, region)  # accounts.py:1940
    except MixpanelHeadlessError as e:
        return {"ok": False, "code": e.code, "why": e.message[:160],
                "details": e.details if e.code == "NEEDS_REGION_SWITCH" else None}
    except Exception as e:  # ValueError from int(pid) in _pick_from_primary_org (accounts.py:3003)
        return {"ok": False, "code": type(e).__name__, "why": f"{type(e).__name__}: {str(e)[:120]}"}
    publish_ok = True
    if pick.project_id is not None:
        try:
            OAuthBrowserAccount(name="x", region=region, default_project=pick.project_id)
        except Exception:
            publish_ok = False
    return {"ok": True, "project_id": pick.project_id, "publish_ok": publish_ok, "project_pick": project_pick(pick)}


KIT_ENV = {k: v for k, v in os.environ.items()
           if k not in ("MP_PROJECT_ID", "MP_LOGIN_PROJECT", "MP_LOGIN_ME_FILE", "MP_REGION")}


def kit_side(raw, region):
    t0 = time.monotonic()
    try:
        p = subprocess.run([KIT, "--region", region], input=raw, capture_output=True, env=KIT_ENV,
                           timeout=KIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"malformed": f"hung: no exit within {KIT_TIMEOUT} s"}
    took = time.monotonic() - t0
    if p.returncode < 0:
        return {"malformed": f"killed by signal {-p.returncode}; stderr={p.stderr[-200:]!r}"}
    if b"panicked" in p.stderr:
        return {"malformed": f"panic (rc {p.returncode}): {p.stderr[-300:]!r}"}
    if not p.stdout.endswith(b"\n") or p.stdout.count(b"\n") != 1:
        return {"malformed": f"stdout is not one line (rc {p.returncode}): {p.stdout[:200]!r}"}
    try:
        out = json.loads(p.stdout)
        state = out["state"]
    except Exception as e:
        return {"malformed": f"stdout is not a JSON envelope ({e}): {p.stdout[:200]!r}"}
    if took > 5:
        return {"malformed": f"slow: {took:.1f} s"}
    if state == "ok":
        if p.returncode != 0:
            return {"malformed": f"state ok with exit {p.returncode}"}
        return {"ok": True, "project_id": (out.get("project") or {}).get("id"), "project_pick": out.get("project_pick")}
    e = out.get("error") or {}
    if p.returncode == 0 or e.get("exit_code", p.returncode) != p.returncode:
        return {"malformed": f"state {state} with exit {p.returncode} (envelope exit_code {e.get('exit_code')})"}
    return {"ok": False, "code": e.get("code"), "why": (e.get("message") or "")[:160],
            "details": e.get("details") if e.get("code") == "NEEDS_REGION_SWITCH" else None}


def classify(s, k):
    if "malformed" in k:
        return "kit-malformed"
    if s["ok"] and k["ok"]:
        same = s["project_id"] == k["project_id"] and s["project_pick"] == k["project_pick"]
        return None if same else "picks-differ"
    if s["ok"]:
        return "seed-accepts/kit-refuses"
    if k["ok"]:
        return "kit-accepts/seed-refuses"
    s_nrs, k_nrs = s["code"] == "NEEDS_REGION_SWITCH", k["code"] == "NEEDS_REGION_SWITCH"
    if s_nrs != k_nrs:
        return "seed-nrs/kit-refuses-body" if s_nrs else "kit-nrs/seed-refuses-body"
    if s_nrs and s["details"] != k["details"]:
        return "nrs-details-differ"
    return None


def short(x, n=300):
    r = repr(x)
    return r if len(r) <= n else r[:n] + f"...(+{len(r) - n} chars)"


def outcome(r):
    if "malformed" in r:
        return r["malformed"]
    if r["ok"]:
        return {"project_id": r["project_id"], "project_pick": r["project_pick"]}
    return {k: r[k] for k in ("code", "why", "details") if r.get(k) is not None}


def main():
    t0 = time.monotonic()
    by_key, first, by_cat = {}, {}, {}
    per_kind = {}  # kind -> [agree, total]
    publish_refused = []  # seed picks that `add()` would then refuse (^\d+$)
    agree = 0
    for i in range(N):
        kind, raw = document()
        region = rng.choice(["us", "us", "eu"])
        s, k = seed_side(raw, region), kit_side(raw, region)
        cat = classify(s, k)
        family = kind.split(":")[0]
        stats = per_kind.setdefault(family, [0, 0])
        stats[1] += 1
        if s.get("ok") and not s["publish_ok"]:
            publish_refused.append((i, kind, s["project_id"], outcome(k)))
        if cat is None:
            agree += 1
            stats[0] += 1
            continue
        key = f"{cat}:{kind}"
        by_cat[cat] = by_cat.get(cat, 0) + 1
        by_key[key] = by_key.get(key, 0) + 1
        first.setdefault(key, (i, region, raw, s, k))
    elapsed = time.monotonic() - t0

    print(f"{N} documents, seed {SEED}, {elapsed:.1f} s")
    print("per kind (agree/total): " + ", ".join(f"{f} {a}/{t}" for f, (a, t) in sorted(per_kind.items())))
    unallowed = []
    for cat in sorted(by_cat, key=lambda c: -by_cat[c]):
        print(f"\n== {cat}: {by_cat[cat]}")
        for key in sorted((k for k in by_key if k.startswith(cat + ":")), key=lambda k: -by_key[k]):
            allowed = any(fnmatch.fnmatchcase(key, pat) for pat in ALLOW)
            if not allowed:
                unallowed.append(key)
            i, region, raw, s, k = first[key]
            print(f"  {by_key[key]:5d}  {key}{'  (allowed)' if allowed else ''}\n"
                  f"         first #{i} region={region} len={len(raw)} body={short(raw, 240)}\n"
                  f"         seed={short(outcome(s), 400)}\n"
                  f"         kit ={short(outcome(k), 400)}")
    if publish_refused:
        print(f"\nnote: {len(publish_refused)} seed picks would then fail the seed's publish "
              f"(default_project must match ^\\d+$ at add(): CONFIG_ERROR, unwrapped, tokens removed):")
        tally = {}
        for i, kind, pid, kit in publish_refused:
            how = ("kit picks the same id" if kit.get("project_id") == pid else "kit picks another id") \
                if isinstance(kit, dict) and "project_pick" in kit else "kit refuses"
            tally[how] = tally.get(how, 0) + 1
        print("  " + ", ".join(f"{how}: {n}" for how, n in sorted(tally.items())))
        seen = set()
        for i, kind, pid, kit in publish_refused:
            if kind in seen:
                continue
            seen.add(kind)
            print(f"  #{i} {kind}: seed picks {pid!r}; kit: {short(kit, 200)}")
    if unallowed:
        print(f"\n{len(unallowed)} disagreement key(s) outside ALLOW")
    print(f"differential vs seed: {agree}/{N} agree")
    sys.exit(1 if unallowed else 0)


if __name__ == "__main__":
    main()
