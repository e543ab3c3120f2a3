//! Secrets at rest (issue 19). What the plugin stores under `secret/` (the
//! Zoom access token it caches between runs) is sealed by the host's
//! storage with XChaCha20-Poly1305 under a key kept outside the database:
//! `state_dir/state.key` (0600), or the file `state.key_file` names (a
//! secrets mount, another disk). A copied `state.db` alone then hands out
//! no token. Each value is bound to its namespace and key (the AEAD's
//! associated data), so a sealed value moved to another key does not open.
//!
//! Why seal rather than never store: the token lives an hour and every
//! plugin call is a fresh instance, so not storing it means one OAuth
//! request per webhook-driven run; Zoom counts those too. A value sealed
//! under another key (the database copied to a machine with another key
//! file) reads as absent: the plugin fetches a new token, nothing breaks.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Keys under this prefix are sealed at rest.
pub const SECRET_PREFIX: &str = "secret/";
/// The key file's name in the state directory, unless configured elsewhere.
pub const KEY_FILE: &str = "state.key";

/// Marks a sealed value (and its format's version).
const MAGIC: &[u8; 4] = b"hss1";
const NONCE_BYTES: usize = 24;

pub fn is_secret(key: &str) -> bool {
    key.starts_with(SECRET_PREFIX)
}

/// Seals and opens the values of secret keys.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS's generator failing is not something the host can go on without.
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    bytes
}

impl Sealer {
    /// A key for this process only (an in-memory state): secrets do not
    /// outlive it, and need not.
    pub fn ephemeral() -> Self {
        Self::from_key(&random::<32>())
    }

    fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key in `path`, created (32 random bytes, 0600) when missing.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    std::io::Error::other(format!(
                        "{} holds {} bytes, not a 32-byte state key: move it away to start with a new one (the stored Zoom token is then fetched again)",
                        path.display(),
                        bytes.len()
                    ))
                })?;
                crate::operator::private_file(path)?;
                Ok(Self::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    crate::operator::private_dir(dir)?;
                }
                let key = random::<32>();
                crate::operator::write_private(path, &key)?;
                Ok(Self::from_key(&key))
            }
            Err(e) => Err(e),
        }
    }

    fn aad(namespace: &str, key: &str) -> Vec<u8> {
        [namespace.as_bytes(), b"\0", key.as_bytes()].concat()
    }

    pub fn seal(&self, namespace: &str, key: &str, plain: &[u8]) -> Vec<u8> {
        let nonce = random::<NONCE_BYTES>();
        let aad = Self::aad(namespace, key);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            // Encryption fails only past the cipher's length limit (256 GiB).
            .expect("a value within the storage's size limit seals");
        [&MAGIC[..], &nonce, &sealed].concat()
    }

    /// The plain value; none when it was sealed under another key, for
    /// another key name, or is not a sealed value at all.
    pub fn open(&self, namespace: &str, key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let rest = sealed.strip_prefix(&MAGIC[..])?;
        if rest.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_BYTES);
        let aad = Self::aad(namespace, key);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let sealer = Sealer::ephemeral();
        let sealed = sealer.seal("default", "secret/zoom/token", b"eyJ-token");
        assert!(!sealed.windows(9).any(|w| w == b"eyJ-token"));
        assert_eq!(
            sealer
                .open("default", "secret/zoom/token", &sealed)
                .as_deref(),
            Some(&b"eyJ-token"[..])
        );
        assert_eq!(sealer.open("default", "secret/other", &sealed), None);
        assert_eq!(sealer.open("another", "secret/zoom/token", &sealed), None);
        assert_eq!(
            Sealer::ephemeral().open("default", "secret/zoom/token", &sealed),
            None
        );
        assert_eq!(sealer.open("default", "secret/zoom/token", b"plain"), None);
    }

    #[test]
    fn the_key_file_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join(KEY_FILE);
        let first = Sealer::from_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = first.seal("n", "secret/k", b"v");
        let again = Sealer::from_file(&path).unwrap();
        assert_eq!(
            again.open("n", "secret/k", &sealed).as_deref(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn a_key_file_of_the_wrong_size_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::write(&path, b"short").unwrap();
        let error = Sealer::from_file(&path).unwrap_err().to_string();
        assert!(error.contains("not a 32-byte state key"), "{error}");
    }
}
