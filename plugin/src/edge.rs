//! The component's edge: WIT bindings, and adapters from the host's imports
//! (storage, config, wasi:http through waki) to the shell's ports. Only
//! conversions live here; behaviour lives in `core` and `shell`.

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
});

use crate::core::audit::AuditKind;
use crate::core::settings as core_settings;
use crate::core::{crm_action, definitions, webhook};
use crate::shell::{self, PluginError as Error, http};
use crm::zoom_webinars::{config, storage, types};
use exports::crm::zoom_webinars::{
    lifecycle, properties, settings, sync, webhooks, workflow_actions,
};

struct Plugin;

export!(Plugin);

/// The config import as the shell's port.
struct HostConfig;

impl shell::Config for HostConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        config::get(key).map_err(|config::ConfigError::Io(e)| e)
    }
}

/// The storage import as the shell's port.
struct HostStore;

fn storage_error(e: storage::StorageError) -> Error {
    match e {
        storage::StorageError::TooLarge(s) | storage::StorageError::Backend(s) => Error::Storage(s),
    }
}

impl shell::Store for HostStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        storage::get(key).map_err(storage_error)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        storage::set(key, value).map_err(storage_error)
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        storage::delete(key).map_err(storage_error)
    }

    fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<String>, Option<String>), Error> {
        let page = storage::list_keys(prefix, cursor, limit).map_err(storage_error)?;
        Ok((page.keys, page.cursor))
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, Error> {
        storage::compare_and_swap(key, expected, new).map_err(storage_error)
    }

    fn write_batch(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), Error> {
        let writes: Vec<storage::Write> = writes
            .into_iter()
            .map(|(key, value)| storage::Write { key, value })
            .collect();
        storage::write_batch(&writes).map_err(storage_error)
    }
}

/// wasi:http, through waki, as the shell's port.
struct WakiHttp;

impl http::HttpClient for WakiHttp {
    fn send(&self, request: http::Request) -> Result<http::Response, http::TransportError> {
        self.send_with_headers(request)
            .map(|(response, _)| response)
    }

    fn send_with_headers(
        &self,
        request: http::Request,
    ) -> Result<(http::Response, http::Headers), http::TransportError> {
        let method = match request.method {
            http::Method::Get => waki::Method::Get,
            http::Method::Post => waki::Method::Post,
            http::Method::Put => waki::Method::Put,
            http::Method::Patch => waki::Method::Patch,
            http::Method::Delete => waki::Method::Delete,
        };
        let mut headers = Vec::with_capacity(request.headers.len());
        for (name, value) in request.headers {
            let name = ::http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| http::TransportError(format!("invalid header name {name:?}: {e}")))?;
            headers.push((name, value));
        }
        let response = waki::Client::new()
            .request(method, &request.url)
            .headers(headers)
            .body(request.body)
            .send()
            .map_err(|e| http::TransportError(format!("{e:#}")))?;
        let status = response.status_code();
        let headers = http::Headers(
            response
                .headers()
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                })
                .collect(),
        );
        let body = response
            .body()
            .map_err(|e| http::TransportError(format!("reading the answer: {e:#}")))?;
        Ok((http::Response { status, body }, headers))
    }

    /// R32: waits `ms` on the host's wall clock, the clock the host shares
    /// with the services it simulates (a `Retry-After` is in their time),
    /// and at most `ms` on the monotonic clock: a simulator whose clock a
    /// test moves on lets the wait end when it has moved far enough.
    fn pause(&self, ms: u64) {
        use std::time::{Duration, Instant, SystemTime};
        let target = Duration::from_millis(ms);
        let (wall, started) = (SystemTime::now(), Instant::now());
        loop {
            let on_wall = SystemTime::now().duration_since(wall).unwrap_or_default();
            let waited = on_wall.max(started.elapsed());
            if waited >= target {
                return;
            }
            // wasi:clocks' monotonic clock under std: the host parks the call.
            std::thread::sleep((target - waited).min(Duration::from_millis(20)));
        }
    }
}

impl From<Error> for types::PluginError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotImplemented(s) => Self::NotImplemented(s),
            Error::NotInstalled(s) => Self::NotInstalled(s),
            Error::InvalidInput(s) => Self::InvalidInput(s),
            Error::Configuration(s) => Self::Configuration(s),
            Error::ZoomUnavailable(s) => Self::ZoomUnavailable(s),
            Error::ZoomRefused(s) => Self::ZoomUnavailable(format!("{s}; not retried")),
            Error::CrmUnavailable(s) => Self::CrmUnavailable(s),
            Error::Storage(s) => Self::Storage(s),
        }
    }
}

fn unreadable_config(e: &str) -> webhook::Answer {
    webhook::Answer::refusal(
        503,
        "not_configured",
        &format!("the host could not read the plugin's configuration: {e}"),
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn with_env<T>(
    f: impl FnOnce(&shell::sync::Env<'_>) -> Result<T, Error>,
) -> Result<T, types::PluginError> {
    let env = shell::sync::Env {
        http: &WakiHttp,
        config: &HostConfig,
        store: &HostStore,
        now_ms: now_ms(),
    };
    f(&env).map_err(Into::into)
}

fn sync_report(r: shell::sync::Report) -> types::SyncReport {
    types::SyncReport {
        written: r.written,
        skipped: r.skipped,
        failed: r.failed,
        pending: r.pending,
        notes: r.notes,
    }
}

impl webhooks::Guest for Plugin {
    fn handle(delivery: webhooks::Delivery) -> webhooks::Answer {
        let delivery = webhook::Delivery {
            source: match delivery.source {
                webhooks::WebhookSource::Zoom => webhook::Source::Zoom,
                webhooks::WebhookSource::Crm => webhook::Source::Crm,
            },
            method: delivery.method,
            path: delivery.path,
            headers: delivery
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: delivery.body,
            received_at_ms: delivery.received_at,
        };
        let config = |key: &str| config::get(key).map_err(|config::ConfigError::Io(e)| e);
        let answer = match delivery.source {
            webhook::Source::Zoom => match config(shell::keys::ZOOM_WEBHOOK_SECRET_TOKEN) {
                Ok(secret) => webhook::handle_zoom(
                    &delivery,
                    webhook::ZoomSecrets {
                        webhook_secret_token: secret.as_deref(),
                    },
                    &mut |intake| {
                        shell::intake::record_zoom(&HostStore, &intake).map_err(|e| e.to_string())
                    },
                ),
                Err(e) => unreadable_config(&e),
            },
            webhook::Source::Crm => match (
                config(shell::keys::CRM_CLIENT_SECRET),
                config(shell::keys::HOST_PUBLIC_URL),
            ) {
                (Ok(secret), Ok(url)) => {
                    let secrets = webhook::CrmSecrets {
                        client_secret: secret.as_deref(),
                        public_url: url.as_deref(),
                    };
                    // The workflow action's URL: HubSpot's signed request (R21, R29).
                    if delivery.path.split('?').next() == Some(crm_action::ACTION_PATH) {
                        match crm_action::verify(&delivery, secrets) {
                            Ok(request) => crm_action::answer(&run_action(&request)),
                            Err(refusal) => refusal,
                        }
                    } else {
                        webhook::handle_crm(&delivery, secrets, &mut |event| {
                            shell::intake::record_crm(&HostStore, &event).map_err(|e| e.to_string())
                        })
                    }
                }
                (Err(e), _) | (_, Err(e)) => unreadable_config(&e),
            },
        };
        webhooks::Answer {
            status: answer.status,
            headers: answer
                .headers
                .into_iter()
                .map(|(name, value)| types::Header { name, value })
                .collect(),
            body: answer.body,
        }
    }
}

fn field_type(t: definitions::FieldType) -> workflow_actions::FieldType {
    match t {
        definitions::FieldType::Text => workflow_actions::FieldType::Text,
        definitions::FieldType::Number => workflow_actions::FieldType::Number,
    }
}

/// "Add contact to Zoom webinar" for a verified HubSpot request.
fn run_action(request: &crm_action::ActionRequest) -> crm_action::Outcome {
    let env = shell::sync::Env {
        http: &WakiHttp,
        config: &HostConfig,
        store: &HostStore,
        now_ms: now_ms(),
    };
    shell::action_callbacks::run(&env, request)
}

impl workflow_actions::Guest for Plugin {
    fn definitions() -> Vec<workflow_actions::ActionDefinition> {
        definitions::action_definitions()
            .into_iter()
            .map(|a| workflow_actions::ActionDefinition {
                id: a.id.into(),
                label: a.label.into(),
                description: a.description.into(),
                object_types: vec![workflow_actions::ObjectType::Contact],
                input_fields: a
                    .input_fields
                    .into_iter()
                    .map(|f| workflow_actions::InputField {
                        name: f.name.into(),
                        label: f.label.into(),
                        description: f.description.into(),
                        field_type: field_type(f.field_type),
                        required: f.required,
                        supports_object_property: f.supports_object_property,
                    })
                    .collect(),
                output_fields: a
                    .output_fields
                    .into_iter()
                    .map(|f| workflow_actions::OutputField {
                        name: f.name.into(),
                        label: f.label.into(),
                        field_type: field_type(f.field_type),
                    })
                    .collect(),
            })
            .collect()
    }

    fn execute(
        execution: workflow_actions::Execution,
    ) -> Result<Vec<workflow_actions::Output>, workflow_actions::ActionFailure> {
        use shell::action::{WebinarInput, add_contact_to_webinar};
        let webinar = execution
            .inputs
            .into_iter()
            .find(|i| i.name == "webinar_id")
            .map(|i| match i.value {
                workflow_actions::InputValue::Fixed(v) => WebinarInput::Fixed(v),
                workflow_actions::InputValue::ObjectProperty(p) => WebinarInput::Property(p),
            });
        let request = shell::action::Execution {
            action_id: execution.action_id,
            contact_id: execution.object.object_id,
            webinar,
        };
        let env = shell::sync::Env {
            http: &WakiHttp,
            config: &HostConfig,
            store: &HostStore,
            now_ms: now_ms(),
        };
        match add_contact_to_webinar(&env, &request) {
            Ok(registered) => Ok(vec![
                workflow_actions::Output {
                    name: "registrant_id".into(),
                    value: registered.registrant_id,
                },
                workflow_actions::Output {
                    name: "join_url".into(),
                    value: registered.join_url,
                },
            ]),
            Err(refusal) => Err(workflow_actions::ActionFailure {
                reason: refusal.to_string(),
                state: if refusal.blocks() {
                    workflow_actions::FailureState::Block
                } else {
                    workflow_actions::FailureState::FailContinue
                },
                retryable: refusal.retryable(),
            }),
        }
    }
}

fn property_type(t: definitions::PropertyType) -> properties::PropertyType {
    match t {
        definitions::PropertyType::Number => properties::PropertyType::Number,
        definitions::PropertyType::Text => properties::PropertyType::Text,
        definitions::PropertyType::Datetime => properties::PropertyType::Datetime,
        definitions::PropertyType::Enumeration => properties::PropertyType::Enumeration,
    }
}

impl properties::Guest for Plugin {
    fn contact_property_group() -> properties::PropertyGroup {
        let group = definitions::PROPERTY_GROUP;
        properties::PropertyGroup {
            name: group.name.into(),
            label: group.label.into(),
        }
    }

    fn contact_properties() -> Vec<properties::PropertyDefinition> {
        definitions::contact_properties()
            .into_iter()
            .map(|p| properties::PropertyDefinition {
                name: p.name.into(),
                label: p.label.into(),
                description: p.description.into(),
                group_name: definitions::PROPERTY_GROUP.name.into(),
                property_type: property_type(p.property_type),
                field_type: p.property_type.field_type().into(),
            })
            .collect()
    }

    fn timeline_event_types() -> Vec<properties::TimelineEventType> {
        definitions::timeline_event_types()
            .into_iter()
            .map(|t| properties::TimelineEventType {
                id: t.id.into(),
                name: t.name.into(),
                header_template: t.header_template.into(),
                detail_template: t.detail_template.into(),
                tokens: t
                    .tokens
                    .into_iter()
                    .map(|k| properties::EventToken {
                        name: k.name.into(),
                        label: k.label.into(),
                        token_type: property_type(k.token_type),
                        filterable: k.filterable,
                    })
                    .collect(),
            })
            .collect()
    }
}

impl sync::Guest for Plugin {
    fn sync_now(webinar: String) -> Result<types::SyncReport, types::PluginError> {
        with_env(|env| shell::sync::sync_now(env, &webinar)).map(sync_report)
    }

    fn backfill(since: Option<i64>) -> Result<types::SyncReport, types::PluginError> {
        with_env(|env| shell::sync::backfill(env, since)).map(sync_report)
    }

    /// The webinars' syncs, then the workflow executions blocked on Zoom (R21).
    fn tick() -> Result<types::SyncReport, types::PluginError> {
        with_env(|env| {
            let mut report = shell::sync::tick(env)?;
            let resumed = shell::action_callbacks::resume(env)?;
            report.written += resumed.completed;
            report.pending += resumed.waiting;
            report.notes.extend(resumed.notes);
            Ok(report)
        })
        .map(sync_report)
    }
}

fn recording_sync_from(r: settings::RecordingSync) -> core_settings::RecordingSync {
    match r {
        settings::RecordingSync::None => core_settings::RecordingSync::None,
        settings::RecordingSync::SelectedUsers(users) => {
            core_settings::RecordingSync::SelectedUsers(users)
        }
        settings::RecordingSync::AllUsers => core_settings::RecordingSync::AllUsers,
    }
}

fn recording_sync_to(r: core_settings::RecordingSync) -> settings::RecordingSync {
    match r {
        core_settings::RecordingSync::None => settings::RecordingSync::None,
        core_settings::RecordingSync::SelectedUsers(users) => {
            settings::RecordingSync::SelectedUsers(users)
        }
        core_settings::RecordingSync::AllUsers => settings::RecordingSync::AllUsers,
    }
}

fn audit_kind(kind: AuditKind) -> settings::AuditKind {
    match kind {
        AuditKind::SyncSettingOff => settings::AuditKind::SyncSettingOff,
        AuditKind::RecordingNotSynced => settings::AuditKind::RecordingNotSynced,
        AuditKind::ParticipantsNotSynced => settings::AuditKind::ParticipantsNotSynced,
        AuditKind::WebinarDataNotSynced => settings::AuditKind::WebinarDataNotSynced,
        AuditKind::EmailsExcluded => settings::AuditKind::EmailsExcluded,
        AuditKind::Error => settings::AuditKind::Error,
        AuditKind::Synced => settings::AuditKind::Synced,
    }
}

impl settings::Guest for Plugin {
    fn get_global() -> Result<settings::GlobalSettings, types::PluginError> {
        let g = shell::settings::global(&HostStore)?;
        Ok(settings::GlobalSettings {
            global_sync: g.global_sync,
            webinar_sync: g.webinar_sync,
            recording_sync: recording_sync_to(g.recording_sync),
            host_exclusion_domains: g.host_exclusion_domains,
            recording_exclusion_domains: g.recording_exclusion_domains,
            contact_exclusion_domains: g.contact_exclusion_domains,
        })
    }

    fn set_global(value: settings::GlobalSettings) -> Result<(), types::PluginError> {
        let new = core_settings::GlobalSettings {
            global_sync: value.global_sync,
            webinar_sync: value.webinar_sync,
            recording_sync: recording_sync_from(value.recording_sync),
            host_exclusion_domains: value.host_exclusion_domains,
            recording_exclusion_domains: value.recording_exclusion_domains,
            contact_exclusion_domains: value.contact_exclusion_domains,
        };
        let before = shell::settings::global(&HostStore)?;
        let after = shell::settings::set_global(&HostStore, &new)?;
        shell::sync::on_settings_changed(
            &HostStore,
            before.global_sync && before.webinar_sync,
            after.global_sync && after.webinar_sync,
        )?;
        Ok(())
    }

    fn get_user(user: String) -> Result<settings::UserSettings, types::PluginError> {
        let u = shell::settings::user(&HostStore, &user)?;
        Ok(settings::UserSettings {
            user: u.user,
            sync_new_webinars: u.sync_new_webinars,
            sync_recordings: u.sync_recordings,
        })
    }

    fn set_user(value: settings::UserSettings) -> Result<(), types::PluginError> {
        let new = core_settings::UserSettings {
            user: value.user,
            sync_new_webinars: value.sync_new_webinars,
            sync_recordings: value.sync_recordings,
        };
        shell::settings::set_user(&HostStore, &new)?;
        Ok(())
    }

    fn get_webinar(webinar: String) -> Result<settings::WebinarSettings, types::PluginError> {
        let w = shell::settings::webinar(&HostStore, &webinar)?;
        Ok(settings::WebinarSettings {
            webinar: w.webinar,
            sync_enabled: w.sync_enabled,
        })
    }

    fn set_webinar(value: settings::WebinarSettings) -> Result<(), types::PluginError> {
        let new = core_settings::WebinarSettings {
            webinar: value.webinar,
            sync_enabled: value.sync_enabled,
        };
        shell::settings::set_webinar(&HostStore, &new)?;
        Ok(())
    }

    fn audit_log(
        webinar: String,
        start: u64,
        limit: u32,
    ) -> Result<settings::AuditPage, types::PluginError> {
        let (entries, next) = shell::audit::read(&HostStore, &webinar, start, limit)?;
        Ok(settings::AuditPage {
            entries: entries
                .into_iter()
                .map(|e| settings::AuditEntry {
                    sequence: e.sequence,
                    at: e.at_ms,
                    kind: audit_kind(e.kind),
                    message: e.message,
                    records: e.records,
                })
                .collect(),
            next,
        })
    }
}

impl lifecycle::Guest for Plugin {
    fn install() -> Result<lifecycle::InstallReport, types::PluginError> {
        let report = shell::install::install(&WakiHttp, &HostConfig, &HostStore)?;
        Ok(lifecycle::InstallReport {
            created: report.created,
            already_present: report.already_present,
            not_set_up: report.not_set_up,
        })
    }
}
