//! What the timing benchmarks share (`readiness.rs` here and the kit's `benches/listen.rs`):
//! the number of runs (`RUNS`), percentiles and milliseconds.

use std::time::Duration;

/// `RUNS` from the environment, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// The `p` percentile (0.0–1.0) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
