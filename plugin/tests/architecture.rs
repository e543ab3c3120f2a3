//! The shape issue 20 asked for, kept: no source file over 600 lines, and
//! no circle in the import graph between the modules of one layer (the
//! core's, the shell's, a sync's phases, the host's). A module that needs
//! a piece of another that needs it back shows that the piece belongs
//! elsewhere (`host-sim/src/exchange.rs`, say, holds the request and reply
//! both the HTTP door and the console use).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the plugin sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file as the compiler sees it outside its tests: comments
/// (where a module may well name another) and the test module dropped.
fn code(source: &str) -> String {
    let outside_tests = source.split("#[cfg(test)]").next().unwrap_or_default();
    outside_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules of the layer at `root` (its top-level files and folders)
/// and the others of the layer each names through `prefix::`.
fn imports(root: &Path, prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let module_of = |path: &Path| -> Option<String> {
        let first = path.strip_prefix(root).ok()?.components().next()?;
        let name = first.as_os_str().to_str()?.trim_end_matches(".rs");
        (name != "mod" && name != "lib" && name != "main").then(|| name.to_owned())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|p| module_of(p)).collect();
    for path in &files {
        let Some(from) = module_of(path) else {
            continue;
        };
        let code = code(&fs::read_to_string(path).expect("a source file"));
        let needle = format!("{prefix}::");
        for (at, _) in code.match_indices(&needle) {
            let rest = &code[at + needle.len()..];
            // `use super::{a, b}` names several.
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or_default())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or_default(),
                ],
            };
            for to in names {
                if to != from && modules.contains(to) {
                    graph.entry(from.clone()).or_default().insert(to.to_owned());
                }
            }
        }
    }
    graph
}

/// A circle of the graph, if it has one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn issue_20_no_circle_between_the_modules_of_a_layer() {
    let root = workspace();
    let layers = [
        ("plugin/src/core", "crate::core"),
        ("plugin/src/shell", "crate::shell"),
        ("plugin/src/shell/sync", "super"),
        ("host-sim/src", "crate"),
    ];
    for (dir, prefix) in layers {
        let graph = imports(&root.join(dir), prefix);
        assert!(!graph.is_empty(), "{dir}: no imports read");
        if let Some(found) = circle(&graph) {
            panic!("{dir}: the imports go round: {}", found.join(" -> "));
        }
    }
}

#[test]
fn the_circle_finder_finds_one() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])]
            .into_iter()
            .map(|(n, to)| (n.into(), to.into_iter().map(String::from).collect()))
            .collect();
    assert_eq!(circle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn issue_20_no_source_file_is_over_600_lines() {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("plugin/src"), &mut files);
    rust_files(&root.join("host-sim/src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = fs::read_to_string(path).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}
