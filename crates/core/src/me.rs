//! The `/me` body (SPEC §7 step 2, §8): parsed without building what the pick does not need.
//!
//! Busy accounts' bodies are tens of MB, mostly the workspaces' member lists. The top level is
//! read as borrowed raw JSON slices; only `organizations` and `projects` are typed (unknown
//! fields skipped), and each workspace keeps its raw fields minus `member_list` /
//! `unified_member_list`, which are scanned but never built.
//!
//! Organizations and projects keep their **document order**: the seed's account name comes
//! from the first organization in `/me` order and its `cross_region_projects` list follows it
//! (CONTRACT §2.3, §7). A key that appears twice keeps its first place and its last value, as
//! Python's `json.loads` does.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::clock;
use crate::context::Context;
use crate::error::{Error, MeFailure, Result};
use crate::http::Call;
use crate::me_raw::{Ordered, RawOrganization, RawProject, Top, Workspaces};
use crate::region::{Endpoints, Region};
use crate::secret::AccessToken;
use crate::store;

/// A placeholder's `me.json` is reused by resume while younger than this (CONTRACT §5.2).
pub const PLACEHOLDER_CACHE_TTL: Duration = Duration::from_secs(600);

/// What the pick and the account need from `/me`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Me {
    pub user_email: Option<String>,
    /// In document order.
    pub organizations: Vec<Organization>,
    /// In document order.
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// The key of `organizations`.
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The key of `projects`.
    pub id: String,
    pub name: Option<String>,
    /// Canonical: an integer id (number or numeric string) as its decimal digits, like the
    /// seed's `str(int(organization_id))`.
    pub organization_id: Option<String>,
    pub domain: Option<String>,
    /// `is_demo` by JSON truthiness, as the seed's `bool(...)` (CONTRACT §10.3).
    pub is_demo: bool,
    /// `has_integrated` is exactly `true` (CONTRACT §10.3: `1`, `"true"`, null and absent are not).
    pub has_integrated: bool,
}

impl Project {
    /// The seed's region filter (CONTRACT §6.1 step 3): no domain, or exactly the region's.
    pub fn is_compatible_with(&self, region: Region) -> bool {
        self.domain.as_deref().is_none_or(|d| d == region.domain())
    }

    /// The seed's `_domain_to_region` of the project's domain.
    pub fn region(&self) -> Option<Region> {
        self.domain.as_deref().and_then(Region::from_domain)
    }
}

impl Me {
    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }
}

/// Sort key of an id: numbers in numeric order before anything else in string order.
pub fn id_order(id: &str) -> (u8, i128, &str) {
    match id.trim().parse::<i128>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, id),
    }
}

/// A `/me` body as borrowed raw fields: the parsed view plus what `me.json` keeps.
pub struct MeBody<'a> {
    fields: Vec<(String, &'a RawValue)>,
    workspaces: Option<Workspaces<'a>>,
    /// The top-level `status`, when the body was wrapped (`{"status":"ok","results":…}`).
    status: Option<String>,
    /// Whether the body has `results` or `projects` at all.
    recognizable: bool,
    pub me: Me,
}

impl<'a> MeBody<'a> {
    /// Parses a `/me` body, wrapped in `{"status":"ok","results":{…}}` or bare. The error is a
    /// sentence without any of the body's values.
    pub fn parse(bytes: &'a [u8]) -> std::result::Result<MeBody<'a>, String> {
        let top: Top<'a> = serde_json::from_slice(bytes).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Data => "not a JSON object of the expected shape",
                _ => "not JSON",
            };
            format!(
                "the /me answer is {what} ({})",
                crate::error::json_error_without_values(&e)
            )
        })?;
        let status = field(&top.fields.0, "status")
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        let has_results = top.has_results;
        let Top {
            fields, workspaces, ..
        } = match top.results {
            Some(results) => *results,
            None => top,
        };
        let fields = fields.0;
        let recognizable = has_results || field(&fields, "projects").is_some();
        let organizations: Ordered<RawOrganization> = typed(&fields, "organizations")?;
        let projects: Ordered<RawProject> = typed(&fields, "projects")?;
        let user_email = field(&fields, "user_email")
            .and_then(|raw| serde_json::from_str::<Option<String>>(raw.get()).ok())
            .flatten();
        Ok(MeBody {
            me: Me {
                user_email,
                organizations: organizations
                    .0
                    .into_iter()
                    .map(|(id, o)| Organization { id, name: o.name })
                    .collect(),
                projects: projects
                    .0
                    .into_iter()
                    .map(|(id, p)| Project {
                        id,
                        name: p.name,
                        organization_id: p.organization_id,
                        domain: p.domain,
                        is_demo: p.is_demo.0,
                        has_integrated: p.has_integrated.0,
                    })
                    .collect(),
            },
            fields,
            workspaces,
            status,
            recognizable,
        })
    }

    /// `cached_at` (Unix seconds) of a `me.json` the kit or the seed wrote.
    pub fn cached_at(&self) -> Option<f64> {
        field(&self.fields, "cached_at").and_then(|raw| raw.get().parse::<f64>().ok())
    }

    /// Writes `me.json`: the unwrapped body without member lists, plus `cached_at` (Unix s).
    pub fn save(&self, path: &Path) -> Result<()> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Field<'b, 'a> {
            Raw(&'a RawValue),
            Workspace(#[serde(serialize_with = "entries")] &'b [(String, &'a RawValue)]),
            Workspaces(#[serde(serialize_with = "workspaces")] &'b Workspaces<'a>),
            CachedAt(f64),
        }
        fn entries<S: serde::Serializer>(
            v: &&[(String, &RawValue)],
            s: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            s.collect_map(v.iter().map(|(k, raw)| (k, raw)))
        }
        fn workspaces<S: serde::Serializer>(
            v: &&Workspaces,
            s: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            s.collect_map(v.iter().map(|(k, w)| (k, Field::Workspace(w.as_slice()))))
        }
        struct Out<'b, 'a>(Vec<(&'b str, Field<'b, 'a>)>);
        impl Serialize for Out<'_, '_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let mut out: Vec<(&str, Field)> = self
            .fields
            .iter()
            .filter(|(k, _)| k != "cached_at")
            .map(|(k, v)| (k.as_str(), Field::Raw(v)))
            .collect();
        if let Some(ws) = &self.workspaces {
            out.push(("workspaces", Field::Workspaces(ws)));
        }
        let now = clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        out.push(("cached_at", Field::CachedAt(now)));
        let bytes = serde_json::to_vec(&Out(out)).expect("raw JSON re-serializes");
        store::write_atomic(path, &bytes)
    }
}

fn field<'a>(fields: &[(String, &'a RawValue)], key: &str) -> Option<&'a RawValue> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

fn typed<T: for<'de> Deserialize<'de> + Default>(
    fields: &[(String, &RawValue)],
    key: &str,
) -> std::result::Result<T, String> {
    match field(fields, key) {
        None => Ok(T::default()),
        Some(raw) if raw.get() == "null" => Ok(T::default()),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            format!(
                "the /me answer's `{key}` do not have the expected shape ({})",
                crate::error::json_error_without_values(&e)
            )
        }),
    }
}

/// `GET /me` with the bearer token; 429 and 5xx are retried. Returns the raw body. Failures
/// carry the seed's `original_code` (CONTRACT §3): `AUTH_FAILED`, `QUERY_FAILED`,
/// `SERVER_ERROR`, `RATE_LIMITED`, `HTTP_ERROR`.
pub fn fetch(ctx: &Context, endpoints: &Endpoints, token: &AccessToken) -> Result<Vec<u8>> {
    let (http, progress) = (&ctx.http, ctx.progress);
    let url = endpoints.me();
    let reply = http.send("fetching /me", url.as_str(), Call::Me, progress, |c| {
        c.get(url.clone()).bearer_auth(token.secret())
    });
    let reply = crate::http::as_step(reply, |message| Error::MeFetch {
        failure: MeFailure::Network,
        message,
    })?;
    if !reply.is_success() {
        let message = match reply.status {
            401 => "HTTP 401: the server did not accept the access token".to_string(),
            s => format!("HTTP {s}"),
        };
        return Err(Error::MeFetch {
            failure: MeFailure::Status(reply.status),
            message,
        });
    }
    Ok(reply.body)
}

/// A fetched body: unparsable, a `status` other than `ok`, or neither `results` nor `projects`
/// is `ME_INVALID` (SPEC §13; the seed publishes such an answer as an empty account).
pub fn parse_fetched(bytes: &[u8]) -> Result<MeBody<'_>> {
    let invalid = |message| Error::MeFetch {
        failure: MeFailure::Invalid,
        message,
    };
    let body = MeBody::parse(bytes).map_err(invalid)?;
    if let Some(status) = body.status.as_deref().filter(|s| *s != "ok") {
        return Err(invalid(format!(
            "the /me answer has status `{}`, not `ok`",
            status.chars().take(40).collect::<String>()
        )));
    }
    if !body.recognizable {
        return Err(invalid(
            "the /me answer has neither `results` nor `projects`".into(),
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"status":"ok","results":{
        "user_email":"ada@example.com",
        "organizations":{"10":{"id":10,"name":"Acme"},"9":{"id":9,"name":"Beta","extra":[1,2]}},
        "projects":{"100":{"name":"Prod","organization_id":10,"domain":"mixpanel.com","has_integrated":true},
                    "20":{"name":"Demo","organization_id":"9","is_demo":"false","has_integrated":null}},
        "workspaces":{"5":{"id":5,"project_id":100,"member_list":[{"email":"x"}],"unified_member_list":[1]}}
    }}"#;

    fn ids<T>(v: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
        v.iter().map(|x| id(x).to_string()).collect()
    }

    #[test]
    fn parses_wrapped_and_bare_bodies_alike_in_document_order() {
        let wrapped = MeBody::parse(BODY.as_bytes()).unwrap();
        let inner = BODY.find("\"results\":").unwrap() + "\"results\":".len();
        let bare = &BODY[inner..BODY.len() - 1];
        let bare = MeBody::parse(bare.as_bytes()).unwrap();
        assert_eq!(wrapped.me, bare.me);
        let me = wrapped.me;
        assert_eq!(me.user_email.as_deref(), Some("ada@example.com"));
        assert_eq!(ids(&me.organizations, |o| &o.id), ["10", "9"]);
        assert_eq!(ids(&me.projects, |p| &p.id), ["100", "20"]);
        assert_eq!(me.projects[1].organization_id.as_deref(), Some("9"));
        // The seed's truthiness: the string "false" is a demo; null is not integrated.
        assert!(me.projects[1].is_demo && !me.projects[1].has_integrated);
        assert!(!me.projects[0].is_demo && me.projects[0].has_integrated);
        assert_eq!(me.projects[0].region(), Some(Region::Us));
    }

    #[test]
    fn flags_follow_the_seed_exactly() {
        let body = br#"{"projects":{
            "1":{"is_demo":0,"has_integrated":1},
            "2":{"is_demo":[],"has_integrated":"true"},
            "3":{"is_demo":[0],"has_integrated":true},
            "4":{"is_demo":{},"has_integrated":false},
            "5":{"is_demo":0.5},
            "6":{"is_demo":null,"organization_id":"007"}}}"#;
        let me = MeBody::parse(body).unwrap().me;
        let flags: Vec<(bool, bool)> = me
            .projects
            .iter()
            .map(|p| (p.is_demo, p.has_integrated))
            .collect();
        assert_eq!(
            flags,
            [
                (false, false),
                (false, false),
                (true, true),
                (false, false),
                (true, false),
                (false, false)
            ]
        );
        assert_eq!(me.projects[5].organization_id.as_deref(), Some("7"));
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_takes_the_last_value() {
        let body = br#"{"organizations":{"2":{"name":"A"},"1":{"name":"B"},"2":{"name":"C"}}}"#;
        let me = MeBody::parse(body).unwrap().me;
        assert_eq!(ids(&me.organizations, |o| &o.id), ["2", "1"]);
        assert_eq!(me.organizations[0].name.as_deref(), Some("C"));
    }

    #[test]
    fn me_json_drops_member_lists_and_adds_cached_at() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("me.json");
        MeBody::parse(BODY.as_bytes()).unwrap().save(&p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(v.get("status").is_none(), "the body is unwrapped");
        assert_eq!(v["workspaces"]["5"]["project_id"], 100);
        assert!(v["workspaces"]["5"].get("member_list").is_none());
        assert!(v["workspaces"]["5"].get("unified_member_list").is_none());
        assert_eq!(v["organizations"]["9"]["extra"], serde_json::json!([1, 2]));
        assert!(v["cached_at"].as_f64().unwrap() > 1_700_000_000.0);
        // Read back, in the same order, with its cached_at.
        let again = MeBody::parse(&bytes).unwrap();
        assert_eq!(ids(&again.me.organizations, |o| &o.id), ["10", "9"]);
        assert!(again.cached_at().unwrap() > 1_700_000_000.0);
    }

    #[test]
    fn rejects_what_is_not_a_me_body() {
        assert!(MeBody::parse(b"[]").is_err());
        assert!(MeBody::parse(b"not json").is_err());
        assert!(MeBody::parse(br#"{"projects":[1]}"#).is_err());
        assert_eq!(MeBody::parse(b"{}").unwrap().me, Me::default());
        for bad in [
            &br#"{"status":"error","results":{"projects":{}}}"#[..],
            br#"{"user_email":"a@b"}"#,
            b"{}",
        ] {
            let e = parse_fetched(bad).err().expect("refused");
            assert_eq!(e.code(), "ME_INVALID");
        }
        assert!(parse_fetched(br#"{"status":"ok","results":{}}"#).is_ok());
        assert!(parse_fetched(br#"{"projects":{}}"#).is_ok());
    }

    #[test]
    fn odd_but_valid_shapes() {
        // A `results` that is not an object is not a wrapper; null workspaces are none.
        let b = MeBody::parse(br#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#)
            .unwrap();
        assert_eq!(b.me.projects.len(), 1);
        assert!(b.workspaces.is_none());
        assert!(MeBody::parse(br#"{"workspaces":{"1":[]}}"#).is_err());
    }
}
