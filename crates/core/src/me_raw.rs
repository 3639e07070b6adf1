//! The serde shapes behind [`crate::me::MeBody`]: one pass over a `/me` body that keeps the
//! document order of objects, reads `results` as the body, scans the workspaces' member lists
//! without building them, and reads `is_demo` / `has_integrated` as the seed does.

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub(crate) struct RawOrganization {
    #[serde(default)]
    pub(crate) name: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawProject {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub(crate) organization_id: Option<String>,
    #[serde(default)]
    pub(crate) domain: Option<String>,
    #[serde(default)]
    pub(crate) is_demo: Truthy,
    #[serde(default)]
    pub(crate) has_integrated: IsTrue,
}

/// Ids arrive as numbers or strings; an integer is written as its decimal digits.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        I(i64),
        N(u64),
        S(String),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::N(n) => n.to_string(),
        Id::I(n) => n.to_string(),
        Id::S(s) => match s.trim().parse::<i128>() {
            Ok(n) => n.to_string(),
            Err(_) => s,
        },
    }))
}

/// Python truthiness of any JSON value: false, null, 0, "", [] and {} are false.
#[derive(Default)]
pub(crate) struct Truthy(pub(crate) bool);

/// `value is True`: only the JSON literal `true`.
#[derive(Default)]
pub(crate) struct IsTrue(pub(crate) bool);

pub(crate) struct TruthVisitor {
    strict: bool,
}

impl<'de> Visitor<'de> for TruthVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(!self.strict && v != 0)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(!self.strict && v != 0)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<bool, E> {
        Ok(!self.strict && v != 0.0)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(!self.strict && !v.is_empty())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut any = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(!self.strict && any)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut any = false;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(!self.strict && any)
    }
}

impl<'de> Deserialize<'de> for Truthy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TruthVisitor { strict: false })
            .map(Truthy)
    }
}

impl<'de> Deserialize<'de> for IsTrue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TruthVisitor { strict: true }).map(IsTrue)
    }
}

/// A JSON object as its entries in document order; a repeated key keeps its first place and
/// takes the last value.
pub(crate) struct Ordered<T>(pub(crate) Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Ordered<T>, E> {
                Ok(Ordered::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut out: Vec<(String, T)> = Vec::new();
                let mut seen: std::collections::HashMap<String, usize> =
                    std::collections::HashMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<T>()?;
                    match seen.get(&key) {
                        Some(&i) => out[i].1 = value,
                        None => {
                            seen.insert(key.clone(), out.len());
                            out.push((key, value));
                        }
                    }
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

const MEMBER_LISTS: [&str; 2] = ["member_list", "unified_member_list"];

pub(crate) type Workspaces<'a> = Vec<(String, Vec<(String, &'a RawValue)>)>;

/// A `/me` body read in one pass: `results` (when an object) is read as the body itself,
/// `workspaces` straight into maps without their member lists (scanned, never stored), and
/// every other field stays a borrowed raw slice.
#[derive(Default)]
pub(crate) struct Top<'a> {
    pub(crate) fields: Ordered<&'a RawValue>,
    pub(crate) workspaces: Option<Workspaces<'a>>,
    pub(crate) results: Option<Box<Top<'a>>>,
    pub(crate) has_results: bool,
}

pub(crate) struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "results" => {
                    top.has_results = true;
                    top.results = map.next_value::<Nested>()?.0.map(Box::new);
                }
                "workspaces" => top.workspaces = map.next_value::<StrippedWorkspaces>()?.0,
                _ => {
                    let raw: &RawValue = map.next_value()?;
                    match top.fields.0.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = raw,
                        None => top.fields.0.push((key, raw)),
                    }
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
pub(crate) struct Nested<'a>(pub(crate) Option<Top<'a>>);

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
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Nested<'de>, A::Error> {
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
pub(crate) struct StrippedWorkspaces<'a>(pub(crate) Option<Workspaces<'a>>);

impl<'de> Deserialize<'de> for StrippedWorkspaces<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Workspace<'a>(Vec<(String, &'a RawValue)>);
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
                        let mut fields = Vec::new();
                        while let Some(key) = map.next_key::<String>()? {
                            if MEMBER_LISTS.contains(&key.as_str()) {
                                map.next_value::<IgnoredAny>()?;
                            } else {
                                fields.push((key, map.next_value()?));
                            }
                        }
                        Ok(Workspace(fields))
                    }
                }
                d.deserialize_map(V)
            }
        }
        let ws: Option<Ordered<Workspace<'de>>> = Deserialize::deserialize(d)?;
        Ok(StrippedWorkspaces(
            ws.map(|m| m.0.into_iter().map(|(k, w)| (k, w.0)).collect()),
        ))
    }
}
