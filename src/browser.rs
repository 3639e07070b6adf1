//! Opening the authorize URL in a browser for `mp-login`, where one can be opened: `$BROWSER`,
//! then `xdg-open` under a display, or macOS's `open`. Never under `CI=true`. The browser's own
//! output never reaches the envelope: it is detached from this process's stdin, stdout and
//! stderr.
//!
//! `$BROWSER` is read as Python's `webbrowser` and xdg-utils read it: `:`-separated entries,
//! each a command line split like a shell's words (quotes keep a path with spaces whole; an
//! entry that names an existing file as a whole is that program), `%s` replaced by the URL, else
//! the URL appended. Entries are tried in order: one that cannot be started, or that exits
//! non-zero within `SETTLE` (3 s), is passed over for the next.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a browser command is watched for a failure before it counts as opened: launchers
/// (`xdg-open`, `open`, a running browser's remote) return at once, a browser started afresh
/// runs for as long as it likes.
const SETTLE: Duration = Duration::from_secs(3);

/// Opens `url`; says with what, or why not.
pub fn open(url: &str) -> Result<String, String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if var("CI").is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0")) {
        return Err("CI is set".into());
    }
    let commands: Vec<Vec<String>> = match var("BROWSER") {
        Some(browser) => browser
            .split(':')
            .filter_map(|entry| command_line(entry, url))
            .collect(),
        None if cfg!(target_os = "macos") && var("SSH_CONNECTION").is_none() => {
            vec![vec!["open".into(), url.into()]]
        }
        None if var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some() => {
            vec![vec!["xdg-open".into(), url.into()]]
        }
        None => return Err("no display, and BROWSER is not set".into()),
    };
    let mut tried = Vec::new();
    for words in commands {
        match run(&words) {
            Ok(()) => return Ok(format!("`{}`", words[0])),
            Err(why) => tried.push(format!("`{}`: {why}", words[0])),
        }
    }
    if tried.is_empty() {
        return Err("BROWSER names no command".into());
    }
    Err(format!("could not run {}", tried.join("; ")))
}

/// One `$BROWSER` entry as the words to run, the URL in them; `None` for an empty entry.
fn command_line(entry: &str, url: &str) -> Option<Vec<String>> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    let mut words = if Path::new(entry).is_file() {
        vec![entry.to_string()]
    } else {
        shlex::split(entry).filter(|w| !w.is_empty())?
    };
    if words.iter().any(|w| w.contains("%s")) {
        words = words.iter().map(|w| w.replace("%s", url)).collect();
    } else {
        words.push(url.to_string());
    }
    Some(words)
}

/// Starts `words` and watches it for [`SETTLE`]: an exit with success, or still running, is
/// opened; a failure to start or a non-zero exit is why not.
fn run(words: &[String]) -> Result<(), String> {
    let mut child = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + SETTLE;
    while Instant::now() < until {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("it {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    // Reaped in the background: a browser may run for as long as it likes.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_entries_are_split_like_shell_words() {
        let url = "http://x/?a=1&b=2";
        assert_eq!(
            command_line(r#""/opt/My Browser/run" --new %s"#, url).unwrap(),
            ["/opt/My Browser/run", "--new", url]
        );
        assert_eq!(command_line("firefox", url).unwrap(), ["firefox", url]);
        assert_eq!(command_line("  ", url), None);
        assert_eq!(command_line(r#"unclosed "quote"#, url), None);
    }
}
