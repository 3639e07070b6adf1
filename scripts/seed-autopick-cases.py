#!/usr/bin/env python3
"""Writes tests/data/seed_autopick_cases.json: the 19 cases of the seed's own autopick tests
(tests/unit/test_resolve_project_autopick.py, `docs/pick.md#the-cascade`) as /me bodies, each with the
outcome the seed's `_resolve_project(auto_pick=True)` gives, shaped as its CLI prints it.

Run with the seed's python:  "$($SEED_DIR/setup-venv)" scripts/seed-autopick-cases.py
tests/it/seed_cases.rs runs every case through `mp-autopick` and compares.

The kit has no TTY picker and no `auto_pick=False` mode (`docs/pick.md#the-cascade`): the five rows about them
(`single_project_legacy`, `picker_wins`, `explicit_skips_picker`, `legacy_multi_no_picker`,
`legacy_no_region_filter`) are pinned to what the seed does on the headless path, which is the
path the kit implements; `seed_test_expects` keeps what the seed's test itself asserts."""
import json, os, sys
from pathlib import Path

from mixpanel_headless._internal.me import MeResponse
from mixpanel_headless.accounts import _resolve_project
from mixpanel_headless.exceptions import MixpanelHeadlessError


def proj(name, org, domain="mixpanel.com", demo=False, integrated=True):
    return {"name": name, "organization_id": org, "domain": domain,
            "is_demo": demo, "has_integrated": integrated}


def me(projects, org_names=None):
    org_names = org_names or {}
    orgs = {}
    for p in projects.values():
        oid = p["organization_id"]
        orgs[str(oid)] = {"id": oid, "name": org_names.get(oid, f"Org {oid}")}
    return {"user_id": 1, "user_email": "user@example.com",
            "organizations": orgs, "projects": projects}


EU = "eu.mixpanel.com"
CASES = [
    ("explicit_overrides_demo", me({"3": proj("A demo", 1, demo=True)}), "3",
     {"method": "explicit", "project": "3"}),
    ("explicit_not_visible", me({"3": proj("A", 1)}), "999", {"error": "PROJECT_NOT_FOUND"}),
    ("explicit_skips_region_filter", me({"3": proj("EU", 1, domain=EU)}), "3",
     {"method": "explicit", "project": "3"}),
    ("single_region_compat", me({"3": proj("Only", 1)}), None,
     {"method": "sole_survivor", "project": "3"}),
    ("single_project_legacy", me({"3": proj("Only", 1)}), None,
     {"method": "sole_survivor", "project": "3"}),
    ("sole_survivor_filtered", me({"10": proj("Real", 1), "20": proj("Demo", 1, demo=True)}), None,
     {"method": "sole_survivor_filtered", "project": "10", "region_compatible_count": 2,
      "filtered_count": 1, "demo_excluded": 1}),
    ("higher_count_org", me({"10": proj("A", 1), "20": proj("B", 1), "30": proj("C", 2)},
                            {1: "Big", 2: "Small"}), None,
     {"method": "primary_org_lowest_id", "project": "10", "primary_org_id": "1",
      "primary_org_name": "Big", "primary_org_survivor_count": 2}),
    ("org_tiebreak", me({"100": proj("P1", 2), "200": proj("P2", 1)}), None,
     {"primary_org_id": "1", "project": "200"}),
    ("all_unintegrated", me({"10": proj("A", 1, integrated=False), "20": proj("B", 1, integrated=False)}),
     None, {"method": "fallback_with_unintegrated", "project": "10"}),
    ("all_demos", me({"10": proj("A", 1, demo=True), "20": proj("B", 1, demo=True)}), None,
     {"method": "fallback_with_demos", "project": "10"}),
    ("cross_region", me({"10": proj("EU-A", 1, domain=EU), "20": proj("EU-B", 1, domain=EU)}), None,
     {"error": "NEEDS_REGION_SWITCH", "cross_region_projects": 2}),
    ("message_suggests_region", me({"10": proj("E", 1, domain=EU)}), None,
     {"error": "NEEDS_REGION_SWITCH", "message_contains": "--region eu"}),
    ("picker_wins", me({"10": proj("A", 1), "20": proj("B", 1)}), None,
     {"seed_test_expects": "tty_picker picks 20 (a picker the kit does not have)"}),
    ("explicit_skips_picker", me({"10": proj("A", 1), "20": proj("B", 1)}), "10",
     {"method": "explicit", "project": "10"}),
    ("legacy_multi_no_picker", me({"10": proj("A", 1), "20": proj("B", 1)}), None,
     {"seed_test_expects": "ConfigError 'Multiple projects' with auto_pick=False (a mode the kit does not have)"}),
    ("legacy_no_region_filter", me({"10": proj("EU-A", 1, domain=EU), "20": proj("EU-B", 1, domain=EU)}), None,
     {"seed_test_expects": "ConfigError, not NeedsRegionSwitch, with auto_pick=False (a mode the kit does not have)"}),
    ("no_projects", me({}), None, {"method": "no_projects", "project": None}),
    ("demo_excluded_count", me({"10": proj("A", 1), "20": proj("B", 1, demo=True), "30": proj("C", 1, demo=True)}),
     None, {"demo_excluded": 2, "unintegrated_excluded": 0, "region_compatible_count": 3, "filtered_count": 1}),
    ("unintegrated_count", me({"10": proj("A", 1), "20": proj("B", 1, integrated=False)}), None,
     {"demo_excluded": 0, "unintegrated_excluded": 1, "filtered_count": 1}),
]


def seed_outcome(body, project):
    """What `mp login --finish` would print for this /me (the pick part), as the seed's CLI does."""
    try:
        pick = _resolve_project(me_resp=MeResponse.model_validate(body), explicit_project=project,
                                project_picker=None, auto_pick=True, region="us")
    except MixpanelHeadlessError as e:
        return {"error": {"code": e.code, "message": e.message, "details": e.details}}
    return {
        "project": None if pick.project_id is None else
        {"id": pick.project_id, "name": body["projects"][pick.project_id]["name"]},
        "project_pick": {
            "auto_picked": pick.method not in ("explicit", "tty_picker"),
            "method": pick.method, "primary_org_id": pick.primary_org_id,
            "primary_org_name": pick.primary_org_name,
            "primary_org_survivor_count": pick.primary_org_survivor_count,
            "accessible_project_count": pick.accessible_project_count,
            "region_compatible_count": pick.region_compatible_count,
            "filtered_count": pick.filtered_count, "demo_excluded": pick.demo_excluded,
            "unintegrated_excluded": pick.unintegrated_excluded,
        },
    }


def check(name, out, expect):
    """The seed's own test assertions hold for the outcome recorded."""
    for k, v in expect.items():
        if k == "seed_test_expects":
            continue
        if k == "error":
            assert out.get("error", {}).get("code") == v, (name, out)
        elif k == "cross_region_projects":
            assert len(out["error"]["details"]["cross_region_projects"]) == v, (name, out)
        elif k == "message_contains":
            assert v in out["error"]["message"], (name, out)
        elif k == "project":
            assert (out["project"] or {}).get("id") == v, (name, out)
        else:
            assert out["project_pick"][k] == v, (name, k, out)


os.environ.pop("MP_PROJECT_ID", None)
cases = []
for name, body, project, expect in CASES:
    out = seed_outcome(body, project)
    check(name, out, expect)
    cases.append({"name": name, "me": body, "project": project, "seed_test_asserts": expect,
                  "seed": out})
path = Path(__file__).resolve().parent.parent / "tests/data/seed_autopick_cases.json"
path.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
print(f"{len(cases)} cases written to {path}", file=sys.stderr)
