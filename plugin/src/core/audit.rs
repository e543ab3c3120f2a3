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

/// The kinds of CRM record a sync writes, as the audit summary names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    MarketingEvent,
    Registration,
    Attendance,
    Cancellation,
    TimelineEvent,
    PropertyUpdate,
    Call,
}

impl Record {
    const ALL: [Record; 7] = [
        Record::MarketingEvent,
        Record::Registration,
        Record::Attendance,
        Record::Cancellation,
        Record::TimelineEvent,
        Record::PropertyUpdate,
        Record::Call,
    ];

    /// Singular and plural, in a marketer's words.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Record::MarketingEvent => ("marketing event", "marketing events"),
            Record::Registration => ("registration", "registrations"),
            Record::Attendance => ("attendance", "attendances"),
            Record::Cancellation => ("cancelled registration", "cancelled registrations"),
            Record::TimelineEvent => ("timeline event", "timeline events"),
            Record::PropertyUpdate => ("contact property update", "contact property updates"),
            Record::Call => ("call with the recording", "calls with the recording"),
        }
    }
}

/// How many records of each kind a run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written([u32; Record::ALL.len()]);

impl Written {
    pub fn add(&mut self, record: Record, n: u32) {
        self.0[record as usize] += n;
    }

    pub fn merge(&mut self, other: &Written) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }

    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }

    /// "1 marketing event, 2 registrations and 2 timeline events".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = Record::ALL
            .iter()
            .filter(|&&r| self.0[r as usize] > 0)
            .map(|&r| {
                let n = self.0[r as usize];
                let (one, many) = r.names();
                format!("{n} {}", if n == 1 { one } else { many })
            })
            .collect();
        match parts.split_last() {
            None => "nothing".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r19_the_sync_summary_names_each_kind_of_record_it_wrote() {
        let mut written = Written::default();
        assert_eq!(written.describe(), "nothing");
        written.add(Record::Registration, 1);
        assert_eq!(written.describe(), "1 registration");
        written.add(Record::MarketingEvent, 1);
        written.add(Record::TimelineEvent, 2);
        let mut more = Written::default();
        more.add(Record::Call, 1);
        more.add(Record::PropertyUpdate, 3);
        written.merge(&more);
        assert_eq!(written.total(), 8);
        assert_eq!(
            written.describe(),
            "1 marketing event, 1 registration, 2 timeline events, 3 contact property updates and 1 call with the recording"
        );
    }
}
