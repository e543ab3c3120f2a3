//! The workflow action "Add contact to Zoom webinar" through the component
//! (R21-R24). `tests/scenarios/workflow-action.toml` snapshots every answer;
//! these tests pin the promises a snapshot alone would not explain.

use std::path::Path;

use host_sim::config::HostConfig;
use host_sim::scenario::{self, Outcome, Scenario, Step};

async fn run(scenario: &Scenario) -> Outcome {
    scenario::run(scenario, HostConfig::default())
        .await
        .unwrap()
}

fn example() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/workflow-action.toml");
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn results<'a>(outcome: &'a Outcome, contact: &str) -> Vec<&'a str> {
    outcome
        .steps
        .iter()
        .filter(|s| {
            s.step.starts_with("add_contact_to_webinar")
                && s.step.contains(&format!("contact={contact} "))
        })
        .map(|s| s.result.as_str())
        .collect()
}

/// The example with only its first `n` steps.
fn first_steps(n: usize) -> Scenario {
    let mut scenario = example();
    scenario.steps.truncate(n);
    scenario
}

#[tokio::test]
async fn a_repeated_execution_answers_the_same_registrant_without_calling_zoom_again() {
    let once = run(&first_steps(1)).await;
    let twice = run(&first_steps(2)).await;
    let answers = results(&twice, "alan@turing.example");
    assert_eq!(answers.len(), 2);
    assert!(
        answers[0].starts_with("success: ") && answers[0].contains("registrant_id="),
        "{answers:?}"
    );
    assert_eq!(answers[0], answers[1]);
    assert_eq!(twice.api_calls["zoom"], once.api_calls["zoom"]);
}

#[tokio::test]
async fn r7_r12_the_registration_reaches_the_crm_like_zoom_s_own_on_the_next_tick() {
    let outcome = run(&first_steps(4)).await;
    let crm = &outcome.crm;
    let registered: Vec<&str> = crm["participations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["attendanceState"] == "REGISTERED")
        .map(|p| p["email"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(registered.len(), 2, "{crm:#}");
    let alan = crm["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["properties"]["email"] == "alan@turing.example")
        .unwrap();
    assert_eq!(alan["properties"]["zoom_webinar_total_registrations"], "1");
    assert_eq!(
        alan["properties"]["zoom_webinar_last_registered_url"],
        "https://us06web.zoom.us/w/87000000001"
    );
    assert_eq!(crm["timeline_events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_refusal_says_why_and_only_outages_block_the_workflow() {
    let outcome = run(&example()).await;
    let failures: Vec<&str> = outcome
        .steps
        .iter()
        .filter(|s| s.step.starts_with("add_contact_to_webinar"))
        .filter_map(|s| s.result.strip_prefix("failed "))
        .collect();
    let expected = [
        "received \"870 0000 0001\"", // R21, typed
        "received \"870-0000-0001\"", // R21, from a property
        // HubSpot resolves the property: empty, it arrives as no ID.
        "received no webinar ID",
        "not found on the Zoom account connected to the CRM's primary business unit", // R22
        "Webinar host cannot register for the webinar", // R23, the host
        "Webinar host cannot register for the webinar", // R23, Zoom's 3027
        "phone, org, \"How many seats?\"",              // R24
        "Registration is not enabled",
        "has ended",
        "has no email address",
        "in the excluded company domain acme.example",
        "was not found in the CRM (deleted or merged)",
        "has no first name",
        "at most 3 registrations a day",
    ];
    assert_eq!(failures.len(), expected.len(), "{failures:#?}");
    for (failure, wanted) in failures.iter().zip(expected) {
        assert!(failure.starts_with("(FAIL_CONTINUE): "), "{failure}");
        assert!(
            failure.contains(wanted),
            "{failure:?} should say {wanted:?}"
        );
    }
}

/// The example reduced to its executions for one contact.
fn only(contact: &str) -> Scenario {
    let mut scenario = example();
    scenario
        .steps
        .retain(|s| matches!(s, Step::AddContactToWebinar { contact: c, .. } if c == contact));
    scenario
}

#[tokio::test]
async fn r23_the_host_is_refused_before_zoom_is_asked_to_register() {
    let host = run(&only("jchill@acme.example")).await;
    let account_user = run(&only("cohost@partner.example")).await;
    for outcome in [&host, &account_user] {
        assert!(
            outcome
                .steps
                .last()
                .unwrap()
                .result
                .ends_with("Webinar host cannot register for the webinar"),
            "{:?}",
            outcome.steps
        );
    }
    // The account user is refused by Zoom (code 3027) after the questions
    // and the registration call; the host without either.
    assert_eq!(
        host.api_calls["zoom"] + 2,
        account_user.api_calls["zoom"],
        "{:?} vs {:?}",
        host.api_calls,
        account_user.api_calls
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_blocks_the_contact_at_this_step_and_is_retryable() {
    use host_sim::fakes::FaultPlan;
    use host_sim::sim::StateStore;
    // Installed (R21: the action's definition registered) while Zoom was
    // up; Zoom goes down before the workflow runs the action.
    let mut scenario = example();
    scenario.steps.clear();
    let sim = scenario::prepare(&scenario, HostConfig::default(), StateStore::Memory).unwrap();
    scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
    sim.zoom.set_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let contact = host_sim::api::contact_id(&sim, "alan@turing.example").unwrap();
    let outcome = host_sim::api::add_contact_to_webinar(
        &sim,
        &contact,
        host_sim::api::WebinarInput::Fixed("87000000001".into()),
        "cb-outage",
    )
    .await
    .unwrap();
    let result = outcome.text();
    assert!(
        result.starts_with("blocked until the plugin's callback"),
        "{result}"
    );
}

/// R21: the CRM's workflow engine runs the definition install registered:
/// without one (no developer key to register it) there is no action to
/// run, and with one the request goes to its `actionUrl`, its id in
/// `origin`.
#[tokio::test(flavor = "multi_thread")]
async fn r21_the_workflow_engine_runs_the_definition_install_registered() {
    use host_sim::sim::StateStore;
    let mut scenario = example();
    scenario.steps.clear();
    let mut config = HostConfig::default();
    config.crm.developer_api_key = host_sim::config::Secret::new("");
    let sim = scenario::prepare(&scenario, config, StateStore::Memory).unwrap();
    let outcome = scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
    let install = &outcome.steps[0].result;
    assert!(
        install.contains("workflow action \"Add contact to Zoom webinar\": not registered"),
        "{install}"
    );
    let contact = host_sim::api::contact_id(&sim, "alan@turing.example").unwrap();
    let input = || host_sim::api::WebinarInput::Fixed("87000000001".into());
    let Err(refused) =
        host_sim::api::add_contact_to_webinar(&sim, &contact, input(), "cb-none").await
    else {
        panic!("no definition, no execution");
    };
    assert!(
        refused
            .to_string()
            .contains("no published workflow action definition"),
        "{refused}"
    );

    let sim = scenario::prepare(&scenario, HostConfig::default(), StateStore::Memory).unwrap();
    scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
    let definitions = sim.crm.dump()["workflow_action_definitions"]["1000001"].clone();
    assert_eq!(
        definitions.as_array().map(Vec::len),
        Some(1),
        "{definitions}"
    );
    let contact = host_sim::api::contact_id(&sim, "alan@turing.example").unwrap();
    let outcome = host_sim::api::add_contact_to_webinar(&sim, &contact, input(), "cb-defined")
        .await
        .unwrap();
    assert!(
        outcome.text().starts_with("success: "),
        "{}",
        outcome.text()
    );
    assert_eq!(
        definitions[0]["actionUrl"],
        "https://host-sim.local/actions/add-contact-to-zoom-webinar"
    );
}

/// R21, R29: the action as HubSpot calls it — a signed request to the
/// action's URL, verified by the plugin (v2: hex SHA-256 of the client
/// secret, method, full URI and body) and answered with `outputFields`.
/// An unsigned or forged request registers no one.
#[tokio::test]
async fn r29_the_action_url_takes_only_hubspots_signed_request() {
    use host_sim::bindings::webhooks;
    use sha2::Digest as _;
    let mut scenario = example();
    scenario.steps.clear();
    let (sim, _) = crate::common::played(&scenario).await;
    let contact = host_sim::api::contact_id(&sim, "alan@turing.example").unwrap();
    let body = format!(
        r#"{{"callbackId":"ap-1","origin":{{"portalId":1}},"object":{{"objectId":{contact},"objectType":"CONTACT"}},"inputFields":{{"webinar_id":"87000000001"}}}}"#
    );
    let path = "/actions/add-contact-to-zoom-webinar";
    let uri = format!("{}{path}", sim.config.public_url);
    let sign = |secret: &str| {
        hex::encode(sha2::Sha256::digest(
            format!("{secret}POST{uri}{body}").as_bytes(),
        ))
    };
    let request = |headers: &[(&str, String)]| webhooks::Delivery {
        source: webhooks::WebhookSource::Crm,
        method: "POST".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(n, v)| host_sim::sim::header(n, v))
            .collect(),
        body: body.clone().into_bytes(),
        received_at: sim.clock.now_ms(),
    };
    let zoom_calls = || {
        sim.installation
            .outbound
            .log()
            .counts_by_service()
            .get("zoom")
            .copied()
    };
    let before = zoom_calls();
    for refused in [
        request(&[]),
        request(&[
            ("x-hubspot-signature", sign("not-the-client-secret")),
            ("x-hubspot-signature-version", "v2".into()),
        ]),
    ] {
        let answer = sim.deliver(&refused).await.unwrap();
        assert_eq!(
            answer.status,
            401,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    assert_eq!(zoom_calls(), before, "a refused request reaches no one");

    let signed = request(&[
        (
            "x-hubspot-signature",
            sign(sim.config.crm.client_secret.expose()),
        ),
        ("x-hubspot-signature-version", "v2".into()),
    ]);
    let answer = sim.deliver(&signed).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(answer.status, 200, "{json}");
    assert_eq!(
        json["outputFields"]["hs_execution_state"], "SUCCESS",
        "{json}"
    );
    assert!(
        json["outputFields"]["join_url"]
            .as_str()
            .unwrap()
            .contains("87000000001"),
        "{json}"
    );
}

/// R21: a registration that must wait for Zoom answers BLOCK; the plugin
/// keeps the execution, and once Zoom is back a `tick` — after a restart
/// of the simulator — registers the contact and completes HubSpot's
/// callback with the join link.
#[tokio::test]
async fn r21_a_blocked_registration_is_completed_by_its_callback_after_a_restart() {
    use host_sim::fakes::FaultPlan;
    use host_sim::fakes::crm::workflows::ExecutionState;
    use host_sim::sim::StateStore;
    let dir = tempfile::tempdir().unwrap();
    let store = || StateStore::Directory(dir.path().to_path_buf());
    let mut scenario = example();
    scenario.steps.clear();
    let callback = "ap-102-durable";
    {
        let sim = scenario::prepare(&scenario, HostConfig::default(), store()).unwrap();
        scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
        sim.zoom.set_faults(FaultPlan {
            error_rate: 1.0,
            ..FaultPlan::default()
        });
        let contact = host_sim::api::contact_id(&sim, "alan@turing.example").unwrap();
        let outcome = host_sim::api::add_contact_to_webinar(
            &sim,
            &contact,
            host_sim::api::WebinarInput::Fixed("87000000001".into()),
            callback,
        )
        .await
        .unwrap();
        assert_eq!(
            outcome.answer["outputFields"]["hs_execution_state"], "BLOCK",
            "{}",
            outcome.answer
        );
        // Zoom still down: the tick keeps the execution.
        sim.clock.advance(std::time::Duration::from_secs(120));
        sim.runtime.tick(&sim.installation).await.unwrap().unwrap();
        assert!(matches!(
            sim.crm.execution(callback).unwrap().state,
            ExecutionState::Blocked { .. }
        ));
        sim.save_fakes().unwrap();
    }

    let sim = scenario::prepare(&scenario, HostConfig::default(), store()).unwrap();
    sim.clock.advance(std::time::Duration::from_secs(60 * 60));
    sim.runtime.tick(&sim.installation).await.unwrap().unwrap();
    let execution = sim.crm.execution(callback).unwrap();
    assert!(execution.completed_by_callback, "{execution:?}");
    let ExecutionState::Success { output_fields } = &execution.state else {
        panic!("{execution:?}")
    };
    assert!(
        output_fields["join_url"]
            .as_str()
            .unwrap()
            .contains("87000000001"),
        "{output_fields:?}"
    );
}
