//! The largest values the mock serves, in one place (`docs/mock-idp.md`, "Limits"). The admin
//! API refuses a number outside its bound with 400 naming the field, `serve` refuses it as an
//! argument, and the Rust API panics at the call site: a number the mock cannot serve never
//! reaches a handler.

use std::fmt::Display;

use serde_json::Value;

/// An inclusive range a number must fall in, with what the number counts (for the message).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub field: &'static str,
    pub min: u64,
    pub max: u64,
    pub meaning: &'static str,
}

/// `large`'s projects: 50,000 is a 115 MB `/me` (two copies of it in memory per `/me` in
/// flight), the busy account of the benchmarks.
pub const LARGE_PROJECTS: Bound = Bound {
    field: "large_projects",
    min: 0,
    max: 50_000,
    meaning: "projects in `large`; 50000 is a 115 MB /me",
};

/// A code's or an access token's lifetime: ten years keeps every expiry a time the mock can
/// compute.
pub const TTL_SECS: Bound = Bound {
    field: "TTL",
    min: 0,
    max: 10 * 365 * 24 * 3600,
    meaning: "seconds; ten years at most",
};

/// Journal entries kept: about 200 bytes each, so 20 MB at most.
pub const JOURNAL_CAPACITY: Bound = Bound {
    field: "journal_capacity",
    min: 1,
    max: 100_000,
    meaning: "entries kept, the newest",
};

/// A fault's status: a final answer (a 1xx is not one: hyper answers 500 instead, or switches
/// protocols for 101).
pub const FAULT_STATUS: Bound = Bound {
    field: "status",
    min: 200,
    max: 599,
    meaning: "an HTTP status a final answer can have",
};

/// A fault's `Retry-After`: one day.
pub const RETRY_AFTER_SECS: Bound = Bound {
    field: "retry_after",
    min: 0,
    max: 86_400,
    meaning: "seconds; one day at most",
};

/// A fault's delay: ten minutes, past any client's deadline (the kit's longest is 300 s).
pub const DELAY_MS: Bound = Bound {
    field: "delay_ms",
    min: 0,
    max: 600_000,
    meaning: "milliseconds; ten minutes at most",
};

/// How many requests a fault lasts (leave `times` out for until cleared).
pub const FAULT_TIMES: Bound = Bound {
    field: "times",
    min: 1,
    max: 1_000_000,
    meaning: "requests; leave it out for until cleared",
};

/// Redirect URIs a client registers: every one is kept while the client is (up to
/// [`LIVE_CAPACITY`] clients).
pub const REDIRECT_URIS: Bound = Bound {
    field: "redirect_uris",
    min: 1,
    max: 10,
    meaning: "URIs a client registers",
};

/// A redirect URI's length in bytes (browsers take about 2,000 characters of URL).
pub const REDIRECT_URI_BYTES: Bound = Bound {
    field: "redirect_uri",
    min: 1,
    max: 2048,
    meaning: "bytes in one redirect URI",
};

/// A scope's length in bytes, registered or asked for at authorize (kept with the client and
/// with each code).
pub const SCOPE_BYTES: Bound = Bound {
    field: "scope",
    min: 0,
    max: 1024,
    meaning: "bytes in a scope",
};

/// A client name's length in bytes.
pub const CLIENT_NAME_BYTES: Bound = Bound {
    field: "client_name",
    min: 0,
    max: 256,
    meaning: "bytes in a client name",
};

/// A registration request's body: the metadata above and a little more.
pub const REGISTRATION_BYTES: Bound = Bound {
    field: "registration body",
    min: 0,
    max: 64 << 10,
    meaning: "bytes of client metadata",
};

/// Every bound, for the status route and the docs.
pub const ALL: [Bound; 12] = [
    LARGE_PROJECTS,
    TTL_SECS,
    JOURNAL_CAPACITY,
    FAULT_STATUS,
    RETRY_AFTER_SECS,
    DELAY_MS,
    FAULT_TIMES,
    REDIRECT_URIS,
    REDIRECT_URI_BYTES,
    SCOPE_BYTES,
    CLIENT_NAME_BYTES,
    REGISTRATION_BYTES,
];

/// Clients, codes, access tokens, refresh tokens and rotated-out refresh tokens each kept at
/// most: when a table is full, the entry least recently issued or used goes first.
pub const LIVE_CAPACITY: usize = 1_000;
/// Secrets remembered for leak scans (four a login), the newest.
pub const SECRETS_CAPACITY: usize = 4 * LIVE_CAPACITY;
/// The longest method or path the journal keeps (a longer one is cut, ending with `…`).
pub const JOURNAL_TEXT_MAX: usize = 256;

impl Bound {
    /// The same bound under another field name (the two TTLs share one).
    pub const fn named(self, field: &'static str) -> Bound {
        Bound { field, ..self }
    }

    /// `value` if it is within the bound, else why not.
    pub fn check(&self, value: u64) -> Result<u64, String> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(self.refusal(value))
        }
    }

    /// A JSON number within the bound, else why not (a negative, a fraction or a string too).
    pub fn of_json(&self, value: &Value) -> Result<u64, String> {
        match value.as_u64() {
            Some(n) => self.check(n),
            None => Err(self.refusal(value)),
        }
    }

    /// A command-line argument within the bound (a clap value parser).
    pub fn of_arg(&self, text: &str) -> Result<u64, String> {
        match text.parse::<u64>() {
            Ok(n) => self.check(n),
            Err(_) => Err(self.refusal(text)),
        }
    }

    /// A count or a length within the bound, else why not (for lists and texts).
    pub fn check_size(&self, size: usize) -> Result<(), String> {
        let n = u64::try_from(size).unwrap_or(u64::MAX);
        if (self.min..=self.max).contains(&n) {
            Ok(())
        } else {
            Err(format!(
                "`{}` must have {} to {} {}; got {n}",
                self.field, self.min, self.max, self.meaning
            ))
        }
    }

    fn refusal(&self, got: impl Display) -> String {
        format!(
            "`{}` must be a whole number from {} to {} ({}); got {got}",
            self.field, self.min, self.max, self.meaning
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bound_names_the_field_the_range_and_what_it_got() {
        assert_eq!(LARGE_PROJECTS.check(50_000), Ok(50_000));
        let refused = LARGE_PROJECTS.of_json(&json!(u64::MAX)).unwrap_err();
        assert_eq!(
            refused,
            "`large_projects` must be a whole number from 0 to 50000 (projects in `large`; \
             50000 is a 115 MB /me); got 18446744073709551615"
        );
        for bad in [json!(-1), json!(1.5), json!("7"), json!(null)] {
            assert!(FAULT_TIMES.of_json(&bad).is_err(), "{bad}");
        }
        assert!(FAULT_TIMES.check(0).is_err());
        assert!(FAULT_STATUS.check(101).is_err());
        assert_eq!(JOURNAL_CAPACITY.of_arg("10"), Ok(10));
        assert!(JOURNAL_CAPACITY
            .of_arg("0")
            .unwrap_err()
            .contains("from 1 to 100000"));
        assert!(TTL_SECS
            .named("code_ttl_secs")
            .check(u64::MAX)
            .unwrap_err()
            .starts_with("`code_ttl_secs`"));
    }
}
