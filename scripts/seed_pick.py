"""The seed's `_resolve_project` result in the kit's envelope shape, for the scripts that compare
the two (seed-compare-autopick.py, seed-differential.py)."""


def project_pick(pick):
    """The `project_pick` object `mp-autopick` prints for the same pick."""
    return {
        "auto_picked": pick.method not in ("explicit", "tty_picker"), "method": pick.method,
        "primary_org_id": pick.primary_org_id, "primary_org_name": pick.primary_org_name,
        "primary_org_survivor_count": pick.primary_org_survivor_count,
        "accessible_project_count": pick.accessible_project_count,
        "region_compatible_count": pick.region_compatible_count, "filtered_count": pick.filtered_count,
        "demo_excluded": pick.demo_excluded, "unintegrated_excluded": pick.unintegrated_excluded}
