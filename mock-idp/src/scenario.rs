//! `/me` bodies: a builder for tests and the named scenarios of `docs/mock-idp.md`. Bodies are served
//! wrapped in `{"status":"ok","results":…}` like the real API.

use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use crate::faults::{Endpoint, Fault};

/// One project of a `/me` body, in the live API's field names (`docs/mock-idp.md`).
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    pub id: u64,
    pub organization_id: u64,
    pub name: String,
    /// `mixpanel.com`, `eu.mixpanel.com`, `in.mixpanel.com`, or anything else; `None` leaves
    /// the field out.
    pub domain: Option<String>,
    pub is_demo: bool,
    /// `has_integrated`; `None` leaves the field out (which the seed counts as unintegrated).
    pub has_integrated: Option<Value>,
}

impl ProjectSpec {
    pub fn new(id: u64, organization_id: u64, name: &str) -> Self {
        ProjectSpec {
            id,
            organization_id,
            name: name.to_string(),
            domain: Some("mixpanel.com".into()),
            is_demo: false,
            has_integrated: Some(Value::Bool(true)),
        }
    }

    /// No `domain` field (older payloads): compatible with every region.
    pub fn no_domain(mut self) -> Self {
        self.domain = None;
        self
    }

    /// `has_integrated` set to `value` (`null`, `1`, `"true"`…), or left out with `None`.
    pub fn has_integrated(mut self, value: Option<Value>) -> Self {
        self.has_integrated = value;
        self
    }

    pub fn domain(mut self, domain: &str) -> Self {
        self.domain = Some(domain.to_string());
        self
    }

    pub fn demo(mut self) -> Self {
        self.is_demo = true;
        self
    }

    pub fn unintegrated(mut self) -> Self {
        self.has_integrated = Some(Value::Bool(false));
        self
    }
}

/// Builds the unwrapped `/me` body.
#[derive(Debug, Clone)]
pub struct MeBuilder {
    email: String,
    organizations: Vec<(u64, String)>,
    projects: Vec<ProjectSpec>,
    members_per_workspace: usize,
    /// Workspaces listed; `None`: one per project.
    workspaces: Option<usize>,
}

impl Default for MeBuilder {
    fn default() -> Self {
        MeBuilder {
            email: "ada@example.com".into(),
            organizations: Vec::new(),
            projects: Vec::new(),
            members_per_workspace: 3,
            workspaces: None,
        }
    }
}

impl MeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn email(mut self, email: &str) -> Self {
        self.email = email.to_string();
        self
    }

    pub fn organization(mut self, id: u64, name: &str) -> Self {
        self.organizations.push((id, name.to_string()));
        self
    }

    pub fn project(mut self, project: ProjectSpec) -> Self {
        self.projects.push(project);
        self
    }

    /// Members listed in each project's workspace (`member_list` and `unified_member_list`).
    pub fn members_per_workspace(mut self, n: usize) -> Self {
        self.members_per_workspace = n;
        self
    }

    /// How many workspaces `/me` lists, taking the projects in turn (default: one each). A
    /// busy account's body is mostly these member lists.
    pub fn workspaces(mut self, n: usize) -> Self {
        self.workspaces = Some(n);
        self
    }

    /// The unwrapped body as a JSON value (for tests that edit it).
    pub fn build(&self) -> Value {
        serde_json::to_value(self).expect("a /me body serializes")
    }

    /// The body as the live API serves it, `{"status":"ok","results":…}`, written straight to
    /// bytes: no value tree, so `large` at 50,000 projects is quick and small.
    pub fn wrapped_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_wrapped(&mut out).expect("a /me body serializes");
        out
    }

    /// The wrapped body written to `out` as it is serialized (`mock-idp body`).
    pub fn write_wrapped(&self, out: impl std::io::Write) -> serde_json::Result<()> {
        #[derive(Serialize)]
        struct Wrapped<'a> {
            status: &'static str,
            results: &'a MeBuilder,
        }
        serde_json::to_writer(
            out,
            &Wrapped {
                status: "ok",
                results: self,
            },
        )
    }
}

/// The live API's shape, field by field and in its order.
impl Serialize for MeBuilder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Top {
            user_id: 4242,
            user_email: &self.email,
            user_name: "Ada Lovelace",
            organizations: Object(|| {
                self.organizations
                    .iter()
                    .map(|(id, name)| (id.to_string(), Org::owned(*id, name)))
            }),
            projects: Object(|| {
                self.projects
                    .iter()
                    .map(|p| (p.id.to_string(), Project::of(p)))
            }),
            workspaces: Object(|| self.workspace_entries()),
        }
        .serialize(s)
    }
}

impl MeBuilder {
    /// The workspaces `/me` lists, by id: the projects' in turn, as many as asked for.
    fn workspace_entries(&self) -> impl Iterator<Item = (String, Workspace)> + '_ {
        let count = self.workspaces.unwrap_or(self.projects.len());
        let projects = self.projects.len().max(1);
        let n = self.members_per_workspace;
        (0..count).filter_map(move |i| {
            let p = self.projects.get(i % projects)?;
            // A project's first workspace is `id * 10`; more take higher ranges.
            let id = p.id * 10 + (i / projects) as u64 * 10_000_000_000;
            let workspace = Workspace {
                id,
                project_id: p.id,
                name: "All Project Data",
                is_default: true,
                member_list: Members { project: p.id, n },
                unified_member_list: Members { project: p.id, n },
            };
            Some((id.to_string(), workspace))
        })
    }
}

// The records of a `/me` body, serialized as they are made: no value tree.

#[derive(Serialize)]
struct Top<'a, O, P, W> {
    user_id: u64,
    user_email: &'a str,
    user_name: &'static str,
    organizations: O,
    projects: P,
    workspaces: W,
}

/// A JSON object from an iterator of entries, serialized as it goes.
struct Object<F>(F);

impl<F, I, K, V> Serialize for Object<F>
where
    F: Fn() -> I,
    I: Iterator<Item = (K, V)>,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map((self.0)())
    }
}

#[derive(Serialize)]
struct Org<'a> {
    id: u64,
    name: &'a str,
    role: &'static str,
    is_sso_enforced: bool,
}

impl<'a> Org<'a> {
    /// The user's organization `id`, which they own.
    fn owned(id: u64, name: &'a str) -> Self {
        Org {
            id,
            name,
            role: "owner",
            is_sso_enforced: false,
        }
    }
}

#[derive(Serialize)]
struct Role {
    name: &'static str,
}

#[derive(Serialize)]
struct Project<'a> {
    id: u64,
    name: &'a str,
    organization_id: u64,
    is_demo: bool,
    timezone: &'static str,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_integrated: Option<&'a Value>,
}

impl<'a> Project<'a> {
    /// `p` as `/me` lists it, the user its admin.
    fn of(p: &'a ProjectSpec) -> Self {
        Project {
            id: p.id,
            name: &p.name,
            organization_id: p.organization_id,
            is_demo: p.is_demo,
            timezone: "US/Pacific",
            role: Role { name: "Admin" },
            domain: p.domain.as_deref(),
            has_integrated: p.has_integrated.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct Workspace {
    id: u64,
    project_id: u64,
    name: &'static str,
    is_default: bool,
    member_list: Members,
    unified_member_list: Members,
}

/// A workspace's member list: `n` members, made up from the project id as they are written.
struct Members {
    project: u64,
    n: usize,
}

impl Serialize for Members {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.n).map(|m| Member {
            id: self.project * 1000 + m as u64,
            email: format!("member{m}.p{}@example.com", self.project),
            name: format!("Member {m}"),
            role: "analyst",
            last_seen: "2026-11-01T00:00:00Z",
        }))
    }
}

#[derive(Serialize)]
struct Member {
    id: u64,
    email: String,
    name: String,
    role: &'static str,
    last_seen: &'static str,
}

/// The named scenarios of `docs/mock-idp.md`: five `/me` bodies, `large` sized by its project count, and
/// the fault presets (the `single` body with one endpoint misbehaving until cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Single,
    MultiOrg,
    DemosOnly,
    UnintegratedOnly,
    CrossRegion,
    Large { projects: usize },
    SlowMe,
    Me429,
    Me500,
    Token500,
    Register429,
    AccessDenied,
}

/// How long `slow-me` makes `/me` wait.
pub const SLOW_ME_DELAY: Duration = Duration::from_secs(3);

impl Scenario {
    /// `large`'s size when none is given: about 46 MB of `/me`.
    pub const DEFAULT_LARGE_PROJECTS: usize = 20_000;

    pub const ALL: [Scenario; 12] = [
        Scenario::Single,
        Scenario::MultiOrg,
        Scenario::DemosOnly,
        Scenario::UnintegratedOnly,
        Scenario::CrossRegion,
        Scenario::Large {
            projects: Scenario::DEFAULT_LARGE_PROJECTS,
        },
        Scenario::SlowMe,
        Scenario::Me429,
        Scenario::Me500,
        Scenario::Token500,
        Scenario::Register429,
        Scenario::AccessDenied,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Single => "single",
            Scenario::MultiOrg => "multi-org",
            Scenario::DemosOnly => "demos-only",
            Scenario::UnintegratedOnly => "unintegrated-only",
            Scenario::CrossRegion => "cross-region",
            Scenario::Large { .. } => "large",
            Scenario::SlowMe => "slow-me",
            Scenario::Me429 => "me-429",
            Scenario::Me500 => "me-500",
            Scenario::Token500 => "token-500",
            Scenario::Register429 => "register-429",
            Scenario::AccessDenied => "access-denied",
        }
    }

    /// Every name, for `--help` and the admin surface.
    pub fn names() -> Vec<&'static str> {
        Scenario::ALL.iter().map(|s| s.name()).collect()
    }

    /// The scenario of a name; `large_projects` sizes `large` (else its default).
    pub fn named(name: &str, large_projects: Option<usize>) -> Option<Scenario> {
        let s = Scenario::ALL.into_iter().find(|s| s.name() == name)?;
        Some(match s {
            Scenario::Large { .. } => Scenario::Large {
                projects: large_projects.unwrap_or(Scenario::DEFAULT_LARGE_PROJECTS),
            },
            other => other,
        })
    }

    /// The fault or the denial a preset adds to its body.
    fn trouble(self) -> (Option<(Endpoint, Fault)>, bool) {
        let fault = |e, f| (Some((e, f)), false);
        match self {
            Scenario::SlowMe => fault(Endpoint::Me, Fault::delay(SLOW_ME_DELAY)),
            Scenario::Me429 => fault(Endpoint::Me, Fault::status(429).retry_after(1)),
            Scenario::Me500 => fault(Endpoint::Me, Fault::status(500)),
            Scenario::Token500 => fault(Endpoint::Token, Fault::status(500)),
            Scenario::Register429 => fault(Endpoint::Register, Fault::status(429).retry_after(1)),
            Scenario::AccessDenied => (None, true),
            _ => (None, false),
        }
    }

    /// The unwrapped `/me` body.
    pub fn me_body(self) -> Value {
        self.builder().build()
    }

    /// The scenario's `/me` body, to size or write out (`mock-idp body`).
    pub fn builder(self) -> MeBuilder {
        let b = MeBuilder::new();
        match self {
            Scenario::MultiOrg => multi_org(b),
            Scenario::DemosOnly => b
                .organization(1001, "Acme Analytics")
                .project(ProjectSpec::new(3002, 1001, "Demo B").demo())
                .project(ProjectSpec::new(3001, 1001, "Demo A").demo().unintegrated()),
            Scenario::UnintegratedOnly => b
                .organization(1001, "Acme Analytics")
                .project(ProjectSpec::new(3002, 1001, "New App").unintegrated())
                .project(ProjectSpec::new(3001, 1001, "New Web").has_integrated(None))
                .project(ProjectSpec::new(3003, 1001, "Demo").demo()),
            // No project in us: the eu ones (one on an export host) and one in India.
            Scenario::CrossRegion => b
                .organization(1001, "Acme Europe")
                .project(ProjectSpec::new(3001, 1001, "EU Production").domain("eu.mixpanel.com"))
                .project(ProjectSpec::new(3002, 1001, "EU Staging").domain("data-eu.mixpanel.com"))
                .project(ProjectSpec::new(3003, 1001, "India").domain("in.mixpanel.com")),
            Scenario::Large { projects } => large(projects),
            // `single`, and the body of every fault preset.
            _ => b
                .organization(1001, "Acme Analytics")
                .project(ProjectSpec::new(3001, 1001, "Acme Production")),
        }
    }

    /// The scenario as the server applies it.
    pub(crate) fn applied(self) -> Applied {
        let (fault, deny) = self.trouble();
        Applied {
            name: self.name(),
            me: self.builder().wrapped_bytes(),
            fault,
            deny,
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Scenario::named(name, None).ok_or_else(|| {
            format!(
                "unknown scenario `{name}`; known: {}",
                Scenario::names().join(", ")
            )
        })
    }
}

/// A scenario as the server applies it.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub(crate) name: &'static str,
    /// The `/me` answer, wrapped and serialized.
    pub(crate) me: Vec<u8>,
    pub(crate) fault: Option<(Endpoint, Fault)>,
    pub(crate) deny: bool,
}

/// Organizations in an order that is not their id order (the account name comes from the
/// first one, the pick from the one with most survivors); ids of different lengths (990 < 3001
/// numerically, not as text); a project without `domain`, one whose `has_integrated` is absent
/// and one where it is null.
fn multi_org(b: MeBuilder) -> MeBuilder {
    b.organization(1002, "Globex")
        .organization(1001, "Acme Analytics")
        .project(ProjectSpec::new(3001, 1001, "Acme Production"))
        .project(ProjectSpec::new(3002, 1001, "Acme Staging").unintegrated())
        .project(ProjectSpec::new(3003, 1001, "Acme Sandbox").has_integrated(None))
        .project(ProjectSpec::new(990, 1001, "Acme Legacy"))
        .project(ProjectSpec::new(3103, 1002, "Globex Web").no_domain())
        .project(ProjectSpec::new(3102, 1002, "Globex iOS"))
        .project(ProjectSpec::new(3104, 1002, "Globex Beta").has_integrated(Some(Value::Null)))
        .project(ProjectSpec::new(3101, 1002, "Globex Demo").demo())
        .project(ProjectSpec::new(3201, 1002, "Globex EU").domain("eu.mixpanel.com"))
}

/// `projects` projects over `projects / 50 + 1` organizations, each with a workspace of 8
/// members: tens of MB at 20,000 projects.
fn large(projects: usize) -> MeBuilder {
    let orgs = projects / 50 + 1;
    let mut b = MeBuilder::new().members_per_workspace(8);
    for o in 0..orgs as u64 {
        b = b.organization(10_000 + o, &format!("Org {o}"));
    }
    for i in 0..projects as u64 {
        let mut p = ProjectSpec::new(
            100_000 + i,
            10_000 + i % orgs as u64,
            &format!("Project {i}"),
        );
        if i % 7 == 0 {
            p = p.demo();
        }
        if i % 5 == 0 {
            p = p.unintegrated();
        }
        if i % 13 == 0 {
            p = p.has_integrated(None);
        }
        if i % 11 == 0 {
            p = p.domain("eu.mixpanel.com");
        }
        if i % 17 == 0 {
            p = p.no_domain();
        }
        b = b.project(p);
    }
    b
}

/// The body as the real API serves it.
pub fn wrap(body: Value) -> Value {
    json!({"status": "ok", "results": body})
}

/// The bare body of a wrapped one (a bare one is returned as it is).
pub fn unwrap(body: Value) -> Value {
    match body {
        Value::Object(mut o) if o.get("results").is_some_and(Value::is_object) => {
            o.remove("results").expect("checked")
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_served_are_the_body_built() {
        for s in Scenario::ALL {
            let s = match s {
                Scenario::Large { .. } => Scenario::Large { projects: 300 },
                other => other,
            };
            let served: Value = serde_json::from_slice(&s.applied().me).unwrap();
            assert_eq!(served, wrap(s.me_body()), "{}", s.name());
            // Document order as built: the first organization stays first.
            let text = String::from_utf8(s.applied().me).unwrap();
            if s == Scenario::MultiOrg {
                assert!(text.find("\"1002\"").unwrap() < text.find("\"1001\"").unwrap());
            }
        }
    }
}
