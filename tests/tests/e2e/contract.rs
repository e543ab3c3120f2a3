//! The built component against the WIT contract (R25, R27): it exports
//! exactly the `plugin` world's interfaces, imports the plugin world's own
//! interfaces and nothing outside the `platform` world (no filesystem, no
//! sockets), and its property definitions are the ones of R12.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

/// Interface names of a world's imports or exports, e.g. `crm:zoom-webinars/storage@0.1.0`.
fn names<'a>(
    resolve: &Resolve,
    items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>,
) -> BTreeSet<String> {
    items
        .filter(|(_, item)| matches!(item, WorldItem::Interface { .. } | WorldItem::Function(_)))
        .map(|(key, _)| match key {
            WorldKey::Name(name) => name.clone(),
            WorldKey::Interface(id) => resolve.id_of(*id).expect("a named interface"),
        })
        .collect()
}

/// `wasi:io/streams@0.2.4` -> `wasi:io/streams@0.2`: WASI 0.2 patch releases are compatible.
fn minor(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((head, _patch)) if name.starts_with("wasi:") => head.to_owned(),
        _ => name.to_owned(),
    }
}

fn contract_world(world: &str) -> (Resolve, WorldId) {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"))
        .unwrap();
    let world = resolve.select_world(&[package], Some(world)).unwrap();
    (resolve, world)
}

fn component_world() -> (Resolve, WorldId) {
    match decode(host_sim::PLUGIN_COMPONENT).expect("the built plugin decodes") {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => {
            panic!("the plugin build produced a WIT package, not a component")
        }
    }
}

#[test]
fn r25_the_component_exports_exactly_the_plugin_world() {
    let (built, built_world) = component_world();
    let (contract, plugin) = contract_world("plugin");
    assert_eq!(
        names(&built, built.worlds[built_world].exports.iter()),
        names(&contract, contract.worlds[plugin].exports.iter()),
    );
}

#[test]
fn r25_the_component_imports_its_own_interfaces_and_nothing_outside_the_platform_world() {
    let (built, built_world) = component_world();
    let imports = names(&built, built.worlds[built_world].imports.iter());

    let (contract, plugin) = contract_world("plugin");
    let own: BTreeSet<_> = names(&contract, contract.worlds[plugin].imports.iter());
    let built_own: BTreeSet<_> = imports
        .iter()
        .filter(|i| i.starts_with("crm:"))
        .cloned()
        .collect();
    assert_eq!(
        built_own, own,
        "the plugin world's imports: storage, config (and the shared types)"
    );

    let (platform_resolve, platform) = contract_world("platform");
    let allowed: BTreeSet<_> = names(
        &platform_resolve,
        platform_resolve.worlds[platform].imports.iter(),
    )
    .iter()
    .map(|n| minor(n))
    .collect();
    let outside: Vec<_> = imports
        .iter()
        .filter(|i| !allowed.contains(&minor(i)))
        .collect();
    assert!(
        outside.is_empty(),
        "imports outside the platform world: {outside:?}"
    );
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler@")),
        "outbound HTTP goes through wasi:http: {imports:?}"
    );
}

#[tokio::test]
async fn r12_the_component_defines_the_four_contact_properties() {
    let sim = simulator();
    let properties = sim
        .runtime
        .contact_properties(&sim.installation)
        .await
        .unwrap();
    let summary: Vec<_> = properties
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.field_type.as_str(),
                p.group_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "zoom_webinar_average_attendance_percentage",
                "number",
                "zoom_webinars"
            ),
            ("zoom_webinar_last_registered_url", "text", "zoom_webinars"),
            (
                "zoom_webinar_total_registrations",
                "number",
                "zoom_webinars"
            ),
            ("zoom_webinar_total_attended", "number", "zoom_webinars"),
        ]
    );
    let events = sim
        .runtime
        .timeline_event_types(&sim.installation)
        .await
        .unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "webinar-registration",
            "webinar-attendance",
            "webinar-recording-available"
        ]
    );
    assert!(
        events.iter().flat_map(|e| &e.tokens).all(|t| t.filterable),
        "R13: every attribute filters"
    );
}

#[tokio::test]
async fn r20_sync_now_refuses_a_malformed_id_and_explains_an_unknown_webinar() {
    use host_sim::bindings::PluginError;
    let sim = simulator();
    let err = sim
        .runtime
        .sync_now(&sim.installation, &"8123-4567 890".to_owned())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, PluginError::InvalidInput(ref s) if s.contains("8123-4567 890")),
        "{err:?}"
    );
    // A webinar Zoom does not know is an error that says so (the CLI
    // exits non-zero), not a report of one skipped record.
    let err = sim
        .runtime
        .sync_now(&sim.installation, &"81234567890".to_owned())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, PluginError::InvalidInput(ref s) if s.contains("81234567890 was not found on the connected Zoom account")),
        "{err:?}"
    );
    let report = sim.runtime.tick(&sim.installation).await.unwrap().unwrap();
    assert_eq!(report.written, 0, "nothing pending: {report:?}");
}
