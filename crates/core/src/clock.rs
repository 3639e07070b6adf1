//! RFC 3339 UTC timestamps, as the files of `docs/files.md` carry them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now() -> SystemTime {
    SystemTime::now()
}

/// `2026-11-28T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Now, in whole Unix seconds (the files' `created_at`, `expires_at`).
pub fn unix_now() -> i64 {
    unix_seconds(now()) as i64
}

/// Now, in Unix seconds with their fraction (`me.json`'s `cached_at`).
pub fn unix_now_f64() -> f64 {
    now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The time `secs` Unix seconds name (negative ones clamp to the epoch).
pub fn from_unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

/// ISO 8601 with an offset, as both the kit (`…Z`) and the seed (`…+00:00`, microseconds)
/// write `tokens.json`'s `expires_at`; a time without an offset is refused (the seed's
/// `OAuthTokens` refuses it too).
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (base, offset_secs) = if let Some(b) = s.strip_suffix(['Z', 'z']) {
        (b, 0i64)
    } else {
        let split = s.len().checked_sub(6)?;
        let (b, off) = (s.get(..split)?, s.get(split..)?);
        let sign = match off.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = off[1..].split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        (b, sign * (h * 3600 + m * 60))
    };
    let utc = humantime::parse_rfc3339(&format!("{}Z", base.replacen(' ', "T", 1))).ok()?;
    if offset_secs >= 0 {
        utc.checked_sub(Duration::from_secs(offset_secs as u64))
    } else {
        utc.checked_add(Duration::from_secs((-offset_secs) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_sides_expires_at() {
        let z = parse_iso8601("2026-11-28T12:00:00Z").unwrap();
        assert_eq!(parse_iso8601("2026-11-28T12:00:00+00:00"), Some(z));
        assert_eq!(parse_iso8601("2026-11-28T13:00:00+01:00"), Some(z));
        let micro = parse_iso8601("2026-11-28T12:00:00.250000+00:00").unwrap();
        assert_eq!(micro.duration_since(z).unwrap(), Duration::from_millis(250));
        assert_eq!(parse_iso8601("2026-11-28T12:00:00"), None);
        assert_eq!(parse_iso8601("soon"), None);
        assert_eq!(parse_iso8601(""), None);
    }
}
