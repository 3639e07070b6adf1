//! The commands the kit tells a person to run, spelled once: quoting for a POSIX shell, and the
//! resume of a placeholder.

use std::path::Path;

/// Single-quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The one spelling of the command that publishes a placeholder.
pub fn resume_command(dir: &Path) -> String {
    format!("mp-login-resume {}", quote(&dir.to_string_lossy()))
}

/// ` --inflight <path>` when `path` is not the default inflight file of `storage`.
pub fn inflight_flag(path: &Path, storage: &Path) -> String {
    if path == mp_login_core::inflight::default_path(storage) {
        String::new()
    } else {
        format!(" --inflight {}", quote(&path.to_string_lossy()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("/a/b/.tmp-1"), "/a/b/.tmp-1");
        assert_eq!(quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
