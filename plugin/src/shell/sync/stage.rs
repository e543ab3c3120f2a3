//! Stage: a webinar's people, put in the slices its sync holds one at a
//! time (issue 21). What webhooks said of each person, Zoom's list of
//! registrants and its participants report arrive a page at a time and
//! are routed to the ledger part of the person's email; a slice is a run
//! of parts holding about [`SLICE_ITEMS`] of them, planned, resolved and
//! written before the next one is read. A webinar that fits one slice is
//! never written to storage; a larger one spills its parts to `stage/...`
//! keys, cleared when the sync ends, and when the next one starts after a
//! run that died.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::core::intake::Fact;
use crate::core::ledger::{PEOPLE_PARTS, part_of};
use crate::core::plan::{ParticipantRow, Registrant};
use crate::shell::{PluginError, Store, all_keys, encode, load, schema};

/// The items (registrations, listed registrants, report rows, webhook
/// moves) a slice holds at most, unless one part alone holds more: about
/// 3,500 people at 70 % attendance, some 6 MiB of guest memory at their
/// peak (the plan and the ledger of the slice).
pub const SLICE_ITEMS: usize = 6_000;

/// One staged item.
#[derive(Debug, Serialize, Deserialize)]
enum Staged {
    /// A webhook's fact about a person (a registration, a join, a leave).
    Fact(Fact),
    /// A registrant in Zoom's list.
    Listed(Registrant),
    /// A row of the participants report.
    Row(ParticipantRow),
}

/// The people of one slice: every item routed to its parts.
#[derive(Debug, Default)]
pub(super) struct Slice {
    pub facts: Vec<Fact>,
    pub listed: Vec<Registrant>,
    pub rows: Vec<ParticipantRow>,
}

pub(super) struct Stage<'s> {
    store: &'s dyn Store,
    webinar: String,
    /// Items not spilled yet, by part.
    buffers: Vec<Vec<Staged>>,
    buffered: usize,
    /// Items by part, buffered or spilled.
    counts: Vec<usize>,
    /// Chunks spilled so far (the next chunk's number).
    chunks: u32,
    /// Each registrant id's part, by a hash of the id: the attendance of a
    /// person who joined with another email than the one they registered
    /// with goes to their registration's part. 16 bytes a registrant.
    registrant_parts: Vec<(u64, u32)>,
    sorted: bool,
}

/// FNV-1a, 64 bits: a registrant id's key in the routing table.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The part of the email a plan knows a person by (`exclusions::classify`).
fn email_part(email: &str) -> u32 {
    part_of(&email.trim().to_ascii_lowercase())
}

/// A registrant's part, and the hash of their id when they have one.
fn registrant_route(registrant: &Registrant) -> (u32, Option<u64>) {
    let id = (!registrant.id.is_empty()).then(|| id_hash(&registrant.id));
    (email_part(&registrant.email), id)
}

impl<'s> Stage<'s> {
    /// An empty stage; what a run that died left staged is dropped.
    pub fn new(store: &'s dyn Store, webinar: &str) -> Result<Self, PluginError> {
        let mut stage = Stage {
            store,
            webinar: webinar.to_owned(),
            buffers: (0..PEOPLE_PARTS).map(|_| Vec::new()).collect(),
            buffered: 0,
            counts: vec![0; PEOPLE_PARTS as usize],
            chunks: 0,
            registrant_parts: Vec::new(),
            sorted: true,
        };
        stage.clear_stored()?;
        Ok(stage)
    }

    /// A registrant, from a webhook or Zoom's list.
    pub fn registrant(&mut self, registrant: Registrant) -> Result<(), PluginError> {
        let route = registrant_route(&registrant);
        self.push_registrant(route, Staged::Listed(registrant))
    }

    /// A webhook's fact about a person. Registrations first, then joins
    /// and leaves once every registrant is staged (their part may be
    /// their registration's).
    pub fn fact(&mut self, fact: Fact) -> Result<(), PluginError> {
        match &fact {
            Fact::Registration { registrant, .. } => {
                let route = registrant_route(registrant);
                self.push_registrant(route, Staged::Fact(fact))
            }
            Fact::Joined { person, .. } | Fact::Left { person, .. } => {
                let part = self.attendee_part(&person.email, &person.registrant_id);
                self.push(part, Staged::Fact(fact))
            }
            // The webinar's own facts are not a person's.
            _ => Ok(()),
        }
    }

    /// A row of the participants report.
    pub fn row(&mut self, row: ParticipantRow) -> Result<(), PluginError> {
        let part = self.attendee_part(&row.email, &row.registrant_id);
        self.push(part, Staged::Row(row))
    }

    fn push_registrant(
        &mut self,
        (part, id): (u32, Option<u64>),
        item: Staged,
    ) -> Result<(), PluginError> {
        if let Some(id) = id {
            self.registrant_parts.push((id, part));
            self.sorted = false;
        }
        self.push(part, item)
    }

    /// The part of an attendee: their registration's, else their email's
    /// (a guest without either is in the part of no email).
    fn attendee_part(&mut self, email: &str, registrant_id: &str) -> u32 {
        if !registrant_id.is_empty() {
            if !self.sorted {
                self.registrant_parts.sort_unstable();
                self.sorted = true;
            }
            let hash = id_hash(registrant_id);
            let at = self.registrant_parts.partition_point(|(h, _)| *h < hash);
            if let Some((h, part)) = self.registrant_parts.get(at)
                && *h == hash
            {
                return *part;
            }
        }
        email_part(email)
    }

    fn push(&mut self, part: u32, item: Staged) -> Result<(), PluginError> {
        self.buffers[part as usize].push(item);
        self.counts[part as usize] += 1;
        self.buffered += 1;
        if self.buffered >= SLICE_ITEMS {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes every buffered part as one chunk each, in one batch.
    fn spill(&mut self) -> Result<(), PluginError> {
        let mut writes = Vec::new();
        for (part, buffer) in self.buffers.iter_mut().enumerate() {
            if buffer.is_empty() {
                continue;
            }
            let key = schema::stage_chunk(&self.webinar, part as u32, self.chunks);
            writes.push((key.clone(), Some(encode(&key, buffer)?)));
            buffer.clear();
        }
        self.store.write_batch(writes)?;
        self.chunks += 1;
        self.buffered = 0;
        Ok(())
    }

    /// The slices: runs of parts of about [`SLICE_ITEMS`] items, so a
    /// webinar that fits one is one slice of every part.
    pub fn slices(&self) -> Vec<Range<u32>> {
        let mut slices = Vec::new();
        let (mut start, mut size) = (0, 0);
        for part in 0..PEOPLE_PARTS {
            let count = self.counts[part as usize];
            if size > 0 && size + count > SLICE_ITEMS {
                slices.push(start..part);
                (start, size) = (part, 0);
            }
            size += count;
        }
        slices.push(start..PEOPLE_PARTS);
        slices
    }

    /// The people of `parts`, from the buffers and the chunks spilled.
    pub fn take(&mut self, parts: Range<u32>) -> Result<Slice, PluginError> {
        let mut slice = Slice::default();
        for part in parts {
            let mut items = Vec::new();
            if self.chunks > 0 {
                let prefix = schema::stage_part_prefix(&self.webinar, part);
                for key in all_keys(self.store, &prefix)? {
                    items.extend(load::<Vec<Staged>>(self.store, &key)?.unwrap_or_default());
                }
            }
            items.append(&mut self.buffers[part as usize]);
            for item in items {
                match item {
                    Staged::Fact(fact) => slice.facts.push(fact),
                    Staged::Listed(registrant) => slice.listed.push(registrant),
                    Staged::Row(row) => slice.rows.push(row),
                }
            }
        }
        Ok(slice)
    }

    /// Drops whatever is staged: the sync is over.
    pub fn clear(mut self) -> Result<(), PluginError> {
        self.buffers.iter_mut().for_each(Vec::clear);
        if self.chunks > 0 {
            self.clear_stored()?;
        }
        Ok(())
    }

    fn clear_stored(&mut self) -> Result<(), PluginError> {
        let keys = all_keys(self.store, &schema::stage_prefix(&self.webinar))?;
        for chunk in keys.chunks(100) {
            self.store
                .write_batch(chunk.iter().map(|k| (k.clone(), None)).collect())?;
        }
        self.chunks = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::memory::MemoryStore;
    use crate::shell::sync::testing::row;

    fn registrant(n: usize) -> Registrant {
        Registrant {
            id: format!("r{n}"),
            email: format!("Person-{n}@Example.com "),
            first_name: "F".into(),
            last_name: "L".into(),
            status: "approved".into(),
            registered_ms: 1_000,
        }
    }

    #[test]
    fn issue_21_a_small_webinar_is_one_slice_never_written_to_storage() {
        let store = MemoryStore::default();
        let mut stage = Stage::new(&store, "81").unwrap();
        for n in 0..1_000 {
            stage.registrant(registrant(n)).unwrap();
        }
        assert_eq!(
            stage.slices(),
            Vec::from_iter(std::iter::once(0..PEOPLE_PARTS))
        );
        assert!(store.0.borrow().is_empty());
        let slice = stage.take(0..PEOPLE_PARTS).unwrap();
        assert_eq!(slice.listed.len(), 1_000);
    }

    #[test]
    fn issue_21_a_large_webinar_is_sliced_by_ledger_part_and_its_stage_cleared() {
        let store = MemoryStore::default();
        let mut stage = Stage::new(&store, "81").unwrap();
        for n in 0..20_000 {
            stage.registrant(registrant(n)).unwrap();
        }
        // An attendee who joined with another email is in their
        // registration's slice; a guest with neither is in no email's.
        stage.row(row("r7", "other@elsewhere.example")).unwrap();
        stage.row(row("", "")).unwrap();
        let slices = stage.slices();
        assert!(slices.len() >= 4, "{slices:?}");
        let mut seen = 0;
        for parts in slices {
            let slice = stage.take(parts.clone()).unwrap();
            assert!(slice.listed.len() <= SLICE_ITEMS, "{}", slice.listed.len());
            for r in &slice.listed {
                assert!(parts.contains(&part_of(&r.email.trim().to_ascii_lowercase())));
            }
            if slice.listed.iter().any(|r| r.id == "r7") {
                assert_eq!(
                    slice.rows.first().map(|r| r.registrant_id.as_str()),
                    Some("r7")
                );
            }
            if parts.contains(&part_of("")) {
                assert!(slice.rows.iter().any(|r| r.email.is_empty()));
            }
            seen += slice.listed.len();
        }
        assert_eq!(seen, 20_000);
        assert!(!store.0.borrow().is_empty(), "spilled");
        stage.clear().unwrap();
        assert!(store.0.borrow().is_empty(), "cleared");
    }

    #[test]
    fn issue_21_what_a_run_that_died_left_staged_is_dropped() {
        let store = MemoryStore::default();
        let mut died = Stage::new(&store, "81").unwrap();
        for n in 0..SLICE_ITEMS {
            died.registrant(registrant(n)).unwrap();
        }
        assert!(!store.0.borrow().is_empty());
        drop(died);
        let mut stage = Stage::new(&store, "81").unwrap();
        assert!(store.0.borrow().is_empty());
        stage.registrant(registrant(1)).unwrap();
        assert_eq!(stage.take(0..PEOPLE_PARTS).unwrap().listed.len(), 1);
    }
}
