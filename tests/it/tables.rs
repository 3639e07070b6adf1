//! The documentation's hand-written tables against the code they describe; a difference fails
//! the test by name.
//!
//! - `docs/envelopes.md#error-codes` lists every error code the code has
//!   ([`error_codes`]), no other, each with the exit the code gives it.
//! - `docs/envelopes.md#exit-codes` and the table of `src/presentation.rs` list every exit the
//!   codes map to (and 0), by the seed's name, and nothing else but a row that says it is never
//!   used; an error code a row names exits with that row's number.
//! - `docs/commands.md`: the binaries table lists the workspace's binaries; every flag and
//!   variable a binary's `--help` shows is in the page, and every flag of the flags table is one
//!   a binary has.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::common;
use mp_login_cli::presentation::{error_codes, Exit};
use regex::Regex;

/// One row of a Markdown table: its line number (1-based) and its cells, trimmed.
struct Row {
    line: usize,
    cells: Vec<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The body rows of the first table after the line `heading` (`None`: the first table of
/// `lines`), before the next heading.
fn table(file: &str, lines: &[(usize, &str)], heading: Option<&str>) -> Vec<Row> {
    let start = match heading {
        None => 0,
        Some(h) => {
            lines
                .iter()
                .position(|(_, l)| l.trim_end() == h)
                .unwrap_or_else(|| panic!("{file} has no heading `{h}`"))
                + 1
        }
    };
    let mut rows = Vec::new();
    for (n, line) in &lines[start..] {
        if line.starts_with('|') {
            rows.push(Row {
                line: *n,
                cells: cells(line),
            });
        } else if !rows.is_empty() || line.starts_with('#') {
            break;
        }
    }
    assert!(
        rows.len() > 2,
        "{file}: no table under {}",
        heading.unwrap_or("its top")
    );
    let separator = &rows[1].cells;
    assert!(
        separator
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))),
        "{file}:{}: the second line of a table is its separator",
        rows[1].line
    );
    rows.split_off(2)
}

/// The cells of `| a | b \| c |`: split on the pipes that are not escaped.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for ch in inner.chars() {
        match ch {
            '|' if !escaped => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(ch),
        }
        escaped = ch == '\\' && !escaped;
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// A Markdown file's lines, numbered.
fn markdown(text: &str) -> Vec<(usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect()
}

/// The names in backticks that look like codes (`OAUTH_TIMEOUT`).
fn codes_in(cell: &str) -> Vec<String> {
    let re = Regex::new(r"`([A-Z][A-Z0-9_]*[A-Z0-9])`").unwrap();
    re.captures_iter(cell).map(|c| c[1].to_string()).collect()
}

/// Every error code of the code, with its exit.
fn code_side() -> BTreeMap<&'static str, Exit> {
    error_codes().collect()
}

/// Every exit the code uses, with the seed's name, and the codes that exit with it; 0 is
/// success.
fn exits_of_the_code() -> BTreeMap<u8, (&'static str, Vec<&'static str>)> {
    let mut exits = BTreeMap::from([(0, ("SUCCESS", vec![]))]);
    for (code, exit) in error_codes() {
        exits
            .entry(exit.code())
            .or_insert((exit.name(), vec![]))
            .1
            .push(code);
    }
    exits
}

fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "the documented tables disagree with the code:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_error_code_table_lists_every_code_with_its_exit() {
    let file = "docs/envelopes.md";
    let text = read(file);
    let code = code_side();
    let mut problems = Vec::new();
    let mut documented: BTreeMap<String, usize> = BTreeMap::new();
    for row in table(file, &markdown(&text), Some("## Error codes")) {
        let at = format!("{file}:{}", row.line);
        let codes = codes_in(&row.cells[0]);
        if codes.is_empty() {
            problems.push(format!("{at}: no code in `{}`", row.cells[0]));
        }
        let exit = row.cells.get(1).and_then(|c| c.parse::<u8>().ok());
        for name in codes {
            if let Some(first) = documented.insert(name.clone(), row.line) {
                problems.push(format!(
                    "{at}: `{name}` is listed again (first on line {first})"
                ));
            }
            match (code.get(name.as_str()), exit) {
                (None, _) => problems.push(format!(
                    "{at}: `{name}` is listed, but the code has no such error code"
                )),
                (Some(_), None) => problems.push(format!(
                    "{at}: `{name}` has no exit code in the table (`{}`)",
                    row.cells.get(1).map_or("", String::as_str)
                )),
                (Some(e), Some(n)) if e.code() != n => problems.push(format!(
                    "{at}: `{name}` exits {n} in the table, {} in the code",
                    e.code()
                )),
                _ => {}
            }
        }
    }
    for (name, exit) in &code {
        if !documented.contains_key(*name) {
            problems.push(format!(
                "{file}#error-codes misses `{name}` (exit {}), an error code of the code",
                exit.code()
            ));
        }
    }
    assert_none(problems);
}

/// The problems of an exit code table: the exits `| exit | name | used for |` lists against
/// the code's.
fn exit_table_problems(file: &str, rows: &[Row]) -> Vec<String> {
    let exits = exits_of_the_code();
    let code = code_side();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in rows {
        let at = format!("{file}:{}", row.line);
        let Some(exit) = row.cells[0].parse::<u8>().ok() else {
            problems.push(format!("{at}: `{}` is no exit code", row.cells[0]));
            continue;
        };
        let name = row.cells.get(1).map_or("", |c| c.trim_matches('`'));
        let used_for = row.cells.get(2).map_or("", String::as_str);
        if !listed.insert(exit) {
            problems.push(format!("{at}: exit {exit} is listed again"));
        }
        if used_for.starts_with("never used") {
            if let Some((_, codes)) = exits.get(&exit) {
                problems.push(format!(
                    "{at}: exit {exit} is said to be never used, but the code exits {exit} for {}",
                    codes.join(", ")
                ));
            }
            continue;
        }
        match exits.get(&exit) {
            None => problems.push(format!(
                "{at}: exit {exit} ({name}) is listed, but no error code exits {exit}"
            )),
            Some((seed_name, _)) if *seed_name != name => problems.push(format!(
                "{at}: exit {exit} is named {name}, the code names it {seed_name}"
            )),
            _ => {}
        }
        for named in codes_in(used_for) {
            if let Some(e) = code.get(named.as_str()) {
                if e.code() != exit {
                    problems.push(format!(
                        "{at}: exit {exit} names `{named}`, which exits {} in the code",
                        e.code()
                    ));
                }
            }
        }
    }
    for (exit, (name, codes)) in &exits {
        if !listed.contains(exit) {
            problems.push(format!(
                "{file} misses exit {exit} ({name}), the exit of {}",
                codes.join(", ")
            ));
        }
    }
    problems
}

#[test]
fn the_exit_code_tables_list_every_exit_the_codes_map_to() {
    let file = "docs/envelopes.md";
    let text = read(file);
    let mut problems =
        exit_table_problems(file, &table(file, &markdown(&text), Some("## Exit codes")));
    // The module documentation of `src/presentation.rs`, a table in `//!` lines.
    let file = "src/presentation.rs";
    let text = read(file);
    let doc: Vec<(usize, &str)> = markdown(&text)
        .into_iter()
        .filter_map(|(n, l)| l.strip_prefix("//!").map(|l| (n, l.trim_start())))
        .collect();
    problems.extend(exit_table_problems(file, &table(file, &doc, None)));
    assert_none(problems);
}

/// The `[[bin]]` names of a manifest (`name` of each, or the package's for an implicit one).
fn binaries_of(manifest: &str) -> Vec<String> {
    let doc: toml_edit::DocumentMut = read(manifest).parse().unwrap();
    doc.get("bin")
        .and_then(|b| b.as_array_of_tables())
        .map(|bins| {
            bins.iter()
                .map(|b| b["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `text` has `name` where the next character is not one of `word` (`--force` is not
/// named by `--force-refresh`).
fn names(text: &str, name: &str, word: &str) -> bool {
    Regex::new(&format!("{}([^{word}]|$)", regex::escape(name)))
        .unwrap()
        .is_match(text)
}

#[test]
fn the_commands_tables_agree_with_the_binaries() {
    let file = "docs/commands.md";
    let text = read(file);
    let lines = markdown(&text);
    let mut problems = Vec::new();
    // The binaries table: the workspace's binaries, the kit's and the mock's.
    let kit = binaries_of("Cargo.toml");
    let expected: BTreeSet<String> = kit
        .iter()
        .cloned()
        .chain(binaries_of("mock-idp/Cargo.toml"))
        .collect();
    let backticked = Regex::new(r"^`([^`]+)`$").unwrap();
    let documented: BTreeSet<String> = table(file, &lines, Some("## The binaries"))
        .iter()
        .filter_map(|r| backticked.captures(&r.cells[0]).map(|c| c[1].to_string()))
        .collect();
    for missing in expected.difference(&documented) {
        problems.push(format!("{file}#the-binaries misses the binary `{missing}`"));
    }
    for stale in documented.difference(&expected) {
        problems.push(format!(
            "{file}#the-binaries lists `{stale}`, which is no binary of the workspace"
        ));
    }
    // What each binary's --help shows is in the page; the flags table names real flags.
    let flag = Regex::new(r"(?m)^\s+(?:-\w, )?(--[a-z0-9-]+)").unwrap();
    let env_var = Regex::new(r"\[env: ([A-Z0-9_]+)=").unwrap();
    // Each flag and variable with the binaries that have it.
    let mut flags_of_the_code: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut vars_of_the_code: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for bin in &kit {
        let out = common::clean_command(common::bin_path(bin))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{bin} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        for name in flag.captures_iter(&help) {
            flags_of_the_code
                .entry(name[1].to_string())
                .or_default()
                .push(bin);
        }
        for name in env_var.captures_iter(&help) {
            vars_of_the_code
                .entry(name[1].to_string())
                .or_default()
                .push(bin);
        }
    }
    for (name, bins) in &flags_of_the_code {
        if !names(&text, name, "a-z0-9-") {
            problems.push(format!("{file} never names `{name}` ({})", bins.join(", ")));
        }
    }
    for (name, bins) in &vars_of_the_code {
        if !names(&text, name, "A-Z0-9_") {
            problems.push(format!(
                "{file} never names `{name}`, read by {}",
                bins.join(", ")
            ));
        }
    }
    let flag_in_cell = Regex::new(r"`(--[a-z0-9-]+)").unwrap();
    for row in table(file, &lines, Some("## Flags and environment")) {
        for name in flag_in_cell
            .captures_iter(&row.cells[0])
            .map(|c| c[1].to_string())
        {
            if !flags_of_the_code.contains_key(&name) {
                problems.push(format!(
                    "{file}:{}: `{name}` is listed, but no binary has it",
                    row.line
                ));
            }
        }
    }
    assert_none(problems);
}
