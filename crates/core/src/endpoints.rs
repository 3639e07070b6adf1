//! The endpoints of a region under its base URL, or under the `MP_BASE_URL` that replaces it
//! (`docs/oauth.md#regions-and-endpoints`): https unless the host is loopback.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use url::Url;

use crate::error::{Error, Result};
use crate::region::Region;
use crate::text::shown;

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
        let mut base = Url::parse(raw.trim()).map_err(|e| {
            Error::invalid_args(format!("`{}` is not a usable base URL: {e}", shown(raw)))
        })?;
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(Error::invalid_args(format!(
                "`{}` is not a usable base URL",
                shown(raw)
            )));
        }
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) => {}
            _ => {
                return Err(Error::invalid_args(format!(
                    "refusing base URL `{}`: it must be https unless its host is loopback (127.0.0.0/8, ::1, localhost)", shown(raw)
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

    /// The issuer identifier the metadata URL is formed from (RFC 8414 §2): `{base}/oauth`.
    /// The document must name exactly this one (§3.3).
    pub fn issuer(&self) -> String {
        format!("{}/oauth", self.base_url())
    }

    /// An endpoint the metadata names, if the kit may send a credential there: under the
    /// issuer's origin (scheme, host and port), so https unless the issuer itself is a loopback
    /// http one. A document that names another host must not receive a token
    /// (`docs/oauth.md#revocation-at-logout`). `Err`: why not, for people.
    pub fn own_endpoint(&self, field: &str, raw: &str) -> std::result::Result<Url, String> {
        let refused = |why: &str| {
            Err(format!(
                "the metadata names `{}` as its `{field}`, {why}: no token was sent there",
                shown(raw)
            ))
        };
        let Ok(url) = Url::parse(raw) else {
            return refused("which is not a URL");
        };
        // The base URL is https, or http on a loopback host (`new`): the same origin is as safe.
        if url.origin() != self.base.origin() {
            return refused(&format!(
                "outside the origin of the issuer {}",
                self.issuer()
            ));
        }
        Ok(url)
    }

    pub fn me(&self) -> Url {
        self.join("api/app/me")
    }

    /// The client cache file name: `client_<region>.json`, or with a non-default base URL
    /// `client_<region>_<first 12 hex of sha256(base URL)>.json` (`docs/oauth.md#regions-and-endpoints`).
    pub fn client_cache_file_name(&self) -> String {
        if self.custom {
            let digest = Sha256::digest(self.base_url().as_bytes());
            let hex = crate::store::hex(&digest[..6]);
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
    fn credentials_go_only_under_the_issuers_origin() {
        let mock = Endpoints::new(Region::Us, Some("http://127.0.0.1:5000")).unwrap();
        let own = |e: &Endpoints, raw: &str| e.own_endpoint("revocation_endpoint", raw);
        assert!(own(&mock, "http://127.0.0.1:5000/oauth/revoke/").is_ok());
        for other in [
            "http://attacker.invalid/steal",
            "http://127.0.0.1:5001/oauth/revoke/",
            "https://127.0.0.1:5000/oauth/revoke/",
            "http://localhost:5000/oauth/revoke/",
            "not a url",
        ] {
            let why = own(&mock, other).unwrap_err();
            assert!(why.contains("no token was sent"), "{other}: {why}");
        }
        let real = Endpoints::new(Region::Eu, None).unwrap();
        assert!(own(&real, "https://eu.mixpanel.com/oauth/revoke/").is_ok());
        assert!(own(&real, "http://eu.mixpanel.com/oauth/revoke/").is_err());
        assert!(own(&real, "https://mixpanel.com/oauth/revoke/").is_err());
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
        assert_eq!(m.issuer(), "http://127.0.0.1:5000/oauth");
        let name = m.client_cache_file_name();
        assert!(
            name.starts_with("client_us_") && name.len() == "client_us_".len() + 12 + 5,
            "{name}"
        );
    }
}
