//! The documentation's links: every relative Markdown link `[text](target)` of the README,
//! `docs/*.md` and `mock-idp/README.md` must name a file that exists (relative to the linking
//! file) and, for a `#anchor`, a heading of that file whose GitHub slug is the anchor. Links to
//! `http(s):` and `mailto:` are not followed; fenced code blocks and inline code are not links.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

/// The Markdown files whose links are checked.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ can be listed")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mock = root.join("mock-idp/README.md");
    if mock.exists() {
        files.push(mock);
    }
    files
}

/// The lines outside fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m && trimmed.trim_end() == m => fence = None,
            (None, None) => lines.push((i + 1, line)),
            _ => {}
        }
    }
    lines
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped except `-` and `_`, spaces
/// become `-`. A link inside the heading counts as its text.
fn slug(heading: &str) -> String {
    let link = Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("the link pattern");
    link.replace_all(heading.trim(), "$1")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a file's headings give, repeated headings numbered `-1`, `-2`… as GitHub does.
fn anchors(path: &Path) -> HashSet<String> {
    let text = fs::read_to_string(path).expect("a linked file can be read");
    let heading = Regex::new(r"^#{1,6}\s+(.*?)\s*#*\s*$").expect("the heading pattern");
    let mut seen = HashSet::new();
    let mut out = HashSet::new();
    for (_, line) in prose(&text) {
        let Some(found) = heading.captures(line) else {
            continue;
        };
        let base = slug(&found[1]);
        let mut anchor = base.clone();
        let mut n = 0;
        while !seen.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        out.insert(anchor);
    }
    out
}

/// What is wrong with every relative link of `file`, one line each.
fn broken_links(file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).expect("a document can be read");
    let link = Regex::new(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+[^)]*)?\)").expect("the link pattern");
    let code = Regex::new(r"(`+)[^`]*?`+").expect("the code span pattern");
    let dir = file.parent().expect("a document has a directory");
    let mut broken = Vec::new();
    for (number, line) in prose(&text) {
        let spans: Vec<_> = code.find_iter(line).map(|m| m.range()).collect();
        for found in link.captures_iter(line) {
            let start = found.get(0).expect("the whole match").start();
            if spans.iter().any(|span| span.contains(&start)) {
                continue;
            }
            let target = &found[1];
            if ["http:", "https:", "mailto:"]
                .iter()
                .any(|scheme| target.starts_with(scheme))
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target, None),
            };
            let linked = if path.is_empty() {
                file.to_path_buf()
            } else {
                dir.join(path)
            };
            let at = format!("{}:{number}: `{target}`", file.display());
            if !linked.exists() {
                broken.push(format!("{at}: no file {}", linked.display()));
                continue;
            }
            let is_markdown = linked.extension().is_some_and(|ext| ext == "md");
            if let Some(anchor) = anchor.filter(|_| is_markdown) {
                if !anchors(&linked).contains(anchor) {
                    broken.push(format!(
                        "{at}: no heading `#{anchor}` in {}",
                        linked.display()
                    ));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_of_the_docs_leads_somewhere() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = documents(root);
    assert!(files.len() > 2, "the README and docs/ are found: {files:?}");
    let mut broken = Vec::new();
    for file in &files {
        broken.extend(broken_links(file));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(slug("The `/me` reader"), "the-me-reader");
    assert_eq!(
        slug("From Python: `mixpanel-mock-idp`"),
        "from-python-mixpanel-mock-idp"
    );
    assert_eq!(slug("tokens.json"), "tokensjson");
    assert_eq!(
        slug("1. Tokens into the placeholder, before anything else can fail"),
        "1-tokens-into-the-placeholder-before-anything-else-can-fail"
    );
    assert_eq!(slug("Known limits (wiremock)"), "known-limits-wiremock");
    assert_eq!(slug("project_pick"), "project_pick");
}
