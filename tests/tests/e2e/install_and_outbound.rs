//! Install through the real component: the outbound policy routes Zoom and
//! CRM hosts to the fakes, denies everything else, and the plugin's
//! storage survives a restart of the host.

use crate::common::*;
use host_sim::bindings::PluginError;
use host_sim::outbound::Disposition;
use host_sim::sim::{Simulator, StateStore};

#[tokio::test]
async fn r12_install_creates_the_properties_and_templates_in_the_crm_once() {
    let sim = simulator();
    let first = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap();
    // Contacts: a group and the four properties; calls: a group and their
    // key; three templates; the workflow action's definition (R21).
    assert_eq!(first.created.len(), 11, "{first:?}");

    let crm = sim.crm.dump();
    let names: Vec<_> = crm["contact_properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "zoom_webinar_average_attendance_percentage",
            "zoom_webinar_last_registered_url",
            "zoom_webinar_total_attended",
            "zoom_webinar_total_registrations",
        ]
    );
    assert!(
        crm["contact_properties"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["groupName"] == "zoom_webinars")
    );
    assert_eq!(
        crm["event_templates"]["1000001"].as_array().unwrap().len(),
        3
    );
    // The calls' key, which finds a call made by a run whose answer was lost (R30).
    let saved = sim.crm.save();
    let call_properties: Vec<_> = saved["call_properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(call_properties, ["zoom_webinar_call_key"]);

    let second = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap();
    assert!(second.created.is_empty(), "{second:?}");
    assert_eq!(second.already_present.len(), 11);
    assert_eq!(
        sim.crm.dump(),
        crm,
        "a second install changes nothing in the CRM"
    );
}

/// R21: install registers the workflow action's definition with the
/// developer key; run again after the definition was changed in the CRM,
/// it updates that definition (same `actionUrl`) instead of adding one.
#[tokio::test]
async fn r21_install_registers_the_action_once_and_a_second_install_updates_it() {
    let sim = simulator();
    let install = || async {
        sim.runtime
            .install(&sim.installation)
            .await
            .unwrap()
            .unwrap()
    };
    let definitions = || sim.crm.dump()["workflow_action_definitions"]["1000001"].clone();
    let first = install().await;
    let action = "workflow action definition add-contact-to-zoom-webinar";
    assert!(first.created.iter().any(|c| c == action), "{first:?}");
    let registered = definitions();
    assert_eq!(registered.as_array().unwrap().len(), 1, "{registered}");
    let id = registered[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        registered[0]["actionUrl"],
        "https://host-sim.local/actions/add-contact-to-zoom-webinar"
    );

    // Someone relabels it in the developer account.
    let mut saved = sim.crm.save();
    saved["action_definitions"]["1000001"][0]["labels"]["en"]["actionName"] = "Renamed".into();
    sim.crm.restore(saved).unwrap();

    let second = install().await;
    assert!(
        second.already_present.iter().any(|c| c == action),
        "{second:?}"
    );
    let updated = definitions();
    assert_eq!(
        updated.as_array().unwrap().len(),
        1,
        "updated, not duplicated"
    );
    assert_eq!(updated[0]["id"], id.as_str());
    assert_eq!(updated[0]["revisionId"], "2");
    assert_eq!(
        updated[0]["labels"]["en"]["actionName"],
        "Add contact to Zoom webinar"
    );
    let methods: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/automation/v4/actions/1000001"))
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);
}

#[tokio::test]
async fn a_request_to_the_zoom_host_reaches_the_fake() {
    let sim = simulator();
    sim.runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap();
    let token_requests: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.host == "zoom.us")
        .collect();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(
        (
            token_requests[0].method.as_str(),
            token_requests[0].path.as_str()
        ),
        ("POST", "/oauth/token")
    );
    assert_eq!(token_requests[0].disposition, Disposition::Faked(200));
}

#[tokio::test]
async fn a_request_to_a_host_off_the_allow_list_is_denied_and_the_plugin_says_so() {
    let mut config = config();
    config.connection.allowed_hosts = vec!["zoom.us".into(), "api.zoom.us".into()];
    let sim = Simulator::start(config, StateStore::Memory).unwrap();

    let err = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap_err();
    let PluginError::CrmUnavailable(reason) = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("could not reach the CRM"), "{reason}");

    let denied: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| matches!(r.disposition, Disposition::Denied(_)))
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].host, "api.hubapi.com");
    assert_eq!(
        denied[0].disposition,
        Disposition::Denied("api.hubapi.com is not on this installation's allow-list".into())
    );
    assert_eq!(
        sim.crm.dump()["contact_properties"],
        serde_json::json!([]),
        "nothing reached the CRM"
    );
}

#[tokio::test]
async fn wrong_zoom_credentials_fail_install_with_what_to_check() {
    let mut sim = simulator();
    // The fake Zoom knows the configured app; the plugin is handed another client id.
    let mut plugin_config = sim.config.plugin_config();
    plugin_config.insert("zoom.client-id".into(), "not-the-app".into());
    sim.installation.config = std::sync::Arc::new(plugin_config);

    let err = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap_err();
    let PluginError::Configuration(reason) = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("Invalid client_id or client_secret"),
        "{reason}"
    );
    assert!(reason.contains("zoom.client-id"), "{reason}");
}

#[tokio::test]
async fn the_plugins_storage_survives_a_restart_of_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let template_ids = |sim: &Simulator| -> Vec<Option<Vec<u8>>> {
        [
            "webinar-registration",
            "webinar-attendance",
            "webinar-recording-available",
        ]
        .iter()
        .map(|id| {
            sim.installation
                .storage
                .get(&format!("crm/event-template/{id}"))
                .unwrap()
        })
        .collect()
    };
    let before = {
        let sim =
            Simulator::start(config(), StateStore::Directory(dir.path().to_path_buf())).unwrap();
        sim.runtime
            .install(&sim.installation)
            .await
            .unwrap()
            .unwrap();
        template_ids(&sim)
    };
    assert!(
        before.iter().all(Option::is_some),
        "install stored the template ids: {before:?}"
    );

    let restarted =
        Simulator::start(config(), StateStore::Directory(dir.path().to_path_buf())).unwrap();
    assert_eq!(template_ids(&restarted), before);
}

/// Issue 17: a token without a scope the plugin needs is found at install
/// and reported in one line naming the scope, not as an unexplained 403.
#[tokio::test]
async fn install_names_the_crm_scope_the_app_lacks() {
    use host_sim::fakes::crm::{CrmSeed, scopes};
    let sim = simulator();
    sim.crm.seed(&CrmSeed {
        scopes: Some(
            scopes::ALL
                .iter()
                .filter(|s| **s != "crm.schemas.contacts.write")
                .map(|s| s.to_string())
                .collect(),
        ),
        ..CrmSeed::default()
    });
    let error = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap_err();
    let PluginError::Configuration(message) = error else {
        panic!("a missing scope is the operator's to fix: {error:?}");
    };
    assert!(
        message.contains("lacks the scope(s) crm.schemas.contacts.write: add them to the app"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}

/// Issue 19: the Zoom access token the plugin keeps between runs is sealed
/// in the state database; the plugin still reads it (one OAuth request for
/// the whole scenario), and the file's bytes do not contain it.
#[tokio::test]
async fn the_stored_zoom_token_is_not_in_the_state_file_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/clean-webinar.toml");
    let scenario =
        host_sim::scenario::Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sim = host_sim::scenario::prepare(
        &scenario,
        host_sim::config::HostConfig::default(),
        StateStore::Directory(dir.path().to_path_buf()),
    )
    .unwrap();
    host_sim::scenario::play(&sim, &scenario, &mut |_| {})
        .await
        .unwrap();
    let stored = sim
        .installation
        .storage
        .get("secret/zoom/token")
        .unwrap()
        .expect("the plugin keeps its token");
    let token = serde_json::from_slice::<serde_json::Value>(&stored).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.len() > 8, "{token}");
    let token_requests = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/oauth/token"))
        .count();
    // Install checks the credentials with a token of its own; every run
    // after it (the scenario's webhooks, ticks and syncs) reads back one.
    assert_eq!(
        token_requests, 2,
        "the sealed token is read back between runs"
    );
    let mut bytes = Vec::new();
    for name in ["state.db", "state.db-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join(name)) {
            bytes.extend(b);
        }
    }
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is in the state file in clear"
    );
    assert!(
        sim.installation
            .storage
            .get("zoom/token")
            .unwrap()
            .is_none()
    );
}

/// Issue 18 (R19f): a Zoom app granted granular scopes without the
/// participants report's is found at install, from the token answer's
/// `scope`, and named in one line with its classic alternative.
#[tokio::test]
async fn install_names_the_zoom_scope_the_app_lacks() {
    let sim = simulator();
    let mut account = sim.zoom.account();
    account.scopes = Some(
        [
            "user:read:list_users:admin",
            "webinar:read:webinar:admin",
            "webinar:read:list_webinars:admin",
            "webinar:read:list_registrants:admin",
            "webinar:write:registrant:admin",
            "report:read:webinar:admin",
            "cloud_recording:read:list_recording_files:admin",
            "zoom_events:read:list_events:admin",
            "zoom_events:read:list_sessions:admin",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    sim.zoom.seed(account);
    let error = sim
        .runtime
        .install(&sim.installation)
        .await
        .unwrap()
        .unwrap_err();
    let PluginError::Configuration(message) = error else {
        panic!("a missing scope is the operator's to fix: {error:?}");
    };
    assert!(
        message.ends_with(
            "install again: the participants report (R8): report:read:list_webinar_participants:admin (or report:read:admin)"
        ),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}
