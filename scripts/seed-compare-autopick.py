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
import json, os, subprocess, sys

from me_bodies import DOMAINS, NAMES, random_me, rng  # scripts/me_bodies.py
from seed_pick import project_pick  # scripts/seed_pick.py

from mixpanel_headless._internal.me import MeResponse
from mixpanel_headless.accounts import _resolve_project
from mixpanel_headless.exceptions import MixpanelHeadlessError

KIT = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rng.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 158)

# Fewer names, eu hosts a little rarer, more projects and more string organization ids than the
# differential's live-shaped bodies.
PROFILE = {"names": NAMES[:6], "max_projects": 14, "int_org_rate": 0.8, "rich": False,
           "domains": ["mixpanel.com"] * 6 + ["eu.mixpanel.com"] * 3 + DOMAINS[10:]}


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
    return {"project_id": pick.project_id, "project_pick": project_pick(pick)}


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
    body = random_me(**PROFILE)
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
