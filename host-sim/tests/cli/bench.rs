//! `host-sim bench` and `host-sim load` in their short versions.

use super::*;

/// R31 through the harness of issue 8: a small run's table holds every
/// measure, and the CRM calls stay within the batch floor + 5.
#[test]
fn bench_measures_every_figure_and_the_crm_calls_stay_near_the_batch_floor() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.json");
    let args = [
        "bench",
        "--registrants",
        "250",
        "--attendees",
        "150",
        "--deliveries",
        "40",
        "--calls",
        "10",
        "--runs",
        "2",
        "--json",
        "--out",
    ];
    let rows = json(host_sim().args(args).arg(&file).output().unwrap());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(rows, written);
    let measures: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["measure"].as_str().unwrap())
        .collect();
    for expected in [
        "wall time",
        "CRM calls",
        "Zoom calls",
        "peak guest memory",
        "guest instructions (fuel)",
        "CRM limits on (100 per 10 s): wall time",
        "429 answers",
        "deliveries",
        "p99",
        "pooling",
        "component size",
    ] {
        assert!(
            measures.iter().any(|m| m.contains(expected)),
            "{expected} in {measures:?}"
        );
    }
    let crm = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == "full sync: CRM calls")
        .unwrap();
    assert_eq!(crm["met"], true, "{crm}");
    // The timed measures are medians of the runs asked for.
    assert_eq!(crm["runs"], 2, "{crm}");
    let fuel = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == "full sync: guest instructions (fuel)")
        .unwrap();
    assert!(fuel["value"].as_f64().unwrap() > 1.0, "{fuel}");
}

/// Issue 9, load: `serve` under many connections of signed deliveries
/// answers every one and keeps every event (the short version of
/// `host-sim load`, which defaults to 200 connections for 60 s).
#[test]
fn load_answers_every_delivery_and_loses_none() {
    let report = json(
        host_sim()
            .args(["load", "--connections", "20", "--seconds", "2", "--json"])
            .output()
            .unwrap(),
    );
    let sent = report["sent"].as_u64().unwrap();
    assert!(sent > 20, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["statuses"]["200"].as_u64(), Some(sent), "{report}");
    assert_eq!(report["stored"].as_u64(), Some(sent), "{report}");
    assert!(report["p99_ms"].as_f64().unwrap() > 0.0, "{report}");
}

/// Issue 21, the CI-sized curve: as the webinar doubles, the sync's peak
/// guest memory stays where the slice puts it (a ratio, not a time), its
/// CRM calls stay near the batch floor, and a larger webinar is sliced.
#[test]
fn issue_21_peak_memory_stays_bounded_as_the_webinar_doubles() {
    let rows = json(
        host_sim()
            .args(["bench", "--curve", "4000,8000", "--json"])
            .output()
            .unwrap(),
    );
    let rows = rows.as_array().unwrap();
    let find = |measure: &str| {
        rows.iter()
            .find(|r| r["measure"] == measure)
            .unwrap_or_else(|| panic!("{measure} in {rows:?}"))
    };
    let ratio = find("8000 against 4000: peak memory ratio");
    assert_eq!(ratio["met"], true, "{ratio}");
    for n in ["4000", "8000"] {
        let peak = find(&format!("{n}: peak guest memory"));
        assert_eq!(peak["met"], true, "{peak}");
    }
}
