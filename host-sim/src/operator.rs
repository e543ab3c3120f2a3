//! The operator's credential and the state directory's privacy (issue 19).
//!
//! `host-sim serve`'s operator routes (settings, sync, audit) take a bearer
//! token. It comes from `serve.admin_token` in the configuration, or is
//! generated on the first start and kept in `state_dir/admin-token`, a file
//! of its own (0600): the database `state.db` alone does not hand it out.
//! The state directory is created 0700 and its files 0600, so other users
//! of the machine read none of it.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{HostConfig, Secret};

/// The file that keeps a generated admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Where the operator's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Configured,
    /// Read from `state_dir/admin-token`.
    Stored,
    /// Generated now and stored: show it once.
    Generated,
}

/// The operator's token: the configured one, else the stored one, else a
/// new one written to the state directory.
pub fn admin_token(config: &HostConfig) -> std::io::Result<(Secret, TokenSource)> {
    if let Some(token) = &config.serve.admin_token {
        return Ok((token.clone(), TokenSource::Configured));
    }
    let path = config.state_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((Secret::new(text.trim()), TokenSource::Stored));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok((rotate(&config.state_dir)?, TokenSource::Generated))
}

/// A new token, replacing any stored one.
pub fn rotate(state_dir: &Path) -> std::io::Result<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let token = format!("hsa_{}", hex::encode(bytes));
    private_dir(state_dir)?;
    write_private(&state_dir.join(ADMIN_TOKEN_FILE), token.as_bytes())?;
    Ok(Secret::new(token))
}

/// Whether `presented` is the token, in time that does not depend on where
/// they differ (both are hashed first, so their lengths do not leak either).
pub fn token_matches(token: &Secret, presented: &str) -> bool {
    let expected = Sha256::digest(token.expose().as_bytes());
    let given = Sha256::digest(presented.as_bytes());
    expected.ct_eq(&given).into()
}

/// Creates `dir` (and its parents) 0700; an existing one is narrowed to 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Makes sure `path` exists and is 0600 (SQLite gives its WAL and
/// shared-memory files the database file's mode).
pub fn private_file(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Writes `bytes` to `path`, readable by this user only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_generated_token_is_kept_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = HostConfig {
            state_dir: dir.path().join("state"),
            ..HostConfig::default()
        };
        let (token, source) = admin_token(&config).unwrap();
        assert_eq!(source, TokenSource::Generated);
        assert!(token.expose().len() > 60);
        assert_eq!(mode(&config.state_dir), 0o700);
        assert_eq!(mode(&config.state_dir.join(ADMIN_TOKEN_FILE)), 0o600);
        let (again, source) = admin_token(&config).unwrap();
        assert_eq!((again, source), (token.clone(), TokenSource::Stored));
        let rotated = rotate(&config.state_dir).unwrap();
        assert_ne!(rotated, token);
        assert_eq!(admin_token(&config).unwrap().0, rotated);
    }

    #[test]
    fn a_configured_token_is_used_and_nothing_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = HostConfig {
            state_dir: dir.path().to_owned(),
            ..HostConfig::default()
        };
        config.serve.admin_token = Some(Secret::new("operator-token"));
        let (token, source) = admin_token(&config).unwrap();
        assert_eq!(
            (token.expose(), source),
            ("operator-token", TokenSource::Configured)
        );
        assert!(!dir.path().join(ADMIN_TOKEN_FILE).exists());
    }

    #[test]
    fn only_the_token_itself_matches() {
        let token = Secret::new("hsa_0123");
        assert!(token_matches(&token, "hsa_0123"));
        for wrong in ["", "hsa_012", "hsa_01234", "HSA_0123", "hsa_0124"] {
            assert!(!token_matches(&token, wrong), "{wrong:?}");
        }
    }

    #[test]
    fn private_files_are_0600_even_when_they_existed_wider() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.db");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"x", "the contents stay");
    }
}
