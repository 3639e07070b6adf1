//! Regions and the endpoints under a base URL (SPEC §2).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Us,
    Eu,
    In,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Us, Region::Eu, Region::In];

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

    /// The seed's `_domain_to_region` (CONTRACT §6.1): lowercase, trim, drop a scheme and a
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

/// The endpoints of one region, possibly under a replaced base URL.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub region: Region,
    base: Url,
    custom: bool,
}

impl Endpoints {
    /// `base_url` replaces the region's base URL (that is how the kit talks to `mock-idp`).
    /// A base URL that is not `https` is refused unless its host is loopback.
    pub fn new(region: Region, base_url: Option<&str>) -> Result<Self> {
        let Some(raw) = base_url.filter(|s| !s.trim().is_empty()) else {
            let base = Url::parse(region.default_base_url()).expect("built-in base URL parses");
            return Ok(Endpoints {
                region,
                base,
                custom: false,
            });
        };
        let mut base = Url::parse(raw.trim())
            .map_err(|e| Error::invalid_args(format!("`{raw}` is not a usable base URL: {e}")))?;
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(Error::invalid_args(format!(
                "`{raw}` is not a usable base URL"
            )));
        }
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) => {}
            _ => {
                return Err(Error::invalid_args(format!(
                    "refusing base URL `{raw}`: it must be https unless its host is loopback (127.0.0.0/8, ::1, localhost)"
                )))
            }
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.set_query(None);
        base.set_fragment(None);
        Ok(Endpoints {
            region,
            base,
            custom: true,
        })
    }

    /// The base URL as given, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// True when the base URL replaces the region's real one.
    pub fn is_custom(&self) -> bool {
        self.custom
    }

    fn join(&self, path: &str) -> Url {
        self.base.join(path).expect("relative endpoint paths join")
    }

    pub fn register(&self) -> Url {
        self.join("oauth/mcp/register/")
    }

    pub fn authorize(&self) -> Url {
        self.join("oauth/authorize/")
    }

    pub fn token(&self) -> Url {
        self.join("oauth/token/")
    }

    /// RFC 8414 §3.1: the metadata of the issuer `{base}/oauth`, path inserted after the
    /// well-known prefix.
    pub fn metadata(&self) -> Url {
        self.join(".well-known/oauth-authorization-server/oauth")
    }

    pub fn me(&self) -> Url {
        self.join("api/app/me")
    }

    /// The client cache file name: `client_<region>.json`, or with a non-default base URL
    /// `client_<region>_<first 12 hex of sha256(base URL)>.json` (SPEC §2).
    pub fn client_cache_file_name(&self) -> String {
        if self.custom {
            let digest = Sha256::digest(self.base_url().as_bytes());
            let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            format!("client_{}_{hex}.json", self.region)
        } else {
            format!("client_{}.json", self.region)
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
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

    #[test]
    fn base_url_must_be_https_unless_loopback() {
        assert!(Endpoints::new(Region::Us, Some("http://127.0.0.1:8080")).is_ok());
        assert!(Endpoints::new(Region::Us, Some("http://127.9.9.9:8080")).is_ok());
        assert!(Endpoints::new(Region::Us, Some("http://[::1]:8080")).is_ok());
        assert!(Endpoints::new(Region::Us, Some("http://localhost:8080")).is_ok());
        assert!(Endpoints::new(Region::Us, Some("https://example.com")).is_ok());
        let err = Endpoints::new(Region::Us, Some("http://example.com")).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(Endpoints::new(Region::Us, Some("ftp://127.0.0.1")).is_err());
        assert!(Endpoints::new(Region::Us, Some("not a url")).is_err());
    }

    #[test]
    fn endpoints_follow_the_spec_shape() {
        let e = Endpoints::new(Region::Eu, None).unwrap();
        assert_eq!(
            e.register().as_str(),
            "https://eu.mixpanel.com/oauth/mcp/register/"
        );
        assert_eq!(
            e.authorize().as_str(),
            "https://eu.mixpanel.com/oauth/authorize/"
        );
        assert_eq!(e.token().as_str(), "https://eu.mixpanel.com/oauth/token/");
        assert_eq!(e.me().as_str(), "https://eu.mixpanel.com/api/app/me");
        assert_eq!(e.client_cache_file_name(), "client_eu.json");
        let m = Endpoints::new(Region::Us, Some("http://127.0.0.1:5000")).unwrap();
        assert_eq!(m.base_url(), "http://127.0.0.1:5000");
        let name = m.client_cache_file_name();
        assert!(
            name.starts_with("client_us_") && name.len() == "client_us_".len() + 12 + 5,
            "{name}"
        );
    }
}
