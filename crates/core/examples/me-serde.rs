//! The serde baseline of `cargo make bench-compare`: the `/me` body read with
//! `serde_json::from_reader` into typed organizations and projects (what the pick needs),
//! everything else, member lists included, skipped by serde's derive. It is what the kit's own
//! streaming reader (`crates/core/src/json`) must beat to earn its place. `me-serde FILE`.
#![allow(clippy::print_stdout)] // a benchmark tool: its count is its output

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Deserialize)]
struct Wrapped {
    results: Me,
}

#[derive(Deserialize)]
struct Me {
    #[serde(default)]
    organizations: HashMap<String, Organization>,
    #[serde(default)]
    projects: HashMap<String, Project>,
    #[serde(default)]
    #[allow(dead_code)]
    workspaces: IgnoredAny,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Organization {
    id: serde_json::Value,
    name: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Project {
    name: Option<String>,
    organization_id: Option<serde_json::Value>,
    domain: Option<String>,
    is_demo: Option<serde_json::Value>,
    has_integrated: Option<serde_json::Value>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os().nth(1).ok_or("usage: me-serde FILE")?;
    let file = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?);
    let body: Wrapped = serde_json::from_reader(file)?;
    println!(
        "{} organizations, {} projects",
        body.results.organizations.len(),
        body.results.projects.len()
    );
    Ok(())
}
