//! The per-webinar audit log (R19): append-only entries in storage.

use super::{PluginError, Store, load, save, schema};
use crate::core::audit::{AuditEntry, AuditKind};
use crate::core::settings;

/// The largest page `read` returns.
pub const MAX_PAGE: u32 = 500;

/// Appends an entry; the sequence is claimed with compare-and-swap so two
/// concurrent calls never write the same position.
pub fn append(
    store: &dyn Store,
    webinar: &str,
    at_ms: i64,
    kind: AuditKind,
    message: &str,
    records: Vec<String>,
) -> Result<u64, PluginError> {
    let counter = schema::audit_next(webinar);
    let sequence = loop {
        let current = store.get(&counter)?;
        let next: u64 = current
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if store.compare_and_swap(
            &counter,
            current.as_deref(),
            Some((next + 1).to_string().as_bytes()),
        )? {
            break next;
        }
    };
    let entry = AuditEntry {
        sequence,
        at_ms,
        kind,
        message: message.to_owned(),
        records,
    };
    save(store, &schema::audit_entry(webinar, sequence), &entry)?;
    Ok(sequence)
}

/// The webinar's latest entry, if any.
pub fn last(store: &dyn Store, webinar: &str) -> Result<Option<AuditEntry>, PluginError> {
    let next: u64 = store
        .get(&schema::audit_next(webinar))?
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    match next.checked_sub(1) {
        Some(sequence) => load(store, &schema::audit_entry(webinar, sequence)),
        None => Ok(None),
    }
}

/// Entries from sequence `start`, at most `limit`, and where the next page starts.
pub fn read(
    store: &dyn Store,
    webinar: &str,
    start: u64,
    limit: u32,
) -> Result<(Vec<AuditEntry>, Option<u64>), PluginError> {
    let webinar = settings::webinar_id(webinar)?;
    let limit = limit.clamp(1, MAX_PAGE);
    let cursor = start
        .checked_sub(1)
        .map(|before| schema::audit_entry(webinar, before));
    let (keys, more) = store.list_keys(&schema::audit_prefix(webinar), cursor.as_deref(), limit)?;
    let mut entries = Vec::with_capacity(keys.len());
    for key in &keys {
        if let Some(entry) = load::<AuditEntry>(store, key)? {
            entries.push(entry);
        }
    }
    let next = more.and(entries.last().map(|e| e.sequence + 1));
    Ok((entries, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::memory::MemoryStore;

    #[test]
    fn r19_entries_append_in_order_and_page() {
        let store = MemoryStore::default();
        for i in 0..5 {
            let seq = append(
                &store,
                "81234567890",
                1000 + i,
                AuditKind::EmailsExcluded,
                "excluded",
                vec![format!("p{i}@acme.example")],
            )
            .unwrap();
            assert_eq!(seq, i as u64);
        }
        append(
            &store,
            "81234567891",
            0,
            AuditKind::Synced,
            "other webinar",
            vec![],
        )
        .unwrap();
        let (first, next) = read(&store, "81234567890", 0, 3).unwrap();
        assert_eq!(
            first.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(next, Some(3));
        assert_eq!(
            last(&store, "81234567890").unwrap().unwrap().records,
            ["p4@acme.example"]
        );
        assert_eq!(last(&store, "81234567892").unwrap(), None);
        let (rest, next) = read(&store, "81234567890", 3, 3).unwrap();
        assert_eq!(
            rest.iter()
                .map(|e| e.records[0].as_str())
                .collect::<Vec<_>>(),
            ["p3@acme.example", "p4@acme.example"]
        );
        assert_eq!(next, None);
    }

    #[test]
    fn an_unknown_webinar_has_an_empty_log_and_a_malformed_id_is_refused() {
        let store = MemoryStore::default();
        assert_eq!(read(&store, "81234567890", 0, 10).unwrap(), (vec![], None));
        assert!(matches!(
            read(&store, "812-345", 0, 10),
            Err(PluginError::InvalidInput(_))
        ));
    }
}
