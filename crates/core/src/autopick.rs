//! The project auto-pick cascade: the seed's `_resolve_project(auto_pick=True)`, a pure
//! function of the `/me` view, the region and an explicit project (`docs/pick.md#the-cascade`).
//! Projects and organizations are taken in `/me` document order, which only the
//! `cross_region_projects` list shows: every choice is by count and numeric id.

use serde::Serialize;

use crate::error::{ConfigProblem, CrossRegionProject, Error, Result};
use crate::me::{id_order, Me, Project};
use crate::region::Region;
use crate::text::shown;

/// The seed's `PickMethod` values that the headless paths can report, serialized as
/// [`Method::as_str`] spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    NoProjects,
    Explicit,
    SoleSurvivor,
    SoleSurvivorFiltered,
    PrimaryOrgLowestId,
    FallbackWithUnintegrated,
    FallbackWithDemos,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::NoProjects => "no_projects",
            Method::Explicit => "explicit",
            Method::SoleSurvivor => "sole_survivor",
            Method::SoleSurvivorFiltered => "sole_survivor_filtered",
            Method::PrimaryOrgLowestId => "primary_org_lowest_id",
            Method::FallbackWithUnintegrated => "fallback_with_unintegrated",
            Method::FallbackWithDemos => "fallback_with_demos",
        }
    }
}

impl Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The envelope's `project_pick`, key for key the seed's (`docs/envelopes.md#the-envelope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectPick {
    /// `method` is neither `explicit` nor `tty_picker` (so `no_projects` is auto-picked).
    pub auto_picked: bool,
    pub method: Method,
    pub primary_org_id: Option<String>,
    pub primary_org_name: Option<String>,
    pub primary_org_survivor_count: Option<usize>,
    pub accessible_project_count: usize,
    pub region_compatible_count: usize,
    pub filtered_count: usize,
    pub demo_excluded: usize,
    pub unintegrated_excluded: usize,
}

/// The envelope's `project`: `{id, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickedProject {
    pub id: String,
    pub name: Option<String>,
}

/// `3001 (Acme Production)`, for sentences on stderr.
impl std::fmt::Display for PickedProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({})", shown(&self.id), shown(name)),
            None => write!(f, "{}", shown(&self.id)),
        }
    }
}

/// The outcome of the cascade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pick {
    pub project: Option<PickedProject>,
    pub project_pick: ProjectPick,
}

/// A project named by the user rather than picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// `--project`, or the one `mp-login-start --project` saved.
    Explicit(String),
    /// `MP_PROJECT_ID`.
    Env(String),
}

/// The counts every pick after the region filter reports.
#[derive(Clone, Copy)]
struct Funnel {
    accessible: usize,
    region_compatible: usize,
    filtered: usize,
    demo_excluded: usize,
    unintegrated_excluded: usize,
}

impl Funnel {
    fn pick(
        self,
        method: Method,
        project: Option<&Project>,
        org: Option<(Option<String>, Option<String>, usize)>,
    ) -> Pick {
        let (primary_org_id, primary_org_name, survivors) = match org {
            Some((id, name, n)) => (id, name, Some(n)),
            None => (None, None, None),
        };
        Pick {
            project: project.map(|p| PickedProject {
                id: p.id.to_string(),
                name: p.name.as_deref().map(str::to_string),
            }),
            project_pick: ProjectPick {
                auto_picked: method != Method::Explicit,
                method,
                primary_org_id,
                primary_org_name,
                primary_org_survivor_count: survivors,
                accessible_project_count: self.accessible,
                region_compatible_count: self.region_compatible,
                filtered_count: self.filtered,
                demo_excluded: self.demo_excluded,
                unintegrated_excluded: self.unintegrated_excluded,
            },
        }
    }
}

/// The seed's cascade, steps 0–10, without its terminal picker (`docs/pick.md#the-cascade`).
pub fn pick(me: &Me, region: Region, requested: Option<&Requested>) -> Result<Pick> {
    let accessible = me.projects.len();
    let none = Funnel {
        accessible,
        region_compatible: 0,
        filtered: 0,
        demo_excluded: 0,
        unintegrated_excluded: 0,
    };
    // Step 0: nothing to pick, whatever was asked for.
    if accessible == 0 {
        return Ok(none.pick(Method::NoProjects, None, None));
    }
    // Steps 1–2: an explicit project skips every filter; its counts are the seed's.
    if let Some(req) = requested {
        let project = match req {
            Requested::Explicit(id) => me.project(id).ok_or_else(|| Error::ProjectNotFound {
                project_id: id.clone(),
                available: me.projects.iter().map(|p| p.id.to_string()).collect(),
            })?,
            Requested::Env(id) => me.project(id).ok_or_else(|| env_not_visible(me, id))?,
        };
        let all = Funnel {
            region_compatible: accessible,
            filtered: accessible,
            ..none
        };
        return Ok(all.pick(Method::Explicit, Some(project), None));
    }
    // Step 3–4: the region filter.
    let compatible: Vec<&Project> = me
        .projects
        .iter()
        .filter(|p| p.is_compatible_with(region))
        .collect();
    if compatible.is_empty() {
        return Err(region_switch(me, region));
    }
    // Step 5: demos, then unintegrated projects, out.
    let no_demos: Vec<&Project> = compatible.iter().copied().filter(|p| !p.is_demo).collect();
    let filtered: Vec<&Project> = no_demos
        .iter()
        .copied()
        .filter(|p| p.has_integrated)
        .collect();
    let funnel = Funnel {
        accessible,
        region_compatible: compatible.len(),
        filtered: filtered.len(),
        demo_excluded: compatible.len() - no_demos.len(),
        unintegrated_excluded: no_demos.len() - filtered.len(),
    };
    let org_of = |p: &Project, survivors| {
        let name = p
            .organization_id
            .as_deref()
            .and_then(|id| me.organization(id))
            .and_then(|o| o.name.clone());
        (
            p.organization_id.as_deref().map(str::to_string),
            name,
            survivors,
        )
    };
    // Step 6: a lone region-compatible project, whatever its flags.
    if let [only] = compatible[..] {
        return Ok(funnel.pick(Method::SoleSurvivor, Some(only), Some(org_of(only, 1))));
    }
    // Steps 8–10: the pool, then its primary organization's lowest project id.
    let (method, pool) = if !filtered.is_empty() {
        let method = if filtered.len() > 1 {
            Method::PrimaryOrgLowestId
        } else {
            Method::SoleSurvivorFiltered
        };
        (method, &filtered)
    } else if !no_demos.is_empty() {
        (Method::FallbackWithUnintegrated, &no_demos)
    } else {
        (Method::FallbackWithDemos, &compatible)
    };
    let (project, survivors) = primary_org_lowest_id(pool);
    Ok(funnel.pick(method, Some(project), Some(org_of(project, survivors))))
}

/// The seed's `_pick_from_primary_org` (`docs/pick.md#the-cascade`): the organization with the most
/// projects in `pool` (tie: numerically lowest organization id), then its numerically lowest
/// project id. Returns the project and its organization's count in the pool.
fn primary_org_lowest_id<'a>(pool: &[&'a Project]) -> (&'a Project, usize) {
    let org_key = |p: &'a Project| p.organization_id.as_deref();
    fn order<'s>(o: &Option<&'s str>) -> (u8, Option<crate::digits::PyInt>, &'s str) {
        match o {
            Some(id) => id_order(id),
            None => (2, None, ""),
        }
    }
    // Counted in first-seen order (a tie of equal keys keeps the first), found by hash: a
    // busy account has tens of thousands of projects over a thousand organizations.
    let mut counts: Vec<(Option<&str>, usize)> = Vec::new();
    let mut slot: std::collections::HashMap<Option<&str>, usize> = Default::default();
    for p in pool {
        let org = org_key(p);
        match slot.get(&org) {
            Some(&i) => counts[i].1 += 1,
            None => {
                slot.insert(org, counts.len());
                counts.push((org, 1));
            }
        }
    }
    let (org, survivors) = counts
        .into_iter()
        .min_by(|(oa, na), (ob, nb)| nb.cmp(na).then_with(|| order(oa).cmp(&order(ob))))
        .expect("the pool is not empty");
    let project = pool
        .iter()
        .copied()
        .filter(|p| org_key(p) == org)
        .min_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)))
        .expect("the organization has a project");
    (project, survivors)
}

/// `MP_PROJECT_ID` names no visible project: the seed's `ConfigError` (`docs/pick.md#the-cascade`).
fn env_not_visible(me: &Me, id: &str) -> Error {
    let lines: Vec<String> = me
        .projects
        .iter()
        .map(|p| {
            format!(
                "  - {} : {} ({})",
                shown(&p.id),
                shown(p.name.as_deref().unwrap_or("")),
                shown(
                    p.domain
                        .as_deref()
                        .filter(|d| !d.is_empty())
                        .unwrap_or("(no domain)")
                )
            )
        })
        .collect();
    Error::Config {
        message: format!(
            "MP_PROJECT_ID={} is not visible to this account.\n\nAccessible projects:\n{}\n\nEither unset MP_PROJECT_ID, or pass --project ID with a visible value.",
            shown(id),
            lines.join("\n")
        ),
        problem: ConfigProblem::EnvProjectNotVisible,
    }
}

/// No region-compatible project (`docs/envelopes.md#the-envelope`): every project in document order, a
/// per-region breakdown and the first other region (eu, in, us) that has projects.
fn region_switch(me: &Me, region: Region) -> Error {
    let projects: Vec<CrossRegionProject> = me
        .projects
        .iter()
        .map(|p| CrossRegionProject {
            id: p.id.to_string(),
            name: p.name.as_deref().map(str::to_string),
            domain: p
                .domain
                .as_deref()
                .filter(|d| !d.is_empty())
                .unwrap_or("(no domain)")
                .to_string(),
        })
        .collect();
    let mut per_region: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in &projects {
        let r = Region::from_domain(&p.domain).map_or("(unknown)", Region::as_str);
        *per_region.entry(r).or_default() += 1;
    }
    let breakdown: Vec<String> = per_region
        .iter()
        .map(|(r, n)| format!("{n} in {r}"))
        .collect();
    let suggested = [Region::Eu, Region::In, Region::Us]
        .into_iter()
        .find(|r| *r != region && per_region.contains_key(r.as_str()));
    Error::NeedsRegionSwitch {
        region,
        breakdown: breakdown.join(", "),
        projects,
        suggested_region: suggested,
    }
}

/// The seed's E-2 check after the pick (`docs/pick.md#the-region-check-after-the-pick`): an explicit project whose domain names
/// another known region is a `CONFIG_ERROR`. Auto-picks never trip it.
pub fn check_region(me: &Me, pick: &Pick, region: Region) -> Result<()> {
    let Some(project) = pick.project.as_ref().and_then(|p| me.project(&p.id)) else {
        return Ok(());
    };
    let Some(domain) = project.domain.as_deref().filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    match Region::from_domain(domain) {
        Some(other) if other != region => Err(Error::Config {
            message: format!(
                "Region mismatch.\n\nYou authenticated against the {region} cluster, but project {} ({}) lives in the {other} cluster ({}).",
                shown(&project.id),
                shown(project.name.as_deref().unwrap_or("")),
                shown(domain)
            ),
            problem: ConfigProblem::RegionMismatch { other },
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::me::MeBody;

    fn method(body: &str, region: Region) -> (Method, Option<String>) {
        let me = MeBody::parse(body.as_bytes()).unwrap().me;
        let p = pick(&me, region, None).unwrap();
        (p.project_pick.method, p.project.map(|p| p.id))
    }

    #[test]
    fn numeric_ids_order_numerically_and_orgs_tie_to_the_lowest_id() {
        let body = r#"{"projects":{
            "100":{"organization_id":10,"has_integrated":true},
            "99":{"organization_id":10,"has_integrated":true},
            "5":{"organization_id":9,"has_integrated":true},
            "6":{"organization_id":9,"has_integrated":true}}}"#;
        assert_eq!(
            method(body, Region::Us),
            (Method::PrimaryOrgLowestId, Some("5".into()))
        );
    }

    #[test]
    fn region_switch_lists_every_project_in_document_order() {
        let body = r#"{"projects":{
            "2":{"name":"E","domain":"eu.mixpanel.com"},
            "1":{"name":"I","domain":"in.mixpanel.com"},
            "3":{"name":"X","domain":""}}}"#;
        let me = MeBody::parse(body.as_bytes()).unwrap().me;
        let e = pick(&me, Region::Us, None).unwrap_err();
        assert_eq!(e.code(), "NEEDS_REGION_SWITCH");
        assert_eq!(
            e.to_string(),
            "No projects in region us accessible to this account (1 in (unknown), 1 in eu, 1 in in)."
        );
        assert!(matches!(
            e,
            Error::NeedsRegionSwitch {
                suggested_region: Some(Region::Eu),
                ..
            }
        ));
        let Error::NeedsRegionSwitch { projects, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            serde_json::to_value(projects).unwrap(),
            serde_json::json!([
                {"id": "2", "name": "E", "domain": "eu.mixpanel.com"},
                {"id": "1", "name": "I", "domain": "in.mixpanel.com"},
                {"id": "3", "name": "X", "domain": "(no domain)"}
            ])
        );
    }

    #[test]
    fn explicit_cross_region_projects_trip_the_e2_check() {
        let body = r#"{"projects":{"1":{"domain":"https://EU.mixpanel.com"},"2":{}}}"#;
        let me = MeBody::parse(body.as_bytes()).unwrap().me;
        let p = pick(&me, Region::Us, Some(&Requested::Explicit("1".into()))).unwrap();
        assert_eq!(
            check_region(&me, &p, Region::Us).unwrap_err().code(),
            "CONFIG_ERROR"
        );
        let p = pick(&me, Region::Us, Some(&Requested::Env("2".into()))).unwrap();
        assert!(check_region(&me, &p, Region::Us).is_ok());
        assert!(!p.project_pick.auto_picked);
        let e = pick(&me, Region::Us, Some(&Requested::Env("404".into()))).unwrap_err();
        assert_eq!(e.code(), "CONFIG_ERROR");
    }
}
