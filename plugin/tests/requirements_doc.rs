//! `docs/requirements.md` maps every rule (R1..R32, with the sub-rules R6a-c
//! and R19a-f) to the code that implements it and the tests that check it.
//! This test keeps the map honest:
//!
//! - every id has a heading (`### R17 ...`) or a table row (`| R17 | ...`);
//! - every test a "Tested by" list names exists as a `fn` under `plugin/`,
//!   `host-sim/` or `tests/`, and in the file its line names;
//! - every backticked repository path (`a/b.rs`, `.toml`, `.wit`, `.md`) exists;
//! - every name an "Implemented in" line lists appears in the file it names.
//!
//! The doc's lists are sub-bullets of a `**Implemented in**` or
//! `**Tested by**` bullet, each starting with the file, e.g.
//! ``  - `plugin/src/core/plan.rs`: `decide` ``.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the plugin crate sits in the workspace")
        .to_path_buf()
}

fn doc() -> String {
    let path = root().join("docs/requirements.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The ids of the shared requirements: R1..R32 and the lettered sub-rules.
fn ids() -> Vec<String> {
    let mut ids: Vec<String> = (1..=32).map(|n| format!("R{n}")).collect();
    ids.extend(["R6a", "R6b", "R6c"].map(String::from));
    ids.extend(('a'..='f').map(|c| format!("R19{c}")));
    ids
}

/// The backticked spans of a line.
fn backticked(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A span that names a file of the repository.
fn is_repo_path(s: &str) -> bool {
    s.contains('/')
        && !s.contains(char::is_whitespace)
        && [".rs", ".toml", ".wit", ".md"]
            .iter()
            .any(|ext| s.ends_with(ext))
}

/// `text` contains `name` not as part of a longer identifier.
fn contains_word(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Every `.rs` file under `plugin/`, `host-sim/` and `tests/`, skipping
/// build output, with its text.
fn rust_sources() -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    walk(&path, root, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Ok(text) = fs::read_to_string(&path)
            {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), text);
            }
        }
    }
    let root = root();
    let mut out = BTreeMap::new();
    for top in ["plugin", "host-sim", "tests"] {
        walk(&root.join(top), &root, &mut out);
    }
    out
}

/// `text` defines `fn name` (followed by its parameters or generics).
fn defines_fn(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && matches!(after, Some('(' | '<'))
    })
}

#[derive(Clone, Copy, PartialEq)]
enum List {
    None,
    Implemented,
    Tested,
}

/// One sub-bullet of an "Implemented in" or "Tested by" list.
struct Entry<'a> {
    list: List,
    line_no: usize,
    file: &'a str,
    rest: Vec<&'a str>,
}

fn entries(doc: &str) -> Vec<Entry<'_>> {
    let mut list = List::None;
    let mut out = Vec::new();
    for (i, line) in doc.lines().enumerate() {
        if line.contains("**Implemented in**") {
            list = List::Implemented;
            continue;
        }
        if line.contains("**Tested by**") {
            list = List::Tested;
            continue;
        }
        let sub_bullet =
            line.starts_with(char::is_whitespace) && line.trim_start().starts_with("- ");
        if !sub_bullet {
            list = List::None;
            continue;
        }
        if list == List::None {
            continue;
        }
        let spans = backticked(line);
        let Some((file, rest)) = spans.split_first() else {
            panic!(
                "docs/requirements.md:{}: a list entry without a backticked file: {line}",
                i + 1
            );
        };
        out.push(Entry {
            list,
            line_no: i + 1,
            file,
            rest: rest.to_vec(),
        });
    }
    out
}

#[test]
fn every_requirement_id_has_a_heading_or_a_row() {
    let doc = doc();
    let mut missing = Vec::new();
    for id in ids() {
        let starts_with_id = |text: &str| {
            text.strip_prefix(id.as_str())
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
        };
        let found = doc.lines().any(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                starts_with_id(line.trim_start_matches('#').trim())
            } else if line.starts_with('|') {
                line.trim_start_matches('|')
                    .split('|')
                    .next()
                    .is_some_and(|cell| starts_with_id(cell.trim()))
            } else {
                false
            }
        });
        if !found {
            missing.push(id);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/requirements.md has no heading or table row for: {}",
        missing.join(", ")
    );
}

#[test]
fn every_listed_test_exists_as_a_fn_in_its_file() {
    let doc = doc();
    let sources = rust_sources();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for entry in entries(&doc).iter().filter(|e| e.list == List::Tested) {
        let in_file = sources.get(Path::new(entry.file));
        for name in entry.rest.iter().filter(|s| is_identifier(s)) {
            listed.insert(*name);
            let anywhere: Vec<&PathBuf> = sources
                .iter()
                .filter(|(_, text)| defines_fn(text, name))
                .map(|(path, _)| path)
                .collect();
            if anywhere.is_empty() {
                problems.push(format!(
                    "line {}: test `{name}` is not a `fn` anywhere under plugin/, host-sim/ or tests/",
                    entry.line_no
                ));
            } else if let Some(text) = in_file
                && !defines_fn(text, name)
            {
                problems.push(format!(
                    "line {}: test `{name}` is not in {} but in {:?}",
                    entry.line_no, entry.file, anywhere
                ));
            }
        }
    }
    assert!(
        listed.len() > 100,
        "the doc lists only {} tests: is the `**Tested by**` format still the one this test reads?",
        listed.len()
    );
    assert!(
        problems.is_empty(),
        "docs/requirements.md lists tests that do not exist:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_backticked_repository_path_exists() {
    let doc = doc();
    let root = root();
    let mut missing = Vec::new();
    for (i, line) in doc.lines().enumerate() {
        for span in backticked(line).into_iter().filter(|s| is_repo_path(s)) {
            if !root.join(span).is_file() {
                missing.push(format!("line {}: `{span}`", i + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/requirements.md names files that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_implementation_name_appears_in_its_file() {
    let doc = doc();
    let root = root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in entries(&doc).iter().filter(|e| e.list == List::Implemented) {
        let path = root.join(entry.file);
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!(
                "line {}: `{}` is not a readable file",
                entry.line_no, entry.file
            ));
            continue;
        };
        for name in &entry.rest {
            // `Type::method` is looked up by its last segment.
            let last = name.rsplit("::").next().unwrap_or(name);
            checked += 1;
            if !contains_word(&text, last) {
                problems.push(format!(
                    "line {}: `{name}` does not appear in {}",
                    entry.line_no, entry.file
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} implementation names were checked"
    );
    assert!(
        problems.is_empty(),
        "docs/requirements.md points at code that is not there:\n{}",
        problems.join("\n")
    );
}
