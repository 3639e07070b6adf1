#!/usr/bin/env python3
"""The kit's `mp-autopick` against the seed's own `_resolve_project(auto_pick=True)` on random
`/me` bodies shaped like the live API (document order shuffled, numeric ids of different
lengths, domains absent/null/empty/export hosts, `is_demo` and `has_integrated` in every JSON
type, `--project` and `MP_PROJECT_ID` now and then, all three regions).

Usage (the seed's python, which can import mixpanel_headless):
  "$($SEED_DIR/setup-venv)" scripts/seed-compare-autopick.py target/release/mp-autopick [N] [SEED]
Compares every `project_pick` key and `project.id` (or the error code and, for
NEEDS_REGION_SWITCH, its details). Last line: 'autopick vs seed: K/N agree'; exit 1 on any
disagreement."""
import json, os, random, subprocess, sys

from mixpanel_headless._internal.me import MeResponse
from mixpanel_headless.accounts import _resolve_project
from mixpanel_headless.exceptions import MixpanelHeadlessError

KIT = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 158)

DOMAINS = ["mixpanel.com"] * 6 + ["eu.mixpanel.com"] * 3 + ["in.mixpanel.com"] * 2 + [
    None, None, "", "data-eu.mixpanel.com", "https://mixpanel.com", "MIXPANEL.COM", ABSENT := object()]
FLAGS = [True] * 6 + [False] * 4 + [None, 1, 0, "true", "false", "", [], {}, ABSENT]


def random_me():
    n_orgs = rng.randint(0, 5)
    org_ids = rng.sample([7, 9, 10, 99, 100, 1001, 1002, 123456, 5, 42], n_orgs)
    orgs = {str(o): {"id": o, "name": rng.choice(["Acme", "Globex", "Initech", "Café Ünïcode", "日本", "  "]) + f" {o}"}
            for o in org_ids}
    projects = {}
    for _ in range(rng.randint(0, 14)):
        pid = str(rng.choice([rng.randint(1, 99), rng.randint(100, 9999), rng.randint(10000, 9999999)]))
        # An organization the body lists, or now and then one it does not.
        org = rng.choice(org_ids) if org_ids and rng.random() < 0.9 else rng.choice([3, 11, 10])
        p = {"name": f"P{pid}", "organization_id": org if rng.random() < 0.8 else str(org),
             "timezone": "US/Pacific"}
        for key, choices in (("domain", DOMAINS), ("is_demo", FLAGS), ("has_integrated", FLAGS)):
            v = rng.choice(choices)
            if v is not ABSENT:
                p[key] = v
        projects[pid] = p
    body = {"user_id": 1, "user_email": "a@example.com", "organizations": orgs, "projects": projects}
    return body


def seed_pick(body, region, project, env_project):
    if env_project:
        os.environ["MP_PROJECT_ID"] = env_project
    else:
        os.environ.pop("MP_PROJECT_ID", None)
    try:
        pick = _resolve_project(me_resp=MeResponse.model_validate(body), explicit_project=project,
                                project_picker=None, auto_pick=True, region=region)
    except MixpanelHeadlessError as e:
        return {"error": e.code, "details": e.details if e.code == "NEEDS_REGION_SWITCH" else None}
    except ValueError as e:  # a non-numeric id in _pick_from_primary_org (`docs/seed.md#where-the-kit-differs`)
        return {"error": type(e).__name__}
    return {"project_id": pick.project_id, "project_pick": {
        "auto_picked": pick.method not in ("explicit", "tty_picker"), "method": pick.method,
        "primary_org_id": pick.primary_org_id, "primary_org_name": pick.primary_org_name,
        "primary_org_survivor_count": pick.primary_org_survivor_count,
        "accessible_project_count": pick.accessible_project_count,
        "region_compatible_count": pick.region_compatible_count, "filtered_count": pick.filtered_count,
        "demo_excluded": pick.demo_excluded, "unintegrated_excluded": pick.unintegrated_excluded}}


def kit_pick(body, region, project, env_project):
    args = [KIT, "--region", region] + (["--project", project] if project is not None else [])
    env = {k: v for k, v in os.environ.items() if k != "MP_PROJECT_ID"}
    if env_project:
        env["MP_PROJECT_ID"] = env_project
    wrapped = rng.random() < 0.5
    text = json.dumps({"status": "ok", "results": body} if wrapped else body)
    p = subprocess.run(args, input=text.encode(), capture_output=True, env=env)
    out = json.loads(p.stdout)
    if out["state"] == "error":
        e = out["error"]
        return {"error": e["code"], "details": e["details"] if e["code"] == "NEEDS_REGION_SWITCH" else None}
    return {"project_id": (out["project"] or {}).get("id"), "project_pick": out["project_pick"]}


agree, shown = 0, 0
methods = {}
for i in range(N):
    body = random_me()
    region = rng.choice(["us", "us", "us", "eu", "in"])
    ids = list(body["projects"])
    project = env_project = None
    r = rng.random()
    if r < 0.08:
        project = rng.choice(ids + ["404"]) if ids else "404"
    elif r < 0.12:
        env_project = rng.choice(ids + ["404"]) if ids else "404"
    s = seed_pick(body, region, project, env_project)
    k = kit_pick(body, region, project, env_project)
    label = s.get("project_pick", {}).get("method") or s["error"]
    methods[label] = methods.get(label, 0) + 1
    if s == k:
        agree += 1
    elif shown < 5:
        shown += 1
        print(f"DISAGREE #{i} region={region} project={project} env={env_project}\n  body={json.dumps(body)[:600]}\n  seed={s}\n  kit ={k}")
print("outcomes:", ", ".join(f"{m} {n}" for m, n in sorted(methods.items(), key=lambda x: -x[1])))
print(f"autopick vs seed: {agree}/{N} agree")
sys.exit(0 if agree == N else 1)
