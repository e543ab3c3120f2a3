//! The plugin's storage schema: every key it stores is built here, and the
//! version of the layout is stored beside the data (issue 20), so a newer
//! layout can migrate an older one and an older plugin never writes over a
//! layout it does not know.
//!
//! | key | holds | written by |
//! |---|---|---|
//! | `schema/version` | the layout's [`VERSION`] | [`check`] |
//! | `settings/global`, `settings/user/{email}`, `settings/webinar/{id}` | R1-R6 | `settings` |
//! | `inbox/{webinar}/{fingerprint}` | one webhook fact (R29) | `intake` |
//! | `pending/{webinar}` | what `tick` owes a webinar (R30, R32) | `intake`, `sync` |
//! | `known/{webinar}` | a webinar the plugin heard of (R1 backfill) | `intake` |
//! | `crm/id/{contact}` | a contact's email, for deletion webhooks (R18) | `sync` |
//! | `crm/deleted/{email}` | a deleted or archived contact (R18) | `intake`, `sync` |
//! | `person/{email}` | a person's records across webinars (R12) | `sync` |
//! | `ledger/{webinar}`, `ledger/{webinar}/people/{part}` | what was written (R30) | `sync` |
//! | `meta/{webinar}` | the webinar as last seen on Zoom | `sync` |
//! | `stage/{webinar}/{part}/{chunk}` | a large webinar's people during its sync, by slice (issue 21) | `sync` |
//! | `calls-in-flight/{webinar}` | calls created, not yet confirmed (R11) | `sync` |
//! | `action/{webinar}/{email}` | a registration the workflow action made (R21) | `action` |
//! | `action/blocked/{callback}` | an action answer to complete later (R21) | `action_callbacks` |
//! | `audit/{webinar}/{sequence}`, `audit-next/{webinar}` | the audit log (R19) | `audit` |
//! | `secret/zoom/token` | Zoom's access token | `zoom` |
//! | `crm/activity-events`, `crm/event-template/{event}` | the timeline set up at install (R10) | `crm::activity` |
//!
//! Layouts: 1 stored a webinar's ledger whole under `ledger/{webinar}`;
//! 2 stores its people in parts beside a head. A layout-1 ledger is
//! migrated when it is read ([`crate::shell::sync`] stores it back in
//! parts), so a state written by layout 1 needs no pass over every key.

use super::{PluginError, Store};

/// The layout this plugin reads and writes.
pub const VERSION: u32 = 2;

const VERSION_KEY: &str = "schema/version";

/// The layout of the state before the version was stored.
const UNVERSIONED: u32 = 1;

/// Checks the stored layout before a run writes, and records this one.
/// A state written by a newer plugin (an upgrade rolled back) is refused:
/// this plugin would misread it and could overwrite what it does not know.
pub fn check(store: &dyn Store) -> Result<(), PluginError> {
    let stored = match store.get(VERSION_KEY)? {
        None => UNVERSIONED,
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                PluginError::Storage(format!(
                    "the plugin's storage holds an unreadable layout version under {VERSION_KEY}"
                ))
            })?,
    };
    if stored > VERSION {
        return Err(PluginError::Storage(format!(
            "the plugin's storage was written by a newer version of the plugin (layout {stored}, this one knows up to {VERSION}): install that version again"
        )));
    }
    if stored < VERSION {
        // Every change from an older layout is migrated on read (above).
        store.set(VERSION_KEY, VERSION.to_string().as_bytes())?;
    }
    Ok(())
}

pub const GLOBAL_SETTINGS: &str = "settings/global";

pub fn user_settings(email: &str) -> String {
    format!("settings/user/{email}")
}

pub fn webinar_settings(webinar: &str) -> String {
    format!("settings/webinar/{webinar}")
}

/// A webinar's facts live under this prefix.
pub fn inbox_prefix(webinar: &str) -> String {
    format!("inbox/{webinar}/")
}

pub fn inbox_fact(webinar: &str, fingerprint: &str) -> String {
    format!("{}{fingerprint}", inbox_prefix(webinar))
}

pub const PENDING_PREFIX: &str = "pending/";

pub fn pending(webinar: &str) -> String {
    format!("{PENDING_PREFIX}{webinar}")
}

pub const KNOWN_PREFIX: &str = "known/";

pub fn known(webinar: &str) -> String {
    format!("{KNOWN_PREFIX}{webinar}")
}

/// The email of a CRM contact id, for the CRM's deletion webhooks.
pub fn contact_email(contact_id: &str) -> String {
    format!("crm/id/{contact_id}")
}

pub const DELETED_PREFIX: &str = "crm/deleted/";

pub fn deleted_contact(email: &str) -> String {
    format!("{DELETED_PREFIX}{email}")
}

pub fn person(email: &str) -> String {
    format!("person/{email}")
}

pub fn ledger(webinar: &str) -> String {
    format!("ledger/{webinar}")
}

/// Where a webinar's ledger keeps its people, a key per part.
pub fn ledger_people_prefix(webinar: &str) -> String {
    format!("ledger/{webinar}/people/")
}

pub fn ledger_people(webinar: &str, part: u32) -> String {
    format!("{}{part:02}", ledger_people_prefix(webinar))
}

/// A webinar's people staged during its sync; none between syncs.
pub fn stage_prefix(webinar: &str) -> String {
    format!("stage/{webinar}/")
}

pub fn stage_part_prefix(webinar: &str, part: u32) -> String {
    format!("{}{part:02}/", stage_prefix(webinar))
}

pub fn stage_chunk(webinar: &str, part: u32, chunk: u32) -> String {
    format!("{}{chunk:06}", stage_part_prefix(webinar, part))
}

pub fn webinar_meta(webinar: &str) -> String {
    format!("meta/{webinar}")
}

pub fn calls_in_flight(webinar: &str) -> String {
    format!("calls-in-flight/{webinar}")
}

/// The registration the workflow action made for a person, so a repeated
/// execution does not register twice; a cancellation lifts it (`intake`).
pub fn action_registration(webinar: &str, email: &str) -> String {
    format!("action/{webinar}/{email}")
}

pub const BLOCKED_ACTIONS_PREFIX: &str = "action/blocked/";

pub fn blocked_action(callback_id: &str) -> String {
    format!("{BLOCKED_ACTIONS_PREFIX}{callback_id}")
}

/// Audit entries: one per entry, ordered by sequence.
pub fn audit_entry(webinar: &str, sequence: u64) -> String {
    format!("{}{sequence:016}", audit_prefix(webinar))
}

pub fn audit_prefix(webinar: &str) -> String {
    format!("audit/{webinar}/")
}

/// The next sequence of a webinar's audit log.
pub fn audit_next(webinar: &str) -> String {
    format!("audit-next/{webinar}")
}

/// Under `secret/`, which the host seals at rest (issue 19): a copied
/// state database alone does not hand out the token.
pub const ZOOM_TOKEN: &str = "secret/zoom/token";

/// Where the token was kept in clear before; removed when a new one is stored.
pub const ZOOM_TOKEN_BEFORE_SECRETS: &str = "zoom/token";

/// Where the timeline's `Setup` is stored (`crm::activity`).
pub const ACTIVITY_SETUP: &str = "crm/activity-events";

/// Where an install before activity backends kept a template's id (still
/// written for the timeline backend, and read when no setup is stored).
pub fn event_template(event_id: &str) -> String {
    format!("crm/event-template/{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::memory::MemoryStore;

    #[test]
    fn a_state_without_a_version_is_layout_1_and_is_marked_with_this_one() {
        let store = MemoryStore::default();
        check(&store).unwrap();
        assert_eq!(store.get(VERSION_KEY).unwrap(), Some(b"2".to_vec()));
        // Checked again, nothing changes.
        check(&store).unwrap();
        assert_eq!(store.get(VERSION_KEY).unwrap(), Some(b"2".to_vec()));
    }

    #[test]
    fn a_state_written_by_a_newer_plugin_is_refused_and_left_as_it_is() {
        let store = MemoryStore::default();
        store.set(VERSION_KEY, b"3").unwrap();
        let refused = check(&store).unwrap_err().to_string();
        assert!(refused.contains("newer version of the plugin"), "{refused}");
        assert_eq!(store.get(VERSION_KEY).unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn an_unreadable_version_is_an_error_that_names_the_key() {
        let store = MemoryStore::default();
        store.set(VERSION_KEY, b"two").unwrap();
        assert!(check(&store).unwrap_err().to_string().contains(VERSION_KEY));
    }

    #[test]
    fn audit_entry_keys_sort_by_sequence_and_stay_inside_the_webinars_prefix() {
        let mut keys = vec![
            audit_entry("1", 10),
            audit_entry("1", 9),
            audit_entry("1", 100),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                audit_entry("1", 9),
                audit_entry("1", 10),
                audit_entry("1", 100)
            ]
        );
        assert!(keys.iter().all(|k| k.starts_with(&audit_prefix("1"))));
        assert!(
            !audit_entry("12", 0).starts_with(&audit_prefix("1")),
            "webinar 12 is not in webinar 1's log"
        );
        assert!(!audit_next("1").starts_with(&audit_prefix("1")));
    }

    #[test]
    fn a_webinars_ledger_parts_stay_under_its_own_prefix() {
        assert!(ledger_people("8", 3).starts_with(&ledger_people_prefix("8")));
        assert!(!ledger_people("80", 3).starts_with(&ledger_people_prefix("8")));
    }
}
