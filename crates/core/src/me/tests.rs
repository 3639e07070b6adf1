use std::path::Path;

use super::fetch::check_fetched;
use super::*;
use crate::interrupt::Interrupt;

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

/// Reads `body` a byte at a time (every token split across reads) and writes me.json.
fn stream_to_file(body: &[u8], path: &Path) -> std::result::Result<MeBody, String> {
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let interrupt = Interrupt::default();
    let mut out = MeJson::create(&interrupt, path).unwrap();
    let body = MeBody::read(Trickle(body), Some(&mut out)).map_err(|e| e.to_string())?;
    out.commit().unwrap();
    Ok(body)
}

fn json_at(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn me_json_drops_member_lists_and_adds_cached_at() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("me.json");
    let whole = MeBody::parse(BODY.as_bytes()).unwrap();
    let streamed = stream_to_file(BODY.as_bytes(), &p).unwrap();
    assert_eq!(whole.me, streamed.me, "a byte at a time reads the same");
    let v = json_at(&p);
    assert!(v.get("status").is_none(), "the body is unwrapped");
    assert_eq!(v["workspaces"]["5"]["project_id"], 100);
    assert!(v["workspaces"]["5"].get("member_list").is_none());
    assert!(v["workspaces"]["5"].get("unified_member_list").is_none());
    assert_eq!(v["organizations"]["9"]["extra"], serde_json::json!([1, 2]));
    assert!(v["cached_at"].as_f64().unwrap() > 1_700_000_000.0);
    let names: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "user_email",
            "organizations",
            "projects",
            "workspaces",
            "cached_at"
        ]
    );
    // Read back, in the same order, with its cached_at; no temporary file is left.
    let again = read_file(&p).unwrap();
    assert_eq!(ids(&again.me.organizations, |o| &o.id), ["10", "9"]);
    assert_eq!(again.me, whole.me);
    assert!(again.cached_at().unwrap() > 1_700_000_000.0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // The publish's rewrite: the same document, keys in the same order.
    rewrite(&Interrupt::default(), &p).unwrap();
    let (mut before, mut after) = (v, json_at(&p));
    for doc in [&mut before, &mut after] {
        doc.as_object_mut().unwrap().remove("cached_at");
    }
    assert_eq!(after, before);
    assert!(after
        .as_object()
        .unwrap()
        .keys()
        .eq(before.as_object().unwrap().keys()));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn me_json_is_the_level_that_is_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("me.json");
    let cases: [(&str, serde_json::Value); 4] = [
        // Bare: the top level, member lists dropped, cached_at replaced.
        (
            r#"{"a":1,"cached_at":5,"workspaces":{"1":{"member_list":[],"x":true}},"projects":{}}"#,
            serde_json::json!({"a":1,"workspaces":{"1":{"x":true}},"projects":{}}),
        ),
        // A later `results` replaces an earlier one; fields around it are not the body.
        (
            r#"{"status":"ok","results":{"a":1},"b":2,"results":{"c":[3],"results":{}}}"#,
            serde_json::json!({"c":[3]}),
        ),
        // A `results` that is not an object is no wrapper; null workspaces are left out.
        (
            r#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#,
            serde_json::json!({"projects":{"7":{}}}),
        ),
        (r#" { } "#, serde_json::json!({})),
    ];
    for (body, want) in cases {
        stream_to_file(body.as_bytes(), &p).unwrap();
        let mut got = json_at(&p);
        assert!(got["cached_at"].as_f64().is_some(), "{body}");
        got.as_object_mut().unwrap().remove("cached_at");
        assert_eq!(got, want, "{body}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "{body}");
    }
    // A body that is refused leaves the earlier me.json and no temporary file.
    let before = std::fs::read(&p).unwrap();
    let interrupt = Interrupt::default();
    let mut out = MeJson::create(&interrupt, &p).unwrap();
    assert!(MeBody::read(&br#"{"a":1,"results":{"b":2},"c":tru}"#[..], Some(&mut out)).is_err());
    drop(out);
    assert_eq!(std::fs::read(&p).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
        let e = check_fetched(MeBody::parse(bad).unwrap()).expect_err("refused");
        assert_eq!(e.code(), "ME_INVALID");
    }
    for good in [
        &br#"{"status":"ok","results":{}}"#[..],
        br#"{"projects":{}}"#,
    ] {
        assert!(check_fetched(MeBody::parse(good).unwrap()).is_ok());
    }
}

#[test]
fn odd_but_valid_shapes() {
    // A `results` that is not an object is not a wrapper.
    let b =
        MeBody::parse(br#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#).unwrap();
    assert_eq!(b.me.projects.len(), 1);
    assert!(MeBody::parse(br#"{"workspaces":{"1":[]}}"#).is_err());
}
