//! The `/me` body (SPEC §7 step 2, §8): parsed without building what the pick does not need.
//!
//! Busy accounts' bodies are tens of MB, mostly the workspaces' member lists. The top level is
//! read as borrowed raw JSON slices; only `organizations` and `projects` are typed (unknown
//! fields skipped), and each workspace keeps its raw fields minus `member_list` /
//! `unified_member_list`, which are scanned but never built.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::clock;
use crate::error::{Error, HttpFailure, Result};
use crate::http::{Http, Progress};
use crate::region::{Endpoints, Region};
use crate::secret::AccessToken;
use crate::store;

/// What the pick and the account need from `/me`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Me {
    pub user_email: Option<String>,
    /// Sorted by id (numeric order where ids are numbers).
    pub organizations: Vec<Organization>,
    /// Sorted by id (numeric order where ids are numbers).
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: String,
    pub name: Option<String>,
    pub organization_id: Option<String>,
    pub domain: Option<String>,
    pub is_demo: bool,
    pub has_integrated_data: bool,
}

impl Project {
    /// The region of the project's `domain`; `None` = compatible with every region.
    pub fn region(&self) -> Option<Region> {
        self.domain.as_deref().and_then(Region::from_domain)
    }

    pub fn is_compatible_with(&self, region: Region) -> bool {
        self.region().is_none_or(|r| r == region)
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
pub fn id_order(id: &str) -> (u8, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, id),
    }
}

/// A `/me` body as borrowed raw fields: the parsed view plus what `me.json` keeps.
pub struct MeBody<'a> {
    fields: BTreeMap<String, &'a RawValue>,
    workspaces: Option<BTreeMap<String, BTreeMap<String, &'a RawValue>>>,
    pub me: Me,
}

#[derive(Deserialize)]
struct RawOrganization {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawProject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    organization_id: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    is_demo: Option<bool>,
    #[serde(default)]
    has_integrated_data: Option<bool>,
}

/// Ids arrive as numbers or strings.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        N(u64),
        S(String),
        I(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::N(n) => n.to_string(),
        Id::I(n) => n.to_string(),
        Id::S(s) => s,
    }))
}

const MEMBER_LISTS: [&str; 2] = ["member_list", "unified_member_list"];

type Workspaces<'a> = BTreeMap<String, BTreeMap<String, &'a RawValue>>;

/// A `/me` body read in one pass: `results` (when an object) is read as the body itself,
/// `workspaces` straight into maps without their member lists (scanned, never stored), and
/// every other field stays a borrowed raw slice.
#[derive(Default)]
struct Top<'a> {
    fields: BTreeMap<String, &'a RawValue>,
    workspaces: Option<Workspaces<'a>>,
    results: Option<Box<Top<'a>>>,
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "results" => top.results = map.next_value::<Nested>()?.0.map(Box::new),
                "workspaces" => top.workspaces = map.next_value::<StrippedWorkspaces>()?.0,
                _ => {
                    top.fields.insert(key, map.next_value()?);
                }
            }
        }
        Ok(top)
    }
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TopVisitor)
    }
}

/// `results` when it is an object, read in the same pass; anything else is skipped.
struct Nested<'a>(Option<Top<'a>>);

impl<'de> Deserialize<'de> for Nested<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nested<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Nested<'de>, A::Error> {
                TopVisitor.visit_map(map).map(|t| Nested(Some(t)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Nested<'de>, A::Error> {
                IgnoredAny.visit_seq(seq).map(|_| Nested(None))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Nested<'de>, E> {
                Ok(Nested(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `workspaces`: each workspace's fields minus the member lists; `null` is none.
struct StrippedWorkspaces<'a>(Option<Workspaces<'a>>);

impl<'de> Deserialize<'de> for StrippedWorkspaces<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Workspace<'a>(BTreeMap<String, &'a RawValue>);
        impl<'de> Deserialize<'de> for Workspace<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Workspace<'de>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a workspace object")
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Workspace<'de>, A::Error> {
                        let mut fields = BTreeMap::new();
                        while let Some(key) = map.next_key::<String>()? {
                            if MEMBER_LISTS.contains(&key.as_str()) {
                                map.next_value::<IgnoredAny>()?;
                            } else {
                                fields.insert(key, map.next_value()?);
                            }
                        }
                        Ok(Workspace(fields))
                    }
                }
                d.deserialize_map(V)
            }
        }
        let ws: Option<BTreeMap<String, Workspace<'de>>> = Deserialize::deserialize(d)?;
        Ok(StrippedWorkspaces(
            ws.map(|m| m.into_iter().map(|(k, w)| (k, w.0)).collect()),
        ))
    }
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
        let Top {
            fields, workspaces, ..
        } = match top.results {
            Some(results) => *results,
            None => top,
        };
        let organizations: BTreeMap<String, RawOrganization> = typed(&fields, "organizations")?;
        let projects: BTreeMap<String, RawProject> = typed(&fields, "projects")?;
        let user_email = fields
            .get("user_email")
            .or_else(|| fields.get("email"))
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        let mut organizations: Vec<Organization> = organizations
            .into_iter()
            .map(|(id, o)| Organization { id, name: o.name })
            .collect();
        organizations.sort_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)));
        let mut projects: Vec<Project> = projects
            .into_iter()
            .map(|(id, p)| Project {
                id,
                name: p.name,
                organization_id: p.organization_id,
                domain: p.domain,
                is_demo: p.is_demo.unwrap_or(false),
                has_integrated_data: p.has_integrated_data.unwrap_or(true),
            })
            .collect();
        projects.sort_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)));
        Ok(MeBody {
            fields,
            workspaces,
            me: Me {
                user_email,
                organizations,
                projects,
            },
        })
    }

    /// Writes `me.json`: the unwrapped body without member lists, plus `cached_at` (Unix s).
    pub fn save(&self, path: &Path) -> Result<()> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Field<'b, 'a> {
            Raw(&'a RawValue),
            Workspaces(&'b BTreeMap<String, BTreeMap<String, &'a RawValue>>),
            CachedAt(u64),
        }
        let mut out: BTreeMap<&str, Field> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), Field::Raw(v)))
            .collect();
        if let Some(ws) = &self.workspaces {
            out.insert("workspaces", Field::Workspaces(ws));
        }
        out.insert(
            "cached_at",
            Field::CachedAt(clock::unix_seconds(clock::now())),
        );
        let bytes = serde_json::to_vec(&out).expect("raw JSON re-serializes");
        store::write_atomic(path, &bytes)
    }
}

fn typed<T: for<'de> Deserialize<'de> + Default>(
    fields: &BTreeMap<String, &RawValue>,
    key: &str,
) -> std::result::Result<T, String> {
    match fields.get(key) {
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

/// `GET /me` with the bearer token; 429 and 5xx are retried. Returns the raw body.
pub fn fetch(
    http: &Http,
    progress: &dyn Progress,
    endpoints: &Endpoints,
    token: &AccessToken,
) -> Result<Vec<u8>> {
    let url = endpoints.me();
    let reply = http.send("fetching /me", url.as_str(), true, progress, |c| {
        c.get(url.clone()).bearer_auth(token.secret())
    })?;
    if !reply.is_success() {
        let message = match reply.status {
            401 => "HTTP 401: the server did not accept the access token".to_string(),
            s => format!("HTTP {s}"),
        };
        return Err(Error::MeFetchError {
            failure: HttpFailure::Status(reply.status),
            message,
        });
    }
    Ok(reply.body)
}

/// Parse failures of a fetched body are `ME_FETCH_ERROR` with a bad-body failure.
pub fn parse_fetched(bytes: &[u8]) -> Result<MeBody<'_>> {
    MeBody::parse(bytes).map_err(|message| Error::MeFetchError {
        failure: HttpFailure::BadBody,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"status":"ok","results":{
        "user_email":"ada@example.com",
        "organizations":{"10":{"id":10,"name":"Acme"},"9":{"id":9,"name":"Beta","extra":[1,2]}},
        "projects":{"100":{"name":"Prod","organization_id":10,"domain":"mixpanel.com"},
                    "20":{"name":"Demo","organization_id":"9","is_demo":true,"has_integrated_data":null}},
        "workspaces":{"5":{"id":5,"project_id":100,"member_list":[{"email":"x"}],"unified_member_list":[1]}}
    }}"#;

    #[test]
    fn parses_wrapped_and_bare_bodies_alike() {
        let wrapped = MeBody::parse(BODY.as_bytes()).unwrap();
        let inner = BODY.find("\"results\":").unwrap() + "\"results\":".len();
        let bare = &BODY[inner..BODY.len() - 1];
        let bare = MeBody::parse(bare.as_bytes()).unwrap();
        assert_eq!(wrapped.me, bare.me);
        let me = wrapped.me;
        assert_eq!(me.user_email.as_deref(), Some("ada@example.com"));
        assert_eq!(
            me.organizations
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>(),
            ["9", "10"]
        );
        assert_eq!(
            me.projects
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            ["20", "100"]
        );
        assert_eq!(me.projects[0].organization_id.as_deref(), Some("9"));
        assert!(me.projects[0].is_demo && me.projects[0].has_integrated_data);
        assert_eq!(me.projects[1].region(), Some(Region::Us));
    }

    #[test]
    fn me_json_drops_member_lists_and_adds_cached_at() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("me.json");
        MeBody::parse(BODY.as_bytes()).unwrap().save(&p).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert!(v.get("status").is_none(), "the body is unwrapped");
        assert_eq!(v["workspaces"]["5"]["project_id"], 100);
        assert!(v["workspaces"]["5"].get("member_list").is_none());
        assert!(v["workspaces"]["5"].get("unified_member_list").is_none());
        assert_eq!(v["organizations"]["9"]["extra"], serde_json::json!([1, 2]));
        assert!(v["cached_at"].as_u64().unwrap() > 1_700_000_000);
    }

    #[test]
    fn rejects_what_is_not_a_me_body() {
        assert!(MeBody::parse(b"[]").is_err());
        assert!(MeBody::parse(b"not json").is_err());
        assert!(MeBody::parse(br#"{"projects":[1]}"#).is_err());
        assert_eq!(MeBody::parse(b"{}").unwrap().me, Me::default());
    }

    #[test]
    fn odd_but_valid_shapes() {
        // A `results` that is not an object is not a wrapper; null workspaces are none.
        let b = MeBody::parse(br#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#)
            .unwrap();
        assert_eq!(b.me.projects.len(), 1);
        assert!(b.workspaces.is_none());
        assert!(MeBody::parse(br#"{"workspaces":{"1":[]}}"#).is_err());
        assert!(MeBody::parse(
            br#"{"status":"ok","results":{"projects":{"1":{"is_demo":"yes"}}}}"#
        )
        .is_err());
    }
}
