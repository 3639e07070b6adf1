//! Opening the authorize URL in a browser for `mp-login`, where one can be opened: `$BROWSER`
//! (the convention VS Code, Codespaces and many desktops set: `:`-separated commands, `%s` for
//! the URL, else the URL is appended), then `xdg-open` under a display, or macOS's `open`.
//! Never under `CI=true`. The browser's own output never reaches the envelope: it is detached
//! from this process's stdin, stdout and stderr.

use std::process::{Command, Stdio};

/// Opens `url`; says with what, or why not.
pub fn open(url: &str) -> Result<String, String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if var("CI").is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0")) {
        return Err("CI is set".into());
    }
    let commands: Vec<Vec<String>> = match var("BROWSER") {
        Some(browser) => browser
            .split(':')
            .map(|entry| {
                let mut words: Vec<String> = entry.split_whitespace().map(str::to_string).collect();
                if words.iter().any(|w| w.contains("%s")) {
                    words = words.iter().map(|w| w.replace("%s", url)).collect();
                } else {
                    words.push(url.to_string());
                }
                words
            })
            .filter(|words| words.len() > 1)
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
        let spawned = Command::new(&words[0])
            .args(&words[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                // Reaped in the background: a browser may run for as long as it likes.
                std::thread::spawn(move || child.wait());
                return Ok(format!("`{}`", words[0]));
            }
            Err(e) => tried.push(format!("`{}`: {e}", words[0])),
        }
    }
    Err(format!("could not run {}", tried.join("; ")))
}
