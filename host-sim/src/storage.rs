//! The storage import, backed by SQLite: durable, atomic writes, one
//! namespace per installed plugin so installations never see each other's keys.
//! Values under `secret/` are sealed at rest (see [`crate::sealing`]).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use crate::sealing::{Sealer, is_secret};

/// Largest value the plugin may store; bigger ones are refused, not truncated.
pub const MAX_VALUE_BYTES: usize = 4 * 1024 * 1024;
/// Largest page `list_keys` returns, whatever the plugin asks for.
pub const MAX_PAGE: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("value for {key:?} is {size} bytes; the limit is {MAX_VALUE_BYTES}")]
    TooLarge { key: String, size: usize },
    #[error("the state database failed: {0}")]
    Backend(#[from] rusqlite::Error),
    #[error("the state database at {path} cannot be used: {reason}")]
    Open { path: String, reason: String },
}

/// A SQLite database holding every installation's keys.
#[derive(Clone)]
pub struct Database {
    conn: Arc<Mutex<Connection>>,
    sealer: Arc<Sealer>,
}

impl Database {
    /// A database file, created if missing. Survives restarts.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let open_error = |reason: String| StorageError::Open {
            path: path.display().to_string(),
            reason,
        };
        let conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        // WAL: readers don't block the writer; NORMAL sync is durable across
        // process crashes (a power cut may lose the last transaction).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| {
                open_error(format!(
                    "{e} (is it a SQLite database? move it away to start fresh)"
                ))
            })?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// A database in memory, for tests.
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StorageError> {
        // A rowid table with the key in its own index: values (a large
        // webinar's ledger is a MiB) stay out of the key b-tree. In a
        // WITHOUT ROWID table they sat in it, and every key lookup that
        // compared against such a row copied the whole value.
        const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kv (
                namespace TEXT NOT NULL,
                key       TEXT NOT NULL,
                value     BLOB NOT NULL,
                PRIMARY KEY (namespace, key)
            );";
        let existing: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'kv'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        if existing.is_some_and(|sql| sql.contains("WITHOUT ROWID")) {
            // A state.db from before: moved over in one transaction.
            conn.execute_batch(&format!(
                "BEGIN;
                 ALTER TABLE kv RENAME TO kv_without_rowid;
                 {SCHEMA}
                 INSERT INTO kv SELECT namespace, key, value FROM kv_without_rowid;
                 DROP TABLE kv_without_rowid;
                 COMMIT;"
            ))?;
        }
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            sealer: Arc::new(Sealer::ephemeral()),
        })
    }

    /// Seals secrets with `sealer` (by default a key of this process only).
    pub fn sealed_with(mut self, sealer: Sealer) -> Self {
        self.sealer = Arc::new(sealer);
        self
    }

    /// The keys of one installation.
    pub fn namespace(&self, name: &str) -> Namespace {
        Namespace {
            db: self.clone(),
            name: name.to_owned(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every
        // write is one statement or one transaction), so poisoning is moot.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One page of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPage {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

/// One installation's view of the database.
#[derive(Clone)]
pub struct Namespace {
    db: Database,
    name: String,
}

fn check_size(key: &str, value: &[u8]) -> Result<(), StorageError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StorageError::TooLarge {
            key: key.to_owned(),
            size: value.len(),
        });
    }
    Ok(())
}

impl Namespace {
    /// The stored form of `value`: sealed for a secret key.
    fn at_rest<'v>(&self, key: &str, value: &'v [u8]) -> std::borrow::Cow<'v, [u8]> {
        if is_secret(key) {
            self.db.sealer.seal(&self.name, key, value).into()
        } else {
            value.into()
        }
    }

    /// The plain form of a stored value; a secret that does not open
    /// (sealed under another key file) reads as absent.
    fn in_use(&self, key: &str, stored: Option<Vec<u8>>) -> Option<Vec<u8>> {
        match stored {
            Some(sealed) if is_secret(key) => self.db.sealer.open(&self.name, key, &sealed),
            other => other,
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let stored = read_one(&self.db.lock(), &self.name, key)?;
        Ok(self.in_use(key, stored))
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        check_size(key, value)?;
        let value = self.at_rest(key, value);
        write_one(&self.db.lock(), &self.name, key, Some(&value))?;
        Ok(())
    }

    pub fn delete(&self, key: &str) -> Result<(), StorageError> {
        write_one(&self.db.lock(), &self.name, key, None)?;
        Ok(())
    }

    /// Keys starting with `prefix`, in ascending order, after `cursor`.
    pub fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<KeyPage, StorageError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let conn = self.db.lock();
        // Keys are compared as bytes (BINARY collation); a prefix scan is a
        // range scan: prefix <= key, and key starts with prefix.
        let mut statement = conn.prepare_cached(
            "SELECT key FROM kv
             WHERE namespace = ?1 AND key >= ?2 AND key > ?3 AND substr(key, 1, length(?2)) = ?2
             ORDER BY key LIMIT ?4",
        )?;
        let keys = statement
            .query_map(
                params![self.name, prefix, cursor.unwrap_or(""), limit + 1],
                |row| row.get(0),
            )?
            .collect::<Result<Vec<String>, _>>()?;
        let mut keys = keys;
        let cursor = if keys.len() > limit as usize {
            keys.truncate(limit as usize);
            keys.last().cloned()
        } else {
            None
        };
        Ok(KeyPage { keys, cursor })
    }

    /// Sets (or deletes, with none) `key` only if it currently holds `expected`.
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, StorageError> {
        if let Some(new) = new {
            check_size(key, new)?;
        }
        let mut conn = self.db.lock();
        let tx = conn.transaction()?;
        let current = self.in_use(key, read_one(&tx, &self.name, key)?);
        if current.as_deref() != expected {
            return Ok(false);
        }
        let new = new.map(|v| self.at_rest(key, v));
        write_one(&tx, &self.name, key, new.as_deref())?;
        tx.commit()?;
        Ok(true)
    }

    /// Applies every write or none.
    pub fn write_batch(&self, writes: &[(String, Option<Vec<u8>>)]) -> Result<(), StorageError> {
        for (key, value) in writes {
            if let Some(value) = value {
                check_size(key, value)?;
            }
        }
        let mut conn = self.db.lock();
        let tx = conn.transaction()?;
        for (key, value) in writes {
            let value = value.as_deref().map(|v| self.at_rest(key, v));
            write_one(&tx, &self.name, key, value.as_deref())?;
        }
        tx.commit()?;
        Ok(())
    }
}

// Statements are prepared once per connection and reused (`prepare_cached`):
// parsing the SQL was a visible part of a 10,000-person sync.
fn read_one(
    conn: &Connection,
    namespace: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE namespace = ?1 AND key = ?2")?
        .query_row(params![namespace, key], |row| row.get(0))
        .optional()?)
}

fn write_one(
    conn: &Connection,
    namespace: &str,
    key: &str,
    value: Option<&[u8]>,
) -> Result<(), rusqlite::Error> {
    match value {
        Some(value) => conn
            .prepare_cached(
                "INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![namespace, key, value])?,
        None => conn
            .prepare_cached("DELETE FROM kv WHERE namespace = ?1 AND key = ?2")?
            .execute(params![namespace, key])?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_secrets_are_sealed_in_the_file_and_plain_to_the_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let key = dir.path().join(crate::sealing::KEY_FILE);
        {
            let db = Database::open(&path)
                .unwrap()
                .sealed_with(Sealer::from_file(&key).unwrap());
            let ns = db.namespace("default");
            ns.set("secret/zoom/token", b"eyJzoom-access-token")
                .unwrap();
            ns.write_batch(&[("secret/other".into(), Some(b"eyJbatch-secret".to_vec()))])
                .unwrap();
            assert!(
                ns.compare_and_swap(
                    "secret/other",
                    Some(b"eyJbatch-secret"),
                    Some(b"eyJswapped")
                )
                .unwrap()
            );
            ns.set("plain", b"eyJnot-a-secret").unwrap();
            assert_eq!(
                ns.get("secret/zoom/token").unwrap().unwrap(),
                b"eyJzoom-access-token"
            );
        }
        let mut file = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join("state.db-wal")) {
            file.extend(wal);
        }
        let holds = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
        assert!(
            holds(b"eyJnot-a-secret"),
            "the check reads the file's bytes"
        );
        for secret in [
            &b"eyJzoom-access-token"[..],
            b"eyJbatch-secret",
            b"eyJswapped",
        ] {
            assert!(!holds(secret), "{}", String::from_utf8_lossy(secret));
        }
        // Reopened with its key: readable; with another key: absent.
        let reopened = Database::open(&path)
            .unwrap()
            .sealed_with(Sealer::from_file(&key).unwrap());
        let ns = reopened.namespace("default");
        assert_eq!(ns.get("secret/other").unwrap().unwrap(), b"eyJswapped");
        drop(ns);
        drop(reopened);
        let elsewhere = Database::open(&path).unwrap();
        assert_eq!(
            elsewhere
                .namespace("default")
                .get("secret/zoom/token")
                .unwrap(),
            None
        );
    }

    fn ns() -> Namespace {
        Database::in_memory().unwrap().namespace("test")
    }

    #[test]
    fn set_get_delete() {
        let ns = ns();
        assert_eq!(ns.get("a").unwrap(), None);
        ns.set("a", b"1").unwrap();
        ns.set("a", b"2").unwrap();
        assert_eq!(ns.get("a").unwrap().as_deref(), Some(&b"2"[..]));
        ns.delete("a").unwrap();
        ns.delete("a").unwrap();
        assert_eq!(ns.get("a").unwrap(), None);
    }

    #[test]
    fn namespaces_do_not_see_each_other() {
        let db = Database::in_memory().unwrap();
        db.namespace("one").set("k", b"1").unwrap();
        assert_eq!(db.namespace("two").get("k").unwrap(), None);
        assert_eq!(
            db.namespace("two").list_keys("", None, 10).unwrap().keys,
            Vec::<String>::new()
        );
    }

    #[test]
    fn list_keys_pages_through_a_prefix_only() {
        let ns = ns();
        for key in ["w/1", "w/2", "w/3", "w/4", "w0", "x/1", "v/9"] {
            ns.set(key, b"").unwrap();
        }
        let first = ns.list_keys("w/", None, 3).unwrap();
        assert_eq!(first.keys, ["w/1", "w/2", "w/3"]);
        let second = ns.list_keys("w/", first.cursor.as_deref(), 3).unwrap();
        assert_eq!(
            second,
            KeyPage {
                keys: vec!["w/4".into()],
                cursor: None
            }
        );
    }

    #[test]
    fn prefixes_with_like_wildcards_are_literal() {
        let ns = ns();
        ns.set("a%b", b"").unwrap();
        ns.set("axb", b"").unwrap();
        assert_eq!(ns.list_keys("a%", None, 10).unwrap().keys, ["a%b"]);
    }

    #[test]
    fn compare_and_swap_only_swaps_the_expected_value() {
        let ns = ns();
        assert!(ns.compare_and_swap("k", None, Some(b"1")).unwrap());
        assert!(!ns.compare_and_swap("k", None, Some(b"2")).unwrap());
        assert!(!ns.compare_and_swap("k", Some(b"0"), Some(b"2")).unwrap());
        assert!(ns.compare_and_swap("k", Some(b"1"), Some(b"2")).unwrap());
        assert!(ns.compare_and_swap("k", Some(b"2"), None).unwrap());
        assert_eq!(ns.get("k").unwrap(), None);
    }

    #[test]
    fn a_batch_with_an_oversized_value_writes_nothing() {
        let ns = ns();
        let writes = vec![
            ("a".to_owned(), Some(b"1".to_vec())),
            ("b".to_owned(), Some(vec![0; MAX_VALUE_BYTES + 1])),
        ];
        assert!(matches!(
            ns.write_batch(&writes),
            Err(StorageError::TooLarge { .. })
        ));
        assert_eq!(ns.get("a").unwrap(), None);
    }

    #[test]
    fn a_database_of_the_earlier_schema_keeps_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY (namespace, key)) WITHOUT ROWID;
             INSERT INTO kv VALUES ('p', 'ledger/1', x'7b7d');",
        )
        .unwrap();
        drop(conn);
        let ns = Database::open(&path).unwrap().namespace("p");
        assert_eq!(ns.get("ledger/1").unwrap(), Some(b"{}".to_vec()));
        ns.set("ledger/1", b"[]").unwrap();
        // Reopening again is not a second migration.
        let ns = Database::open(&path).unwrap().namespace("p");
        assert_eq!(ns.get("ledger/1").unwrap(), Some(b"[]".to_vec()));
    }

    #[test]
    fn a_file_database_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Database::open(&path)
            .unwrap()
            .namespace("p")
            .set("k", b"v")
            .unwrap();
        let reopened = Database::open(&path).unwrap();
        assert_eq!(
            reopened.namespace("p").get("k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        std::fs::write(
            &path,
            b"this is not sqlite, just some text that is long enough to matter",
        )
        .unwrap();
        let err = Database::open(&path).err().unwrap().to_string();
        assert!(err.contains("state.db"), "{err}");
    }
}
