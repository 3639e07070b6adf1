//! The floor of `cargo make bench-compare`: a `/me` body read whole and skipped with serde
//! (`IgnoredAny`), which validates it and builds nothing. `me-floor FILE`.

use serde::de::IgnoredAny;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os().nth(1).ok_or("usage: me-floor FILE")?;
    let bytes = std::fs::read(path)?;
    serde_json::from_slice::<IgnoredAny>(&bytes)?;
    Ok(())
}
