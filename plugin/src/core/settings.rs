//! Settings (R1-R6) as the plugin keeps them, and the rules that check a
//! change before it is stored. Pure: storage lives in the shell.

use serde::{Deserialize, Serialize};

/// Whose recordings and transcripts sync (R2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "users", rename_all = "kebab-case")]
pub enum RecordingSync {
    #[default]
    None,
    SelectedUsers(Vec<String>),
    AllUsers,
}

/// Account-wide settings. Everything is off until an admin turns it on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlobalSettings {
    pub global_sync: bool,
    pub webinar_sync: bool,
    pub recording_sync: RecordingSync,
    pub host_exclusion_domains: Vec<String>,
    pub recording_exclusion_domains: Vec<String>,
    pub contact_exclusion_domains: Vec<String>,
}

/// One Zoom user's settings (R6a, R6b). A user who never changed them
/// follows the account: new webinars and recordings sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    pub user: String,
    pub sync_new_webinars: bool,
    pub sync_recordings: bool,
}

impl UserSettings {
    pub fn defaults_for(user: &str) -> Self {
        Self {
            user: user.to_owned(),
            sync_new_webinars: true,
            sync_recordings: true,
        }
    }
}

/// One webinar's switch (R6c); none follows the host's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebinarSettings {
    pub webinar: String,
    pub sync_enabled: Option<bool>,
}

/// Why a settings change was refused, for the admin who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "webinar sync cannot be turned on while global sync is off: an account admin must turn on global sync first (R1)"
    )]
    WebinarSyncNeedsGlobalSync,
    #[error(
        "a webinar's sync cannot be turned on while global sync or webinar sync is off: turn both on first (R1)"
    )]
    WebinarSwitchNeedsSync,
    #[error("{field}: {value:?} is not a domain (expected something like example.com)")]
    InvalidDomain { field: &'static str, value: String },
    #[error("{value:?} is not a Zoom user's email")]
    InvalidUser { value: String },
    #[error("webinar id {value:?} must be digits only, without spaces or dashes")]
    InvalidWebinarId { value: String },
}

/// A domain as typed: trimmed, lowercased, without a leading `@`.
fn normalize_domain(field: &'static str, value: &str) -> Result<String, SettingsError> {
    let domain = value.trim().trim_start_matches('@').to_ascii_lowercase();
    let valid = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(domain)
    } else {
        Err(SettingsError::InvalidDomain {
            field,
            value: value.to_owned(),
        })
    }
}

fn normalize_domains(field: &'static str, values: &[String]) -> Result<Vec<String>, SettingsError> {
    let mut domains = values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| normalize_domain(field, v))
        .collect::<Result<Vec<_>, _>>()?;
    domains.sort();
    domains.dedup();
    Ok(domains)
}

pub fn normalize_email(value: &str) -> Result<String, SettingsError> {
    let email = value.trim().to_ascii_lowercase();
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && normalize_domain("user", domain).is_ok() => {
            Ok(email)
        }
        _ => Err(SettingsError::InvalidUser {
            value: value.to_owned(),
        }),
    }
}

/// A Zoom webinar id: digits only (R21 applies the same rule to the action).
pub fn webinar_id(value: &str) -> Result<&str, SettingsError> {
    if !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(SettingsError::InvalidWebinarId {
            value: value.to_owned(),
        })
    }
}

/// The global settings to store, or why they are refused (R1).
pub fn check_global(new: &GlobalSettings) -> Result<GlobalSettings, SettingsError> {
    if new.webinar_sync && !new.global_sync {
        return Err(SettingsError::WebinarSyncNeedsGlobalSync);
    }
    let recording_sync = match &new.recording_sync {
        RecordingSync::SelectedUsers(users) => {
            let mut users = users
                .iter()
                .map(|u| normalize_email(u))
                .collect::<Result<Vec<_>, _>>()?;
            users.sort();
            users.dedup();
            RecordingSync::SelectedUsers(users)
        }
        other => other.clone(),
    };
    Ok(GlobalSettings {
        global_sync: new.global_sync,
        webinar_sync: new.webinar_sync,
        recording_sync,
        host_exclusion_domains: normalize_domains("host exclusions", &new.host_exclusion_domains)?,
        recording_exclusion_domains: normalize_domains(
            "recording exclusions",
            &new.recording_exclusion_domains,
        )?,
        contact_exclusion_domains: normalize_domains(
            "contact exclusions",
            &new.contact_exclusion_domains,
        )?,
    })
}

/// A webinar's switch to store, given the global settings (R1, R6c).
pub fn check_webinar(
    global: &GlobalSettings,
    new: &WebinarSettings,
) -> Result<WebinarSettings, SettingsError> {
    webinar_id(&new.webinar)?;
    if new.sync_enabled == Some(true) && !(global.global_sync && global.webinar_sync) {
        return Err(SettingsError::WebinarSwitchNeedsSync);
    }
    Ok(new.clone())
}

pub fn check_user(new: &UserSettings) -> Result<UserSettings, SettingsError> {
    Ok(UserSettings {
        user: normalize_email(&new.user)?,
        ..new.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_webinar_sync_needs_global_sync() {
        let settings = GlobalSettings {
            webinar_sync: true,
            ..GlobalSettings::default()
        };
        assert_eq!(
            check_global(&settings),
            Err(SettingsError::WebinarSyncNeedsGlobalSync)
        );
        let both = GlobalSettings {
            global_sync: true,
            ..settings
        };
        assert!(check_global(&both).is_ok());
    }

    #[test]
    fn r1_a_webinar_switch_needs_both_switches_but_can_always_be_turned_off() {
        let off = GlobalSettings::default();
        let on = |enabled| WebinarSettings {
            webinar: "81234567890".into(),
            sync_enabled: Some(enabled),
        };
        assert_eq!(
            check_webinar(&off, &on(true)),
            Err(SettingsError::WebinarSwitchNeedsSync)
        );
        assert!(check_webinar(&off, &on(false)).is_ok());
        let both = GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            ..off
        };
        assert!(check_webinar(&both, &on(true)).is_ok());
    }

    #[test]
    fn r3_r4_r5_domains_are_normalised_and_checked() {
        let settings = GlobalSettings {
            contact_exclusion_domains: vec![
                " @Acme.Example ".into(),
                "acme.example".into(),
                "".into(),
            ],
            ..GlobalSettings::default()
        };
        assert_eq!(
            check_global(&settings).unwrap().contact_exclusion_domains,
            ["acme.example"]
        );
        let bad = GlobalSettings {
            host_exclusion_domains: vec!["not a domain".into()],
            ..GlobalSettings::default()
        };
        let err = check_global(&bad).unwrap_err().to_string();
        assert!(
            err.contains("host exclusions") && err.contains("not a domain"),
            "{err}"
        );
    }

    #[test]
    fn r2_selected_users_are_emails() {
        let settings = GlobalSettings {
            recording_sync: RecordingSync::SelectedUsers(vec![
                "Host@Acme.example".into(),
                "host@acme.example".into(),
            ]),
            ..GlobalSettings::default()
        };
        assert_eq!(
            check_global(&settings).unwrap().recording_sync,
            RecordingSync::SelectedUsers(vec!["host@acme.example".into()])
        );
        let bad = GlobalSettings {
            recording_sync: RecordingSync::SelectedUsers(vec!["host".into()]),
            ..GlobalSettings::default()
        };
        assert!(check_global(&bad).is_err());
    }

    #[test]
    fn webinar_ids_are_digits_only() {
        assert!(webinar_id("81234567890").is_ok());
        for bad in ["812 3456 7890", "812-3456-7890", "", "abc"] {
            assert!(webinar_id(bad).is_err(), "{bad}");
        }
    }
}
