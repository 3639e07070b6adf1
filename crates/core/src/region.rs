//! The regions Mixpanel serves and their domains (`docs/oauth.md#regions-and-endpoints`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Us,
    Eu,
    In,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Us, Region::Eu, Region::In];

    /// `us`, `eu` or `in`, exactly (the seed's files and config spell them so).
    pub fn exact(name: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
            Region::In => "in",
        }
    }

    /// The real Mixpanel base URL of the region.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Region::Us => "https://mixpanel.com",
            Region::Eu => "https://eu.mixpanel.com",
            Region::In => "https://in.mixpanel.com",
        }
    }

    /// The domain `/me` gives a project of this region (the seed's `DOMAIN_FOR_REGION`).
    pub fn domain(self) -> &'static str {
        match self {
            Region::Us => "mixpanel.com",
            Region::Eu => "eu.mixpanel.com",
            Region::In => "in.mixpanel.com",
        }
    }

    /// The seed's `_domain_to_region` (`docs/pick.md#the-region-check-after-the-pick`): lowercase, trim, drop a scheme and a
    /// path, a `data-` prefix or the `data.mixpanel.com` host; `None` for any other host.
    pub fn from_domain(domain: &str) -> Option<Region> {
        let host = domain.trim().to_lowercase();
        let host = host
            .split_once("://")
            .map_or(host.as_str(), |(_, rest)| rest);
        let host = host.split('/').next().unwrap_or("");
        let host = match host.strip_prefix("data-") {
            Some(rest) => rest,
            None if host == "data.mixpanel.com" => "mixpanel.com",
            None => host,
        };
        Region::ALL.into_iter().find(|r| r.domain() == host)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            "in" => Ok(Region::In),
            other => Err(format!("unknown region `{other}`: use us, eu or in")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_map_to_regions() {
        assert_eq!(Region::from_domain("mixpanel.com"), Some(Region::Us));
        assert_eq!(
            Region::from_domain("data-eu.mixpanel.com"),
            Some(Region::Eu)
        );
        assert_eq!(
            Region::from_domain("https://in.mixpanel.com/path"),
            Some(Region::In)
        );
        assert_eq!(
            Region::from_domain(" HTTPS://Data.Mixpanel.com/x"),
            Some(Region::Us)
        );
        // As the seed's `_domain_to_region`: a port or `www.` is an unknown host.
        assert_eq!(
            Region::from_domain("https://data-eu.mixpanel.com:443/"),
            None
        );
        assert_eq!(Region::from_domain("www.mixpanel.com"), None);
        assert_eq!(Region::from_domain("example.com"), None);
        assert_eq!(Region::from_domain(""), None);
    }
}
