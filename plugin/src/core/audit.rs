//! Audit log entries (R19): what happened to a webinar's data, in the
//! seed's categories, with the records concerned (beyond R19: every entry
//! names them).

use serde::{Deserialize, Serialize};

/// R19's categories (a-f), plus `synced` for changes that went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// R19a.
    SyncSettingOff,
    /// R19b.
    RecordingNotSynced,
    /// R19c.
    ParticipantsNotSynced,
    /// R19d.
    WebinarDataNotSynced,
    /// R19e.
    EmailsExcluded,
    /// R19f.
    Error,
    Synced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub sequence: u64,
    pub at_ms: i64,
    pub kind: AuditKind,
    pub message: String,
    pub records: Vec<String>,
}

/// Storage keys: one per entry, ordered by sequence, and the next sequence.
pub fn entry_key(webinar: &str, sequence: u64) -> String {
    format!("audit/{webinar}/{sequence:016}")
}

pub fn prefix(webinar: &str) -> String {
    format!("audit/{webinar}/")
}

pub fn next_key(webinar: &str) -> String {
    format!("audit-next/{webinar}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_sort_by_sequence_and_stay_inside_the_webinars_prefix() {
        let mut keys = vec![entry_key("1", 10), entry_key("1", 9), entry_key("1", 100)];
        keys.sort();
        assert_eq!(
            keys,
            [entry_key("1", 9), entry_key("1", 10), entry_key("1", 100)]
        );
        assert!(keys.iter().all(|k| k.starts_with(&prefix("1"))));
        assert!(
            !entry_key("12", 0).starts_with(&prefix("1")),
            "webinar 12 is not in webinar 1's log"
        );
        assert!(!next_key("1").starts_with(&prefix("1")));
    }
}
