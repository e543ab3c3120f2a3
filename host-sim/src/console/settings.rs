//! The settings page: the account's switches and lists (R1-R5), each Zoom
//! user's settings (R6a, R6b) and each webinar's override (R6c), changed
//! through the plugin's `settings` export. The plugin checks every change
//! (`plugin/src/core/settings.rs`) and refuses with a reason; the page
//! shows it next to the field it is about, with what was typed kept, so
//! the marketer can correct it. A change that went through is read back
//! from the plugin (which normalises domains and emails) and the page
//! says what changed.

use std::sync::Arc;

use askama::Template;

use super::webinars::{self, KnownWebinar};
use super::{Chrome, Flash, Form, redirect, render};
use crate::api::{self, ApiError};
use crate::bindings::settings::{GlobalSettings, RecordingSync, UserSettings, WebinarSettings};
use crate::exchange::Reply;
use crate::sim::Simulator;

/// The global form as shown: the stored values, or what was typed when
/// the plugin refused it.
pub struct GlobalForm {
    pub global_sync: bool,
    pub webinar_sync: bool,
    /// `none`, `selected-users` or `all-users`.
    pub recording_mode: &'static str,
    /// The account's Zoom users, each with whether their recordings are selected.
    pub recording_users: Vec<(String, bool)>,
    /// Selected users who are not among the account's users, comma-separated.
    pub other_recording_users: String,
    pub host_exclusions: String,
    pub recording_exclusions: String,
    pub contact_exclusions: String,
}

/// A refusal, and the form and field it is about.
pub struct Refusal {
    /// `global`, `user:EMAIL` or `webinar:ID`.
    pub form: String,
    /// The field's name; `form` when the plugin's reason names none.
    pub field: &'static str,
    pub message: String,
}

pub struct UserRow {
    pub email: String,
    pub name: String,
    pub settings: UserSettings,
}

pub struct OverrideRow {
    pub webinar: KnownWebinar,
    /// `default`, `on` or `off`.
    pub choice: &'static str,
}

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    page: Chrome,
    global: GlobalForm,
    users: Vec<UserRow>,
    overrides: Vec<OverrideRow>,
    /// The account's users' domains, offered for the exclusion lists (R4).
    account_domains: Vec<String>,
    refusal: Option<Refusal>,
}

impl SettingsPage {
    /// The plugin's reason for `field` of `form`, if that is what it refused.
    fn error_for(&self, form: &str, field: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form == form && r.field == field)
            .map(|r| r.message.as_str())
    }

    /// The plugin's reason, if it refused `form` (a user's or a webinar's
    /// form has one field the reason can be about).
    fn error_of(&self, form: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form == form)
            .map(|r| r.message.as_str())
    }

    /// A refusal of the "another user" form: a user form of no listed user.
    fn other_user_error(&self) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form.starts_with("user:"))
            .filter(|r| {
                !self
                    .users
                    .iter()
                    .any(|u| r.form == format!("user:{}", u.email))
            })
            .map(|r| r.message.as_str())
    }
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

/// Domains as typed: one a line, or separated by commas or spaces.
fn domains(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

fn choice(sync_enabled: Option<bool>) -> &'static str {
    match sync_enabled {
        None => "default",
        Some(true) => "on",
        Some(false) => "off",
    }
}

impl GlobalForm {
    fn of(s: &GlobalSettings, account_users: &[String]) -> Self {
        let (mode, selected): (&'static str, &[String]) = match &s.recording_sync {
            RecordingSync::None => ("none", &[]),
            RecordingSync::AllUsers => ("all-users", &[]),
            RecordingSync::SelectedUsers(users) => ("selected-users", users),
        };
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        Self {
            global_sync: s.global_sync,
            webinar_sync: s.webinar_sync,
            recording_mode: mode,
            recording_users: account_users
                .iter()
                .map(|u| (u.clone(), selected.iter().any(|s| is(s, u))))
                .collect(),
            other_recording_users: selected
                .iter()
                .filter(|s| !account_users.iter().any(|u| is(s, u)))
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            host_exclusions: lines(&s.host_exclusion_domains),
            recording_exclusions: lines(&s.recording_exclusion_domains),
            contact_exclusions: lines(&s.contact_exclusion_domains),
        }
    }
}

/// The global settings a submitted form asks for.
fn global_from(form: &Form) -> GlobalSettings {
    let mut selected: Vec<String> = form
        .all("recording_user")
        .iter()
        .map(|u| u.to_string())
        .collect();
    selected.extend(domains(form.get("other_recording_users").unwrap_or("")));
    GlobalSettings {
        global_sync: form.checked("global_sync"),
        webinar_sync: form.checked("webinar_sync"),
        recording_sync: match form.get("recording_sync") {
            Some("all-users") => RecordingSync::AllUsers,
            Some("selected-users") => RecordingSync::SelectedUsers(selected),
            _ => RecordingSync::None,
        },
        host_exclusion_domains: domains(form.get("host_exclusion_domains").unwrap_or("")),
        recording_exclusion_domains: domains(form.get("recording_exclusion_domains").unwrap_or("")),
        contact_exclusion_domains: domains(form.get("contact_exclusion_domains").unwrap_or("")),
    }
}

/// The field a reason of the plugin is about, by the words it uses
/// (`SettingsError`'s messages); `form` when it names none.
fn field_of(message: &str) -> &'static str {
    const FIELDS: [(&str, &str); 6] = [
        ("host exclusions", "host_exclusion_domains"),
        ("recording exclusions", "recording_exclusion_domains"),
        ("contact exclusions", "contact_exclusion_domains"),
        ("webinar sync cannot be turned on", "webinar_sync"),
        ("a webinar's sync cannot be turned on", "sync_enabled"),
        ("is not a Zoom user's email", "recording_users"),
    ];
    FIELDS
        .iter()
        .find(|(words, _)| message.contains(words))
        .map_or("form", |(_, field)| field)
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn recording_text(r: &RecordingSync) -> String {
    match r {
        RecordingSync::None => "no users".to_owned(),
        RecordingSync::AllUsers => "all users".to_owned(),
        RecordingSync::SelectedUsers(users) if users.is_empty() => {
            "selected users (none yet)".to_owned()
        }
        RecordingSync::SelectedUsers(users) => format!("selected users ({})", users.join(", ")),
    }
}

/// What changed between two global settings, one line per setting.
pub fn global_changes(before: &GlobalSettings, after: &GlobalSettings) -> Vec<String> {
    let mut changes = Vec::new();
    let mut flag = |name: &str, a: bool, b: bool| {
        if a != b {
            changes.push(format!("{name}: {} → {}", on_off(a), on_off(b)));
        }
    };
    flag("Global sync (R1)", before.global_sync, after.global_sync);
    flag("Webinar sync (R1)", before.webinar_sync, after.webinar_sync);
    if before.recording_sync != after.recording_sync {
        changes.push(format!(
            "Recording and transcript sync (R2): {} → {}",
            recording_text(&before.recording_sync),
            recording_text(&after.recording_sync)
        ));
    }
    let lists = [
        (
            "Host exclusions (R3)",
            &before.host_exclusion_domains,
            &after.host_exclusion_domains,
        ),
        (
            "Recording exclusions (R4)",
            &before.recording_exclusion_domains,
            &after.recording_exclusion_domains,
        ),
        (
            "Contact exclusions (R5)",
            &before.contact_exclusion_domains,
            &after.contact_exclusion_domains,
        ),
    ];
    for (name, a, b) in lists {
        let added: Vec<&str> = b
            .iter()
            .filter(|d| !a.contains(d))
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = a
            .iter()
            .filter(|d| !b.contains(d))
            .map(String::as_str)
            .collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", removed.join(", ")));
        }
        if !parts.is_empty() {
            changes.push(format!("{name}: {}", parts.join("; ")));
        }
    }
    changes
}

/// The settings page; `refused`: a refused change, with the form as typed.
pub async fn page(
    sim: &Arc<Simulator>,
    page: Chrome,
    refused: Option<(Refusal, Option<GlobalSettings>)>,
) -> Reply {
    let global = match api::global_settings(sim).await {
        Ok(g) => g,
        Err(e) => return super::message(503, page, unavailable(&e)),
    };
    let account_users = webinars::account_users(sim);
    let mut emails: Vec<String> = account_users.iter().map(|(e, _)| e.clone()).collect();
    // A user whose recordings are selected but who is not (or no longer)
    // among the account's users still has settings worth seeing.
    if let RecordingSync::SelectedUsers(selected) = &global.recording_sync {
        for user in selected {
            if !emails.iter().any(|e| e.eq_ignore_ascii_case(user)) {
                emails.push(user.clone());
            }
        }
    }
    let mut users = Vec::new();
    for email in &emails {
        let name = account_users
            .iter()
            .find(|(e, _)| e == email)
            .map_or(String::new(), |(_, n)| n.clone());
        match api::user_settings(sim, email).await {
            Ok(settings) => users.push(UserRow {
                email: email.clone(),
                name,
                settings,
            }),
            Err(e) => return super::message(503, page, unavailable(&e)),
        }
    }
    let mut overrides = Vec::new();
    for webinar in webinars::known(sim, &[]).await {
        let setting = api::webinar_settings(sim, &webinar.id).await;
        let choice = choice(setting.ok().and_then(|s| s.sync_enabled));
        overrides.push(OverrideRow { webinar, choice });
    }
    let mut account_domains: Vec<String> = account_users
        .iter()
        .filter_map(|(e, _)| e.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        .collect();
    account_domains.sort();
    account_domains.dedup();
    let (refusal, typed) = match refused {
        Some((refusal, typed)) => (Some(refusal), typed),
        None => (None, None),
    };
    let shown = typed.as_ref().unwrap_or(&global);
    let status = if refusal.is_some() { 422 } else { 200 };
    render(
        status,
        &SettingsPage {
            page,
            global: GlobalForm::of(shown, &emails[..account_users.len()]),
            users,
            overrides,
            account_domains,
            refusal,
        },
    )
}

fn unavailable(e: &ApiError) -> String {
    format!(
        "The plugin could not be asked for its settings: {e}. Check the server's log, then reload."
    )
}

/// A settings form posted: changed through the plugin, then back to the
/// page with what changed, or the page again with the plugin's reason.
pub async fn save(
    sim: &Arc<Simulator>,
    mut page: Chrome,
    path: &str,
    form: &Form,
    flash: &(dyn Fn(Flash) + Sync),
) -> Reply {
    let (form_name, result) = match path {
        "/console/settings" => ("global".to_owned(), save_global(sim, form).await),
        "/console/settings/users" => {
            let user = form.get("user").unwrap_or("").trim().to_owned();
            (format!("user:{user}"), save_user(sim, &user, form).await)
        }
        _ => {
            let webinar = form.get("webinar").unwrap_or("").trim().to_owned();
            (
                format!("webinar:{webinar}"),
                save_webinar(sim, &webinar, form).await,
            )
        }
    };
    match result {
        Ok(changes) if changes.is_empty() => {
            flash(Flash::ok(vec!["Saved; nothing changed.".into()]));
            redirect("/console/settings")
        }
        Ok(changes) => {
            let mut lines = vec!["Saved. What changed:".to_owned()];
            lines.extend(changes);
            flash(Flash::ok(lines));
            redirect("/console/settings")
        }
        Err(message) => {
            let field = field_of(&message);
            page.flash = Some(Flash::error(format!("Not saved: {message}")));
            let typed = (form_name == "global").then(|| global_from(form));
            let refusal = Refusal {
                form: form_name,
                field,
                message,
            };
            self::page(sim, page, Some((refusal, typed))).await
        }
    }
}

fn reason(e: ApiError) -> String {
    match e {
        ApiError::Plugin(m) | ApiError::BadInput(m) => m,
        ApiError::Call(e) => format!("the plugin could not be run ({e}); try again"),
    }
}

async fn save_global(sim: &Simulator, form: &Form) -> Result<Vec<String>, String> {
    let before = api::global_settings(sim).await.map_err(reason)?;
    api::set_global_settings(sim, &global_from(form))
        .await
        .map_err(reason)?;
    let after = api::global_settings(sim).await.map_err(reason)?;
    Ok(global_changes(&before, &after))
}

async fn save_user(sim: &Simulator, user: &str, form: &Form) -> Result<Vec<String>, String> {
    let before = api::user_settings(sim, user).await.map_err(reason)?;
    let next = UserSettings {
        user: user.to_owned(),
        sync_new_webinars: form.checked("sync_new_webinars"),
        sync_recordings: form.checked("sync_recordings"),
    };
    api::set_user_settings(sim, &next).await.map_err(reason)?;
    let after = api::user_settings(sim, user).await.map_err(reason)?;
    let mut changes = Vec::new();
    if before.sync_new_webinars != after.sync_new_webinars {
        changes.push(format!(
            "{user}: sync newly scheduled webinars (R6a) {} → {}",
            on_off(before.sync_new_webinars),
            on_off(after.sync_new_webinars)
        ));
    }
    if before.sync_recordings != after.sync_recordings {
        changes.push(format!(
            "{user}: sync recordings and transcripts (R6b) {} → {}",
            on_off(before.sync_recordings),
            on_off(after.sync_recordings)
        ));
    }
    Ok(changes)
}

async fn save_webinar(sim: &Simulator, webinar: &str, form: &Form) -> Result<Vec<String>, String> {
    let before = api::webinar_settings(sim, webinar).await.map_err(reason)?;
    let sync_enabled = match form.get("sync_enabled") {
        Some("on") => Some(true),
        Some("off") => Some(false),
        _ => None,
    };
    let next = WebinarSettings {
        webinar: webinar.to_owned(),
        sync_enabled,
    };
    api::set_webinar_settings(sim, &next)
        .await
        .map_err(reason)?;
    let after = api::webinar_settings(sim, webinar).await.map_err(reason)?;
    let text = |s: Option<bool>| match s {
        None => "follows the host's default",
        Some(true) => "on",
        Some(false) => "off",
    };
    Ok(if before.sync_enabled == after.sync_enabled {
        Vec::new()
    } else {
        vec![format!(
            "Webinar {webinar} (R6c): {} → {}",
            text(before.sync_enabled),
            text(after.sync_enabled)
        )]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_r5_what_changed_is_said_per_setting() {
        let before = GlobalSettings {
            global_sync: false,
            webinar_sync: false,
            recording_sync: RecordingSync::None,
            host_exclusion_domains: vec![],
            recording_exclusion_domains: vec![],
            contact_exclusion_domains: vec!["acme.example".into()],
        };
        let after = GlobalSettings {
            global_sync: true,
            recording_sync: RecordingSync::AllUsers,
            contact_exclusion_domains: vec!["staff.example".into()],
            ..before.clone()
        };
        assert_eq!(
            global_changes(&before, &after),
            [
                "Global sync (R1): off → on",
                "Recording and transcript sync (R2): no users → all users",
                "Contact exclusions (R5): added staff.example; removed acme.example",
            ]
        );
        assert!(global_changes(&after, &after).is_empty());
    }

    #[test]
    fn r1_a_refusal_is_shown_next_to_the_field_it_names() {
        assert_eq!(
            field_of("invalid input: webinar sync cannot be turned on while global sync is off"),
            "webinar_sync"
        );
        assert_eq!(
            field_of("invalid input: contact exclusions: \"x\" is not a domain"),
            "contact_exclusion_domains"
        );
        assert_eq!(field_of("storage: disk full"), "form");
    }

    #[test]
    fn r2_r5_a_form_reads_as_the_settings_it_asks_for() {
        let form = Form::parse(
            b"global_sync=on&recording_sync=selected-users&recording_user=a%40x.example&other_recording_users=b%40y.example%2C+c%40z.example&contact_exclusion_domains=acme.example%0D%0Astaff.example",
        );
        let settings = global_from(&form);
        assert!(settings.global_sync && !settings.webinar_sync);
        assert_eq!(
            settings.recording_sync,
            RecordingSync::SelectedUsers(vec![
                "a@x.example".into(),
                "b@y.example".into(),
                "c@z.example".into()
            ])
        );
        assert_eq!(
            settings.contact_exclusion_domains,
            ["acme.example", "staff.example"]
        );
    }
}
