//! The settings export through the real component (R1-R6), and the audit
//! log's read side (R19), kept in the host's storage across restarts.

use crate::common::*;
use host_sim::bindings::PluginError;
use host_sim::bindings::settings::{GlobalSettings, RecordingSync, UserSettings, WebinarSettings};
use host_sim::sim::{Simulator, StateStore};

fn global(global_sync: bool, webinar_sync: bool) -> GlobalSettings {
    GlobalSettings {
        global_sync,
        webinar_sync,
        recording_sync: RecordingSync::None,
        host_exclusion_domains: vec![],
        recording_exclusion_domains: vec![],
        contact_exclusion_domains: vec![],
    }
}

#[tokio::test]
async fn r1_webinar_sync_is_refused_while_global_sync_is_off() {
    let sim = simulator();
    let (runtime, installation) = (&sim.runtime, &sim.installation);
    assert_eq!(
        runtime
            .get_global_settings(installation)
            .await
            .unwrap()
            .unwrap(),
        global(false, false)
    );

    let err = runtime
        .set_global_settings(installation, &global(false, true))
        .await
        .unwrap()
        .unwrap_err();
    let PluginError::InvalidInput(reason) = err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("global sync"), "{reason}");

    let webinar_on = WebinarSettings {
        webinar: "81234567890".into(),
        sync_enabled: Some(true),
    };
    assert!(
        runtime
            .set_webinar_settings(installation, &webinar_on)
            .await
            .unwrap()
            .is_err()
    );

    runtime
        .set_global_settings(installation, &global(true, true))
        .await
        .unwrap()
        .unwrap();
    runtime
        .set_webinar_settings(installation, &webinar_on)
        .await
        .unwrap()
        .unwrap();
    let stored = runtime
        .get_webinar_settings(installation, &"81234567890".to_owned())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sync_enabled, Some(true));
}

#[tokio::test]
async fn r2_to_r6_settings_are_normalised_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let sim =
            Simulator::start(config(), StateStore::Directory(dir.path().to_path_buf())).unwrap();
        let mut settings = global(true, true);
        settings.recording_sync = RecordingSync::SelectedUsers(vec!["Host@Acme.Example".into()]);
        settings.contact_exclusion_domains = vec!["@ACME.example".into(), "acme.example".into()];
        sim.runtime
            .set_global_settings(&sim.installation, &settings)
            .await
            .unwrap()
            .unwrap();
        let user = UserSettings {
            user: "Host@Acme.Example".into(),
            sync_new_webinars: false,
            sync_recordings: true,
        };
        sim.runtime
            .set_user_settings(&sim.installation, &user)
            .await
            .unwrap()
            .unwrap();
    }
    let sim = Simulator::start(config(), StateStore::Directory(dir.path().to_path_buf())).unwrap();
    let settings = sim
        .runtime
        .get_global_settings(&sim.installation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        settings.recording_sync,
        RecordingSync::SelectedUsers(vec!["host@acme.example".into()])
    );
    assert_eq!(settings.contact_exclusion_domains, ["acme.example"]);
    let user = sim
        .runtime
        .get_user_settings(&sim.installation, &"host@acme.example".to_owned())
        .await
        .unwrap()
        .unwrap();
    assert!(!user.sync_new_webinars && user.sync_recordings);
    let untouched = sim
        .runtime
        .get_user_settings(&sim.installation, &"other@acme.example".to_owned())
        .await
        .unwrap()
        .unwrap();
    assert!(
        untouched.sync_new_webinars && untouched.sync_recordings,
        "a user who never changed settings follows the account"
    );
}

#[tokio::test]
async fn bad_settings_are_refused_with_the_value_that_was_wrong() {
    let sim = simulator();
    let mut settings = global(true, false);
    settings.host_exclusion_domains = vec!["not a domain".into()];
    let err = sim
        .runtime
        .set_global_settings(&sim.installation, &settings)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(r) if r.contains("not a domain")),
        "{err:?}"
    );
    let err = sim
        .runtime
        .get_webinar_settings(&sim.installation, &"812-3456-7890".to_owned())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(r) if r.contains("digits only")),
        "{err:?}"
    );
}

#[tokio::test]
async fn r19_a_webinar_without_entries_has_an_empty_audit_log() {
    let sim = simulator();
    let page = sim
        .runtime
        .audit_log(&sim.installation, &"81234567890".to_owned(), 0, 50)
        .await
        .unwrap()
        .unwrap();
    assert!(page.entries.is_empty());
    assert_eq!(page.next, None);
    let err = sim
        .runtime
        .audit_log(&sim.installation, &"webinar".to_owned(), 0, 50)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, PluginError::InvalidInput(_)), "{err:?}");
}
