//! The ledger's storage (R30): a webinar's ledger is a head and its
//! people in parts (layout 2 of `schema`), saved every few write batches
//! and at the end of a run, so a run that dies repeats at most a few
//! idempotent batches.

use std::ops::Range;

use super::Book;

use crate::core::ledger::{Ledger, PEOPLE_PARTS, People, StoredHead};
use crate::shell::{PluginError, Store, all_keys, encode, load, schema};

/// Write batches between two saves of the ledger during a run (R30).
const CHECKPOINT_BATCHES: u32 = 20;

/// The ledger as last stored: its head and every part of its people. A
/// layout-1 ledger (stored whole, before parts) reads as its head: the
/// head keeps the people of the old layout, and the next save moves them.
pub(super) fn load_ledger(store: &dyn Store, webinar: &str) -> Result<Ledger, PluginError> {
    let head = load_head(store, webinar)?;
    let mut parts = Vec::new();
    for key in all_keys(store, &schema::ledger_people_prefix(webinar))? {
        parts.extend(load::<People>(store, &key)?);
    }
    Ok(Ledger::from_stored(head, parts))
}

/// The ledger as a sync starts with it: its head, holding no people until
/// a slice is held ([`Book::hold`]). A head of layout 1 holds people of its
/// own: that ledger is read whole, and the next save moves them to parts.
pub(super) fn load_ledger_head(store: &dyn Store, webinar: &str) -> Result<Ledger, PluginError> {
    let head = load_head(store, webinar)?;
    if head.holds_people() {
        return load_ledger(store, webinar);
    }
    let mut ledger = Ledger::from_stored(head, []);
    ledger.hold(0..0, []);
    Ok(ledger)
}

/// The ledger's head, as last stored.
pub(super) fn load_head(store: &dyn Store, webinar: &str) -> Result<StoredHead, PluginError> {
    Ok(load(store, &schema::ledger(webinar))?.unwrap_or_default())
}

/// The stored people of `parts`.
pub(super) fn load_parts(
    store: &dyn Store,
    webinar: &str,
    parts: Range<u32>,
) -> Result<Vec<People>, PluginError> {
    let mut stored = Vec::new();
    for part in parts {
        stored.extend(load::<People>(
            store,
            &schema::ledger_people(webinar, part),
        )?);
    }
    Ok(stored)
}

/// Whether `bit` was written for anyone of the webinar: the part held,
/// else each stored part read in turn (never all at once).
pub(super) fn anyone_has(
    store: &dyn Store,
    webinar: &str,
    ledger: &Ledger,
    bit: u8,
) -> Result<bool, PluginError> {
    if !ledger.people_with(bit).is_empty() {
        return Ok(true);
    }
    for part in 0..PEOPLE_PARTS {
        let people = load_parts(store, webinar, part..part + 1)?;
        if people
            .iter()
            .flat_map(|p| p.applied.values())
            .any(|b| b & bit != 0)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Stores the ledger's head and the parts of its people that changed.
pub(super) fn store_ledger(
    store: &dyn Store,
    webinar: &str,
    ledger: &mut Ledger,
) -> Result<(), PluginError> {
    let (head, parts) = ledger.changes();
    let key = schema::ledger(webinar);
    let mut writes = vec![(key.clone(), Some(encode(&key, &head)?))];
    for (part, people) in parts {
        let key = schema::ledger_people(webinar, part);
        writes.push((key.clone(), Some(encode(&key, &people)?)));
    }
    // The head and the parts are one ledger: stored together or not at all.
    store.write_batch(writes)?;
    ledger.stored();
    Ok(())
}

impl Book<'_> {
    pub(super) fn save_ledger(&self, id: &str, ledger: &mut Ledger) -> Result<(), PluginError> {
        self.unsaved_batches.set(0);
        store_ledger(self.store, id, ledger)
    }

    /// Saves the slice held, then holds the people of `parts` (issue 21),
    /// reading only the parts not held already; nothing to do when they
    /// are the ones held.
    pub(super) fn hold(
        &self,
        id: &str,
        ledger: &mut Ledger,
        parts: Range<u32>,
    ) -> Result<(), PluginError> {
        let held = ledger.held();
        if held == parts {
            return Ok(());
        }
        self.save_ledger(id, ledger)?;
        let mut stored = Vec::new();
        for part in parts.clone().filter(|p| !held.contains(p)) {
            stored.extend(load_parts(self.store, id, part..part + 1)?);
        }
        ledger.hold(parts, stored);
        Ok(())
    }

    /// Saves the ledger every [`CHECKPOINT_BATCHES`] write batches: a run
    /// that dies repeats at most that many (idempotent) batches, and the
    /// parts of a large webinar's people (about 1 MB for 10,000) are not
    /// rewritten after each one.
    pub(super) fn checkpoint(&self, id: &str, ledger: &mut Ledger) -> Result<(), PluginError> {
        let unsaved = self.unsaved_batches.get() + 1;
        self.unsaved_batches.set(unsaved);
        if unsaved >= CHECKPOINT_BATCHES {
            self.save_ledger(id, ledger)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::ledger::{PEOPLE_PARTS, Resolved, applied, part_of};
    use crate::shell::memory::MemoryStore;

    #[test]
    fn r32_a_50000_person_ledger_is_stored_in_parts_each_far_under_the_host_limit() {
        let store = MemoryStore::default();
        let mut ledger = Ledger::default();
        for n in 0..50_000 {
            let email = format!("registrant-{n:05}@example.com");
            ledger.resolve(
                email.clone(),
                Resolved::Contact {
                    id: format!("{}", 100_000 + n),
                    created: true,
                },
            );
            ledger.mark(&email, applied::REGISTERED | applied::REGISTRATION_EVENT);
        }
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let values: Vec<usize> = store.0.borrow().values().map(Vec::len).collect();
        // Whole, this ledger was 5 MB, over the host's 4 MiB limit.
        assert_eq!(values.len(), 1 + PEOPLE_PARTS as usize);
        assert!(values.iter().sum::<usize>() > 4 << 20);
        assert!(values.iter().all(|len| *len < 256 << 10), "{values:?}");
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }

    #[test]
    fn r30_a_checkpoint_stores_the_head_and_only_the_parts_that_changed() {
        let store = MemoryStore::default();
        let mut ledger = Ledger::default();
        for n in 0..1_000 {
            ledger.mark(&format!("registrant-{n}@example.com"), applied::REGISTERED);
        }
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let before = store.0.borrow().clone();
        ledger.mark("registrant-7@example.com", applied::REGISTERED);
        ledger.mark("registrant-7@example.com", applied::ATTENDED);
        ledger.notes.insert("a note".into());
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let after = store.0.borrow().clone();
        let rewritten: Vec<&String> = after
            .iter()
            .filter(|(key, value)| before.get(*key) != Some(value))
            .map(|(key, _)| key)
            .collect();
        let part = schema::ledger_people("81000000001", part_of("registrant-7@example.com"));
        assert_eq!(rewritten, [&schema::ledger("81000000001"), &part]);
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }

    #[test]
    fn a_ledger_stored_whole_by_an_earlier_version_is_read_and_then_stored_in_parts() {
        let store = MemoryStore::default();
        let whole = json!({
            "contacts": { "ada@lovelace.example": { "as": "contact", "id": "501", "created": true } },
            "applied": { "ada@lovelace.example": applied::REGISTERED | applied::NAMED },
            "event": "written",
            "notes": ["n1"],
            "recording": { "first_seen_ms": null, "checks": 0 },
        });
        store
            .set(&schema::ledger("81000000001"), whole.to_string().as_bytes())
            .unwrap();
        let mut ledger = load_ledger(&store, "81000000001").unwrap();
        assert_eq!(ledger.contact_id("ada@lovelace.example"), Some("501"));
        assert!(ledger.has("ada@lovelace.example", applied::NAMED));
        assert_eq!(ledger.event.as_deref(), Some("written"));
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let head: serde_json::Value = load(&store, &schema::ledger("81000000001"))
            .unwrap()
            .unwrap();
        assert_eq!(head.get("contacts"), None, "the people moved to their part");
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }

    #[test]
    fn issue_21_writes_in_part_order_make_a_checkpoint_rewrite_only_the_parts_they_filled() {
        let store = MemoryStore::default();
        let mut ledger = Ledger::default();
        let emails: Vec<String> = (0..10_000)
            .map(|n| format!("p{n:05}@example.com"))
            .collect();
        for email in &emails {
            ledger.mark(email, applied::REGISTERED);
        }
        store_ledger(&store, "81", &mut ledger).unwrap();
        // 20 batches of 100 attendances between two checkpoints.
        let rewritten = |order: Vec<&String>| {
            let mut ledger = load_ledger(&store, "81").unwrap();
            for email in order.into_iter().take(2_000) {
                ledger.mark(email, applied::ATTENDED);
            }
            ledger.changes().1.len()
        };
        let by_email = rewritten(emails.iter().collect());
        let by_part = rewritten(crate::core::ledger::in_part_order(
            emails.iter().collect(),
            |e| e,
        ));
        assert_eq!(
            by_email, PEOPLE_PARTS as usize,
            "in email order, every part"
        );
        assert!(by_part <= 15, "in part order, the parts filled: {by_part}");
    }
}
