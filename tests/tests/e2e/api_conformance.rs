//! `docs/api-conformance.md` names every request the plugin makes: the
//! demo (install, webhooks, ticks, recordings and calls, the workflow
//! action, sync now) and an example with deletions and exclusions run
//! through the fakes, and every distinct request in the request log
//! (method and path, ids as `{placeholders}`) must match a row
//! `| METHOD | /path/{id} | ... |` of its service's section.

use std::collections::BTreeSet;
use std::path::Path;

use host_sim::config::HostConfig;
use host_sim::outbound::service_of;
use host_sim::scenario::{self, Scenario};
use host_sim::sim::StateStore;

/// (service in the request log, the section's heading).
fn checked_services() -> Vec<(&'static str, &'static str)> {
    vec![("crm", "## CRM (HubSpot)"), ("zoom", "## Zoom")]
}

fn document() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-conformance.md"),
    )
    .expect("docs/api-conformance.md exists")
}

/// The (method, path template) rows of the section under `heading`.
fn rows(document: &str, heading: &str) -> Vec<(String, String)> {
    let section = document
        .split("\n## ")
        .find(|s| format!("## {s}").starts_with(heading) || s.starts_with(heading))
        .unwrap_or_else(|| panic!("docs/api-conformance.md has no {heading:?} section"));
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [method, path, ..]
                    if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method)
                        && (path.starts_with('/') || names_host(path)) =>
                {
                    Some(((*method).to_owned(), (*path).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

/// A path cell that starts with its host (`zoom.us/oauth/token`): the row
/// is for that host only.
fn names_host(cell: &str) -> bool {
    cell.split('/')
        .next()
        .is_some_and(|host| host.contains('.'))
}

/// Whether a request to `host` at `path` is an instance of `template`.
fn covers(template: &str, host: &str, path: &str) -> bool {
    if names_host(template) {
        matches(template, &format!("{host}{path}"))
    } else {
        matches(template, path)
    }
}

/// Whether `path` is an instance of `template` (`{name}` is any one segment).
fn matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

#[test]
fn rows_are_read_and_templates_match_one_segment_each() {
    let doc = "# x\n\n## CRM (HubSpot)\n\n| method | path |\n| --- | --- |\n| GET | /a/{id}/b | x |\n\n## Zoom\n\n| POST | /z | y |\n";
    assert_eq!(
        rows(doc, "## CRM (HubSpot)"),
        [("GET".to_owned(), "/a/{id}/b".to_owned())]
    );
    assert_eq!(rows(doc, "## Zoom"), [("POST".to_owned(), "/z".to_owned())]);
    assert!(matches("/a/{id}/b", "/a/123/b"));
    assert!(!matches("/a/{id}/b", "/a/123/c/b"));
    assert!(!matches("/a/{id}", "/a/1/b"));
    assert!(covers("zoom.us/oauth/token", "zoom.us", "/oauth/token"));
    assert!(!covers(
        "zoom.us/oauth/token",
        "api.zoom.us",
        "/oauth/token"
    ));
    assert!(covers("/v2/users", "api.zoom.us", "/v2/users"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_the_plugin_makes_has_a_row_in_docs_api_conformance() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/exclusions-and-deletions.toml");
    let runs = [
        host_sim::demo::scenario(),
        Scenario::from_toml(&std::fs::read_to_string(example).unwrap()).unwrap(),
    ];
    let mut seen: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for run in &runs {
        let sim = scenario::prepare(run, HostConfig::default(), StateStore::Memory).unwrap();
        scenario::play(&sim, run, &mut |_| {}).await.unwrap();
        for record in sim.requests() {
            seen.insert((
                service_of(&record.host).to_owned(),
                record.method,
                record.host,
                record.path,
            ));
        }
    }
    let document = document();
    for (service, heading) in checked_services() {
        let rows = rows(&document, heading);
        assert!(!rows.is_empty(), "{heading} has no rows");
        let requests: Vec<_> = seen.iter().filter(|(s, _, _, _)| s == service).collect();
        // The run reached the whole client, not a corner of it.
        let distinct: BTreeSet<(&str, &str)> = requests
            .iter()
            .filter_map(|(_, method, host, path)| {
                rows.iter()
                    .find(|(m, t)| m == method && covers(t, host, path))
                    .map(|(m, t)| (m.as_str(), t.as_str()))
            })
            .collect();
        let missing: Vec<String> = requests
            .iter()
            .filter(|(_, method, host, path)| {
                !rows
                    .iter()
                    .any(|(m, t)| m == method && covers(t, host, path))
            })
            .map(|(_, method, host, path)| format!("{method} {host}{path}"))
            .collect();
        assert!(
            missing.is_empty(),
            "{service} requests without a row under {heading} in docs/api-conformance.md (add a row `| METHOD | /path/{{id}} | sends | reads | docs | the fake enforces |`):\n{}",
            missing.join("\n")
        );
        if service == "crm" {
            assert!(distinct.len() >= 12, "the demo reached only {distinct:?}");
        }
    }
}
