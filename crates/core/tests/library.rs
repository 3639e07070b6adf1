//! The rules that make `mp-login-core` a library (`docs/library.md`), checked on its source:
//! no `static` holding mutable state, and no string that names a command of the kit (the
//! command line words what people read). Comments and `#[cfg(test)]` items are not code the
//! library runs, and are left out.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.meta.to_token_stream().to_string().contains("test"))
    })
}

/// Drops `#[cfg(test)]` items and doc comments, and collects the `static`s.
#[derive(Default)]
struct Library {
    statics: Vec<String>,
}

impl VisitMut for Library {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| !a.path().is_ident("doc"));
    }

    fn visit_file_mut(&mut self, file: &mut syn::File) {
        file.attrs.retain(|a| !a.path().is_ident("doc"));
        file.items.retain(|i| !is_test_only(item_attrs(i)));
        syn::visit_mut::visit_file_mut(self, file);
    }

    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut m.content {
            items.retain(|i| !is_test_only(item_attrs(i)));
        }
        syn::visit_mut::visit_item_mod_mut(self, m);
    }

    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        i.items.retain(|item| match item {
            syn::ImplItem::Fn(f) => !is_test_only(&f.attrs),
            _ => true,
        });
        syn::visit_mut::visit_item_impl_mut(self, i);
    }

    fn visit_item_static_mut(&mut self, s: &mut syn::ItemStatic) {
        self.statics.push(s.to_token_stream().to_string());
        syn::visit_mut::visit_item_static_mut(self, s);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        if m.path.is_ident("thread_local") {
            self.statics.push(m.to_token_stream().to_string());
        }
        syn::visit_mut::visit_macro_mut(self, m);
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// Every string literal in `tokens`, macro arguments and attributes (`#[error("…")]`) included.
fn strings(tokens: TokenStream, out: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Group(g) => strings(g.stream(), out),
            TokenTree::Literal(l) => {
                let text = l.to_string();
                if text.contains('"') {
                    out.push(text);
                }
            }
            _ => {}
        }
    }
}

/// A command of the kit in `text`: its binaries, or `mp-login` as a command (in backticks or
/// followed by a flag); `mp-login-<uid>` (the claims' directory) and `mp-login/` (the user
/// agent) name the kit, not a command.
fn names_a_command(text: &str) -> bool {
    let commands = [
        "mp-login-start",
        "mp-login-finish",
        "mp-login-resume",
        "mp-login-status",
        "mp-login-tasks",
        "mp-autopick",
        "mp-token",
        "mp-logout",
        "`mp-login`",
        "`mp-login ",
        "mp-login --",
    ];
    commands.iter().any(|c| text.contains(c))
}

fn library() -> Vec<(PathBuf, Library, Vec<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    sources(&src)
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let mut library = Library::default();
            library.visit_file_mut(&mut file);
            let mut found = Vec::new();
            strings(file.to_token_stream(), &mut found);
            (path, library, found)
        })
        .collect()
}

#[test]
fn no_static_holds_state() {
    let mut offending = Vec::new();
    for (path, library, _) in library() {
        for s in library.statics {
            // A `static` of plain data is a constant; one of a lock, a cell or an atomic, or a
            // `static mut`, is state shared by everything in the process.
            let state = [
                "Mutex",
                "RwLock",
                "OnceLock",
                "OnceCell",
                "Atomic",
                "Cell",
                "LazyLock",
                "static mut",
                "thread_local",
            ];
            if state.iter().any(|k| s.contains(k)) {
                offending.push(format!("{}: {s}", path.display()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "state in statics:\n{}",
        offending.join("\n")
    );
}

#[test]
fn no_string_names_a_command() {
    let mut offending = Vec::new();
    for (path, _, strings) in library() {
        for s in strings.iter().filter(|s| names_a_command(s)) {
            offending.push(format!("{}: {s}", path.display()));
        }
    }
    assert!(
        offending.is_empty(),
        "command names in the library:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_checks_can_fail() {
    let text = r#"
        static HELD: std::sync::Mutex<u8> = std::sync::Mutex::new(0);
        /// Run `mp-login-start` first (a comment: fine).
        fn hint() -> &'static str { "run `mp-login-start` again" }
        #[cfg(test)]
        mod tests { fn t() -> &'static str { "mp-token" } }
    "#;
    let mut file = syn::parse_file(text).unwrap();
    let mut library = Library::default();
    library.visit_file_mut(&mut file);
    assert_eq!(library.statics.len(), 1);
    let mut found = Vec::new();
    strings(file.to_token_stream(), &mut found);
    let named: Vec<&String> = found.iter().filter(|s| names_a_command(s)).collect();
    assert_eq!(named, [&"\"run `mp-login-start` again\"".to_string()]);
}
