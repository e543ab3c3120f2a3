//! Recording what webhooks say, fast (R29, R30): one storage key per fact,
//! claimed with compare-and-swap so a duplicate changes nothing, and a
//! pending mark per webinar that `tick` works through.

use serde::{Deserialize, Serialize};

use super::schema;
use super::{PluginError, Store, decode, encode, load, save};
use crate::core::intake::{Fact, Intake};
use crate::core::webhook::{ContactEvent, Recorded};

/// Work `tick` owes a webinar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Read Zoom's authoritative lists (the webinar ended, or a retry of a sync now).
    pub reconcile: bool,
    /// Not before this time: a rate limit or an outage is waited out (R32).
    pub not_before_ms: i64,
    pub attempts: u32,
    /// Bumped by every mark: a sync that ends sees whether a webhook
    /// marked the webinar while it ran, and then leaves it pending.
    #[serde(default)]
    pub marks: u64,
    /// Runs begun on this mark that never ended: the host stopped the
    /// plugin mid-run (out of time or memory) or stopped itself. Such a
    /// webinar is synced after the others, so it cannot hold them up.
    #[serde(default)]
    pub unfinished: u32,
    /// When the streak of failed runs began (none: the last run ended
    /// well): a webinar failing at every try for days is given up (issue 18).
    #[serde(default)]
    pub failing_since_ms: Option<i64>,
}

/// A short, stable key for a business key.
fn fingerprint(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..12])
}

/// Marks a webinar as owing work; a reconcile is never downgraded.
pub fn mark_pending(store: &dyn Store, webinar: &str, reconcile: bool) -> Result<(), PluginError> {
    update_pending(store, webinar, |pending| {
        pending.reconcile |= reconcile;
        pending.marks = pending.marks.wrapping_add(1);
    })
    .map(drop)
}

/// Changes a webinar's pending mark (making it if there is none) by
/// compare-and-swap, again until nobody changed it in between: webhooks
/// mark a webinar while a sync updates its back-off, and neither may
/// overwrite the other (R30). Returns the mark as written.
pub fn update_pending(
    store: &dyn Store,
    webinar: &str,
    change: impl Fn(&mut Pending),
) -> Result<Pending, PluginError> {
    let pending = change_pending(store, webinar, true, change)?;
    Ok(pending.unwrap_or_default())
}

/// Like [`update_pending`], for a webinar that is pending: none if it is not.
pub fn update_pending_if_marked(
    store: &dyn Store,
    webinar: &str,
    change: impl Fn(&mut Pending),
) -> Result<Option<Pending>, PluginError> {
    change_pending(store, webinar, false, change)
}

fn change_pending(
    store: &dyn Store,
    webinar: &str,
    create: bool,
    change: impl Fn(&mut Pending),
) -> Result<Option<Pending>, PluginError> {
    let key = schema::pending(webinar);
    loop {
        let current = store.get(&key)?;
        let mut pending: Pending = match &current {
            Some(bytes) => decode(&key, bytes)?,
            None if create => Pending::default(),
            None => return Ok(None),
        };
        change(&mut pending);
        if store.compare_and_swap(&key, current.as_deref(), Some(&encode(&key, &pending)?))? {
            return Ok(Some(pending));
        }
    }
}

/// Removes a webinar's pending mark if it is still the one `seen`; a mark
/// made since stays, for the facts it brought. Says whether it was removed.
pub fn clear_pending(store: &dyn Store, webinar: &str, seen: &[u8]) -> Result<bool, PluginError> {
    store.compare_and_swap(&schema::pending(webinar), Some(seen), None)
}

/// Stores a verified Zoom fact once.
pub fn record_zoom(store: &dyn Store, intake: &Intake) -> Result<Recorded, PluginError> {
    let webinar = intake.fact.webinar().to_owned();
    let key = schema::inbox_fact(&webinar, &fingerprint(&intake.key));
    let bytes = serde_json::to_vec(&intake.fact)
        .map_err(|e| PluginError::Storage(format!("cannot encode a fact: {e}")))?;
    if !store.compare_and_swap(&key, None, Some(&bytes))? {
        return Ok(Recorded::Duplicate);
    }
    store.set(&schema::known(&webinar), b"1")?;
    // A cancelled or denied registration may be made again by the workflow action.
    if let Fact::Registration { registrant, .. } = &intake.fact
        && matches!(registrant.status.as_str(), "cancelled" | "denied")
    {
        store.delete(&schema::action_registration(
            &webinar,
            &registrant.email.to_ascii_lowercase(),
        ))?;
    }
    // A recording means the webinar ended: its attendance is read first.
    let reconcile = matches!(
        intake.fact,
        Fact::Ended { .. } | Fact::Deleted { .. } | Fact::Recording { .. }
    );
    mark_pending(store, &webinar, reconcile)?;
    Ok(Recorded::New)
}

/// Every fact stored for a webinar, a thousand at a time to `each`: a
/// large webinar's inbox is never held whole (issue 21).
pub fn each_fact(
    store: &dyn Store,
    webinar: &str,
    each: &mut dyn FnMut(Fact) -> Result<(), PluginError>,
) -> Result<(), PluginError> {
    let prefix = schema::inbox_prefix(webinar);
    let mut cursor: Option<String> = None;
    loop {
        let (keys, next) = store.list_keys(&prefix, cursor.as_deref(), 1000)?;
        for key in keys {
            if let Some(fact) = load::<Fact>(store, &key)? {
                each(fact)?;
            }
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Every fact stored for a webinar, held whole: for tests.
#[cfg(test)]
pub fn facts(store: &dyn Store, webinar: &str) -> Result<Vec<Fact>, PluginError> {
    let mut facts = Vec::new();
    each_fact(store, webinar, &mut |fact| {
        facts.push(fact);
        Ok(())
    })?;
    Ok(facts)
}

/// A deleted contact is remembered by email, so the plugin never re-creates
/// it (R18); a restore lifts that. A contact the plugin never resolved has
/// no email here: it was not the plugin's to re-create.
pub fn record_crm(store: &dyn Store, event: &ContactEvent) -> Result<(), PluginError> {
    match event {
        ContactEvent::Deleted {
            contact_id,
            privacy,
        } => {
            if let Some(email) = load::<String>(store, &schema::contact_email(contact_id))? {
                let why = if *privacy {
                    "privacy-deletion"
                } else {
                    "deletion"
                };
                save(store, &schema::deleted_contact(&email), &why)?;
                if *privacy {
                    // What the plugin kept about the person goes with them.
                    store.delete(&schema::person(&email))?;
                }
            }
        }
        ContactEvent::Restored { contact_id } => {
            if let Some(email) = load::<String>(store, &schema::contact_email(contact_id))? {
                store.delete(&schema::deleted_contact(&email))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::Registrant;
    use crate::shell::memory::MemoryStore;

    fn registration(status: &str, key: &str) -> Intake {
        Intake {
            key: key.into(),
            fact: Fact::Registration {
                webinar: "81".into(),
                registrant: Registrant {
                    id: "r1".into(),
                    email: "Ada@x.example".into(),
                    first_name: "Ada".into(),
                    last_name: "Lovelace".into(),
                    status: status.into(),
                    registered_ms: 1_000,
                },
                at_ms: 1_000,
            },
        }
    }

    #[test]
    fn r30_a_fact_is_stored_once_and_marks_its_webinar_pending() {
        let store = MemoryStore::default();
        let fact = registration("approved", "created|r1");
        assert_eq!(record_zoom(&store, &fact).unwrap(), Recorded::New);
        assert_eq!(record_zoom(&store, &fact).unwrap(), Recorded::Duplicate);
        assert_eq!(facts(&store, "81").unwrap().len(), 1);
        let pending: Pending = load(&store, &schema::pending("81")).unwrap().unwrap();
        // A registration is synced from what it says; no reconcile yet.
        assert!(!pending.reconcile);
        assert!(store.get(&schema::known("81")).unwrap().is_some());
    }

    #[test]
    fn r30_a_mark_is_never_downgraded_and_counts_every_webhook() {
        let store = MemoryStore::default();
        mark_pending(&store, "81", true).unwrap();
        mark_pending(&store, "81", false).unwrap();
        let pending: Pending = load(&store, &schema::pending("81")).unwrap().unwrap();
        assert!(pending.reconcile);
        assert_eq!(pending.marks, 2);
        // Cleared only if it is still the mark the run saw.
        let seen = store.get(&schema::pending("81")).unwrap().unwrap();
        mark_pending(&store, "81", false).unwrap();
        assert!(!clear_pending(&store, "81", &seen).unwrap());
        let now = store.get(&schema::pending("81")).unwrap().unwrap();
        assert!(clear_pending(&store, "81", &now).unwrap());
        assert!(
            update_pending_if_marked(&store, "81", |_| ())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn r21_a_cancellation_lets_the_workflow_action_register_the_person_again() {
        let store = MemoryStore::default();
        let made = schema::action_registration("81", "ada@x.example");
        store.set(&made, b"{}").unwrap();
        record_zoom(&store, &registration("cancelled", "cancelled|r1")).unwrap();
        assert!(store.get(&made).unwrap().is_none());
    }

    #[test]
    fn r18_a_deleted_contact_is_remembered_by_email_a_privacy_deletion_forgets_them() {
        let store = MemoryStore::default();
        save(&store, &schema::contact_email("501"), &"ada@x.example").unwrap();
        save(&store, &schema::person("ada@x.example"), &"records").unwrap();
        let deleted = |privacy| ContactEvent::Deleted {
            contact_id: "501".into(),
            privacy,
        };
        record_crm(&store, &deleted(false)).unwrap();
        let why: Option<String> = load(&store, &schema::deleted_contact("ada@x.example")).unwrap();
        assert_eq!(why.as_deref(), Some("deletion"));
        assert!(
            store
                .get(&schema::person("ada@x.example"))
                .unwrap()
                .is_some()
        );
        record_crm(&store, &deleted(true)).unwrap();
        assert!(
            store
                .get(&schema::person("ada@x.example"))
                .unwrap()
                .is_none()
        );
        let restored = ContactEvent::Restored {
            contact_id: "501".into(),
        };
        record_crm(&store, &restored).unwrap();
        assert!(
            store
                .get(&schema::deleted_contact("ada@x.example"))
                .unwrap()
                .is_none()
        );
        // A contact the plugin never resolved was not its to re-create.
        record_crm(
            &store,
            &ContactEvent::Restored {
                contact_id: "9".into(),
            },
        )
        .unwrap();
    }
}
