//! The `settings` export: settings kept in storage, checked by the core's rules.

use super::{PluginError, Store, load, save, schema};
use crate::core::settings::{self, GlobalSettings, SettingsError, UserSettings, WebinarSettings};

impl From<SettingsError> for PluginError {
    fn from(e: SettingsError) -> Self {
        PluginError::InvalidInput(e.to_string())
    }
}

pub fn global(store: &dyn Store) -> Result<GlobalSettings, PluginError> {
    Ok(load(store, schema::GLOBAL_SETTINGS)?.unwrap_or_default())
}

pub fn set_global(store: &dyn Store, new: &GlobalSettings) -> Result<GlobalSettings, PluginError> {
    let checked = settings::check_global(new)?;
    save(store, schema::GLOBAL_SETTINGS, &checked)?;
    Ok(checked)
}

pub fn user(store: &dyn Store, email: &str) -> Result<UserSettings, PluginError> {
    let email = settings::normalize_email(email)?;
    Ok(load(store, &schema::user_settings(&email))?
        .unwrap_or_else(|| UserSettings::defaults_for(&email)))
}

pub fn set_user(store: &dyn Store, new: &UserSettings) -> Result<UserSettings, PluginError> {
    let checked = settings::check_user(new)?;
    save(store, &schema::user_settings(&checked.user), &checked)?;
    Ok(checked)
}

pub fn webinar(store: &dyn Store, webinar: &str) -> Result<WebinarSettings, PluginError> {
    let id = settings::webinar_id(webinar)?;
    Ok(
        load(store, &schema::webinar_settings(id))?.unwrap_or(WebinarSettings {
            webinar: id.to_owned(),
            sync_enabled: None,
        }),
    )
}

pub fn set_webinar(
    store: &dyn Store,
    new: &WebinarSettings,
) -> Result<WebinarSettings, PluginError> {
    let checked = settings::check_webinar(&global(store)?, new)?;
    save(store, &schema::webinar_settings(&checked.webinar), &checked)?;
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::memory::MemoryStore;

    #[test]
    fn r1_settings_start_off_and_persist() {
        let store = MemoryStore::default();
        assert_eq!(global(&store).unwrap(), GlobalSettings::default());
        let on = GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            ..GlobalSettings::default()
        };
        set_global(&store, &on).unwrap();
        assert_eq!(global(&store).unwrap(), on);
    }

    #[test]
    fn r1_a_refused_change_keeps_what_was_stored() {
        let store = MemoryStore::default();
        let refused = GlobalSettings {
            webinar_sync: true,
            ..GlobalSettings::default()
        };
        assert!(matches!(
            set_global(&store, &refused),
            Err(PluginError::InvalidInput(_))
        ));
        assert_eq!(global(&store).unwrap(), GlobalSettings::default());
        let webinar_on = WebinarSettings {
            webinar: "81234567890".into(),
            sync_enabled: Some(true),
        };
        assert!(set_webinar(&store, &webinar_on).is_err());
        assert_eq!(webinar(&store, "81234567890").unwrap().sync_enabled, None);
    }

    #[test]
    fn r6_user_settings_default_to_following_the_account() {
        let store = MemoryStore::default();
        let defaults = user(&store, "Host@Acme.example").unwrap();
        assert_eq!(defaults, UserSettings::defaults_for("host@acme.example"));
        set_user(
            &store,
            &UserSettings {
                user: "HOST@acme.example".into(),
                sync_new_webinars: false,
                sync_recordings: true,
            },
        )
        .unwrap();
        assert!(!user(&store, "host@acme.example").unwrap().sync_new_webinars);
    }
}
