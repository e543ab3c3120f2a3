//! The demo, run once for the whole binary (`demo()`), and the commands
//! that read what it left: `crm`, a closed pipe.

use super::*;

#[test]
fn demo_summarises_the_whole_integration_as_json() {
    let (_, summary) = demo();
    insta::assert_json_snapshot!("demo_summary", summary, { ".wall_time_ms" => "[ms]" });
    // The numbers the summary promises, asserted as well as snapshotted.
    assert_eq!(summary["deliveries"], 3361);
    let events = summary["marketing_events"].as_array().unwrap();
    let launch = events
        .iter()
        .find(|e| e["webinar"] == "82000000001")
        .unwrap();
    assert_eq!(
        (launch["registered"].as_u64(), launch["attended"].as_u64()),
        (Some(1001), Some(650))
    );
    assert_eq!(launch["cancelled"], 1);
    assert_eq!(summary["calls_with_transcript"], summary["calls"]);
    assert!(
        summary["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["webinar"] == "82000000003"
                && a["message"].as_str().unwrap().contains("Zoom Event")),
        "R14 shows in the highlights"
    );
}

#[test]
fn demo_prints_a_readable_summary_and_a_kept_replay_writes_nothing() {
    let dir = copy_of_demo_state();
    let text = success(run_in(dir.path(), &["demo", "--keep"]));
    for expected in [
        "Played 3361 signed Zoom webhook deliveries",
        "Contacts       1003 in the CRM: 1001 created by the plugin",
        "Product launch 2026      82000000001  registered  1001  attended  650  cancelled  1  (ended)",
        "Calls          650 with the recording, 650 of them with the transcript",
        "Audit log highlights",
        "Wall time",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // The same deliveries again are duplicates: the ticks write nothing.
    let ticks: Vec<&str> = text.lines().filter(|l| l.contains("-> written")).collect();
    assert!(
        !ticks.is_empty() && ticks.iter().all(|l| l.contains("written 0,")),
        "{ticks:?}"
    );
}

#[test]
fn crm_commands_show_contacts_events_and_segments() {
    let dir = copy_of_demo_state();
    let events = json(run_in(dir.path(), &["crm", "events", "--json"]));
    insta::assert_json_snapshot!("crm_events", events);

    let contacts = json(run_in(
        dir.path(),
        &["crm", "contacts", "--limit", "3", "--json"],
    ));
    assert_eq!(contacts["total"], 1003);
    insta::assert_json_snapshot!("crm_contacts", contacts);

    // R13: attended the launch for at least 75 %, and two webinars in all.
    let segment = json(run_in(
        dir.path(),
        &[
            "crm",
            "search",
            "--where",
            "zoom_webinar_total_attended>=2",
            "--event",
            "attendance",
            "--token",
            "webinar_id=82000000001",
            "--token",
            "attendance_percentage>=75",
            "--limit",
            "1000",
            "--json",
        ],
    ));
    let selected = segment["contacts"].as_array().unwrap();
    assert!(!selected.is_empty());
    for c in selected {
        assert!(
            c["properties"]["zoom_webinar_total_attended"]
                .as_str()
                .unwrap()
                .parse::<u32>()
                .unwrap()
                >= 2
        );
    }
    let human = success(run_in(
        dir.path(),
        &["crm", "search", "--where", "zoom_webinar_total_attended>=2"],
    ));
    assert!(human.contains("contacts in all"), "{human}");
    let bad = failure(run_in(
        dir.path(),
        &["crm", "search", "--where", "nonsense"],
    ));
    assert!(bad.contains("NAME OP VALUE"), "{bad}");
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = copy_of_demo_state();
    let mut child = host_sim()
        .arg("--state-dir")
        .arg(dir.path())
        .args(["crm", "contacts", "--limit", "2000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone, as with `| head -1`.
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(first.starts_with("email"), "{first}");
    assert!(
        status.success() && !stderr.contains("panicked"),
        "{status:?} {stderr}"
    );
}
