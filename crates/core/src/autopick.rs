//! The project auto-pick cascade (SPEC §8): a pure, deterministic function of the `/me` view,
//! the region and an optional explicit project. Key order of the JSON cannot matter: `Me` holds
//! its projects and organizations sorted by id.

use serde::Serialize;

use crate::error::{Error, ForeignProject, Result};
use crate::me::{id_order, Me, Project};
use crate::region::Region;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Explicit,
    Env,
    SoleSurvivor,
    SoleSurvivorFiltered,
    PrimaryOrgLowestId,
    FallbackUnintegrated,
    FallbackDemo,
    None,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Explicit => "explicit",
            Method::Env => "env",
            Method::SoleSurvivor => "sole_survivor",
            Method::SoleSurvivorFiltered => "sole_survivor_filtered",
            Method::PrimaryOrgLowestId => "primary_org_lowest_id",
            Method::FallbackUnintegrated => "fallback_unintegrated",
            Method::FallbackDemo => "fallback_demo",
            Method::None => "none",
        }
    }
}

/// Nested counts: `non_demo` among the region-compatible, `integrated` among those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub total: usize,
    pub region_compatible: usize,
    pub non_demo: usize,
    pub integrated: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectPick {
    pub method: Method,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub primary_org_survivors: Option<usize>,
    pub funnel: Funnel,
}

/// A project named by the user rather than picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// `--project`, or the one `mp-login-start --project` saved.
    Explicit(String),
    /// `MP_PROJECT_ID`.
    Env(String),
}

pub fn pick(me: &Me, region: Region, requested: Option<&Requested>) -> Result<ProjectPick> {
    let compatible: Vec<&Project> = me
        .projects
        .iter()
        .filter(|p| p.is_compatible_with(region))
        .collect();
    let non_demo: Vec<&Project> = compatible.iter().copied().filter(|p| !p.is_demo).collect();
    let integrated: Vec<&Project> = non_demo
        .iter()
        .copied()
        .filter(|p| p.has_integrated_data)
        .collect();
    let funnel = Funnel {
        total: me.projects.len(),
        region_compatible: compatible.len(),
        non_demo: non_demo.len(),
        integrated: integrated.len(),
    };
    let picked = |method, project: Option<&Project>, survivors| {
        let organization_id = project.and_then(|p| p.organization_id.clone());
        ProjectPick {
            method,
            project_id: project.map(|p| p.id.clone()),
            project_name: project.and_then(|p| p.name.clone()),
            organization_name: organization_id
                .as_deref()
                .and_then(|id| me.organization(id))
                .and_then(|o| o.name.clone()),
            organization_id,
            primary_org_survivors: survivors,
            funnel,
        }
    };

    if let Some(req) = requested {
        let (method, id, source_name) = match req {
            Requested::Explicit(id) => (Method::Explicit, id, "--project"),
            Requested::Env(id) => (Method::Env, id, "MP_PROJECT_ID"),
        };
        let project = me
            .project(id.trim())
            .ok_or_else(|| Error::ProjectNotFound {
                project_id: id.clone(),
                source_name,
                visible: me.projects.len(),
            })?;
        if !project.is_compatible_with(region) {
            return Err(region_switch(region, vec![project], project.region()));
        }
        return Ok(picked(method, Some(project), None));
    }

    if me.projects.is_empty() {
        return Ok(picked(Method::None, None, None));
    }
    match compatible.len() {
        0 => {
            let others: Vec<&Project> = me.projects.iter().collect();
            let suggested = most_common_region(&others);
            return Err(region_switch(region, others, suggested));
        }
        1 => return Ok(picked(Method::SoleSurvivor, Some(compatible[0]), Some(1))),
        _ => {}
    }
    let (method, set) = match integrated.len() {
        1 => {
            return Ok(picked(
                Method::SoleSurvivorFiltered,
                Some(integrated[0]),
                Some(1),
            ))
        }
        0 if !non_demo.is_empty() => (Method::FallbackUnintegrated, &non_demo),
        0 => (Method::FallbackDemo, &compatible),
        _ => (Method::PrimaryOrgLowestId, &integrated),
    };
    let (project, survivors) = primary_org_lowest_id(set);
    Ok(picked(method, Some(project), Some(survivors)))
}

/// The organization with the most projects in `set` (tie: lowest organization id), then its
/// lowest project id. Returns the project and its organization's count.
fn primary_org_lowest_id<'a>(set: &[&'a Project]) -> (&'a Project, usize) {
    let org_of = |p: &Project| p.organization_id.clone().unwrap_or_default();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for p in set {
        let org = org_of(p);
        match counts.iter_mut().find(|(o, _)| *o == org) {
            Some((_, n)) => *n += 1,
            None => counts.push((org, 1)),
        }
    }
    let (org, survivors) = counts
        .into_iter()
        .min_by(|(oa, na), (ob, nb)| nb.cmp(na).then_with(|| id_order(oa).cmp(&id_order(ob))))
        .expect("the set is not empty");
    let project = set
        .iter()
        .copied()
        .filter(|p| org_of(p) == org)
        .min_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)))
        .expect("the organization has a project");
    (project, survivors)
}

/// The region most of `projects` live in (tie: us, eu, in).
fn most_common_region(projects: &[&Project]) -> Option<Region> {
    Region::ALL
        .into_iter()
        .map(|r| (r, projects.iter().filter(|p| p.region() == Some(r)).count()))
        .filter(|(_, n)| *n > 0)
        .max_by(|(ra, na), (rb, nb)| na.cmp(nb).then_with(|| rb.cmp(ra)))
        .map(|(r, _)| r)
}

fn region_switch(region: Region, projects: Vec<&Project>, suggested: Option<Region>) -> Error {
    Error::NeedsRegionSwitch {
        region,
        projects: projects
            .into_iter()
            .map(|p| ForeignProject {
                project_id: p.id.clone(),
                project_name: p.name.clone(),
                region: p.region(),
            })
            .collect(),
        suggested_region: suggested,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::me::{MeBody, Organization};

    fn project(id: &str, org: &str, domain: &str, demo: bool, integrated: bool) -> Project {
        Project {
            id: id.into(),
            name: Some(format!("P{id}")),
            organization_id: Some(org.into()),
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            is_demo: demo,
            has_integrated_data: integrated,
        }
    }

    fn me(projects: Vec<Project>) -> Me {
        Me {
            user_email: None,
            organizations: vec![
                Organization {
                    id: "1".into(),
                    name: Some("One".into()),
                },
                Organization {
                    id: "2".into(),
                    name: Some("Two".into()),
                },
            ],
            projects,
        }
    }

    fn method(m: &Me, region: Region) -> (Method, Option<String>) {
        let p = pick(m, region, None).unwrap();
        (p.method, p.project_id)
    }

    #[test]
    fn every_method_of_the_cascade() {
        let us = "mixpanel.com";
        let eu = "eu.mixpanel.com";
        let one = me(vec![
            project("5", "1", us, true, false),
            project("6", "1", eu, false, true),
        ]);
        assert_eq!(
            method(&one, Region::Us),
            (Method::SoleSurvivor, Some("5".into()))
        );
        let filtered = me(vec![
            project("5", "1", us, true, true),
            project("6", "1", "", false, true),
        ]);
        assert_eq!(
            method(&filtered, Region::Us),
            (Method::SoleSurvivorFiltered, Some("6".into()))
        );
        let orgs = me(vec![
            project("30", "1", us, false, true),
            project("12", "2", us, false, true),
            project("11", "2", us, false, true),
            project("9", "1", us, false, false),
        ]);
        let p = pick(&orgs, Region::Us, None).unwrap();
        assert_eq!(
            (p.method, p.project_id.as_deref()),
            (Method::PrimaryOrgLowestId, Some("11"))
        );
        assert_eq!(p.primary_org_survivors, Some(2));
        assert_eq!(p.organization_name.as_deref(), Some("Two"));
        assert_eq!(
            p.funnel,
            Funnel {
                total: 4,
                region_compatible: 4,
                non_demo: 4,
                integrated: 3
            }
        );
        let unint = me(vec![
            project("8", "2", us, false, false),
            project("7", "1", us, false, false),
        ]);
        assert_eq!(
            method(&unint, Region::Us),
            (Method::FallbackUnintegrated, Some("7".into()))
        );
        let demos = me(vec![
            project("8", "2", us, true, true),
            project("70", "2", us, true, false),
        ]);
        assert_eq!(
            method(&demos, Region::Us),
            (Method::FallbackDemo, Some("8".into()))
        );
        assert_eq!(method(&me(vec![]), Region::Us), (Method::None, None));
    }

    #[test]
    fn numeric_ids_order_numerically() {
        let m = me(vec![
            project("100", "1", "", false, true),
            project("99", "1", "", false, true),
        ]);
        assert_eq!(method(&m, Region::Us).1.as_deref(), Some("99"));
    }

    #[test]
    fn no_compatible_project_needs_a_region_switch() {
        let m = me(vec![
            project("1", "1", "eu.mixpanel.com", false, true),
            project("2", "1", "data-eu.mixpanel.com", false, true),
            project("3", "1", "in.mixpanel.com", false, true),
        ]);
        match pick(&m, Region::Us, None).unwrap_err() {
            Error::NeedsRegionSwitch {
                projects,
                suggested_region,
                ..
            } => {
                assert_eq!(projects.len(), 3);
                assert_eq!(suggested_region, Some(Region::Eu));
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn explicit_and_env_projects() {
        let m = me(vec![
            project("1", "1", "", false, true),
            project("2", "2", "eu.mixpanel.com", false, true),
        ]);
        let p = pick(&m, Region::Us, Some(&Requested::Explicit("1".into()))).unwrap();
        assert_eq!(
            (p.method, p.primary_org_survivors),
            (Method::Explicit, None)
        );
        let p = pick(&m, Region::Eu, Some(&Requested::Env("2".into()))).unwrap();
        assert_eq!(p.method, Method::Env);
        let e = pick(&m, Region::Us, Some(&Requested::Env("404".into()))).unwrap_err();
        assert_eq!(e.code(), "PROJECT_NOT_FOUND");
        let e = pick(&m, Region::Us, Some(&Requested::Explicit("2".into()))).unwrap_err();
        match e {
            Error::NeedsRegionSwitch {
                suggested_region, ..
            } => assert_eq!(suggested_region, Some(Region::Eu)),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_parsed_body_picks_the_same() {
        let body = r#"{"projects":{"2":{"organization_id":1},"1":{"organization_id":1}}}"#;
        let parsed = MeBody::parse(body.as_bytes()).unwrap();
        assert_eq!(method(&parsed.me, Region::In).1.as_deref(), Some("1"));
    }
}
