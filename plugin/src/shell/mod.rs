//! The shell: ports to the outside (storage, config, HTTP; Zoom and the CRM
//! in `ports`), the adapters that speak Zoom's and HubSpot's wire formats
//! (`zoom`, `crm`), and the flows that use them (`intake`, `sync`,
//! `action`, `install`). No bindings here: `edge` implements storage,
//! config and HTTP over the WIT imports; tests implement every port in
//! memory.

pub mod action;
pub mod action_callbacks;
pub mod audit;
pub mod crm;
pub mod error;
pub mod http;
pub mod install;
pub mod intake;
pub mod ports;
pub mod schema;
pub mod settings;
pub mod sync;
pub mod zoom;

pub use error::PluginError;

/// Read-only configuration: credentials and account ids.
pub trait Config {
    /// The value of `key`; none when it is not configured.
    fn get(&self, key: &str) -> Result<Option<String>, String>;
}

/// The host's durable key-value storage.
pub trait Store {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PluginError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), PluginError>;
    fn delete(&self, key: &str) -> Result<(), PluginError>;
    /// Keys starting with `prefix`, ascending, after `cursor`; and the cursor of the next page.
    fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<String>, Option<String>), PluginError>;
    /// Sets `key` to `new` (none: deletes it) only if it holds `expected`
    /// (none: absent).
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, PluginError>;
    /// Sets (or, with none, deletes) every key, all or none: one host
    /// transaction instead of one per key.
    fn write_batch(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), PluginError>;
}

/// Every key under `prefix`.
pub fn all_keys(store: &dyn Store, prefix: &str) -> Result<Vec<String>, PluginError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (keys, next) = store.list_keys(prefix, cursor.as_deref(), 1000)?;
        all.extend(keys);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// A stored JSON value, or none.
pub fn load<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> Result<Option<T>, PluginError> {
    store.get(key)?.map(|bytes| decode(key, &bytes)).transpose()
}

/// The JSON value stored at `key`, read from its bytes.
pub fn decode<T: serde::de::DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, PluginError> {
    serde_json::from_slice(bytes)
        .map_err(|e| PluginError::Storage(format!("{key} holds unreadable data: {e}")))
}

/// The bytes stored for a JSON value.
pub fn encode<T: serde::Serialize>(key: &str, value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|e| PluginError::Storage(format!("cannot encode {key}: {e}")))
}

pub fn save<T: serde::Serialize>(
    store: &dyn Store,
    key: &str,
    value: &T,
) -> Result<(), PluginError> {
    store.set(key, &encode(key, value)?)
}

/// Saves many JSON values, keyed, in one write.
pub fn save_all<T: serde::Serialize>(
    store: &dyn Store,
    values: &[(String, T)],
) -> Result<(), PluginError> {
    let writes = values
        .iter()
        .map(|(key, value)| Ok((key.clone(), Some(encode(key, value)?))))
        .collect::<Result<Vec<_>, PluginError>>()?;
    if writes.is_empty() {
        return Ok(());
    }
    store.write_batch(writes)
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory store for the shell's tests.
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::{PluginError, Store};

    #[derive(Default)]
    pub struct MemoryStore(pub RefCell<BTreeMap<String, Vec<u8>>>);

    impl Store for MemoryStore {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PluginError> {
            Ok(self.0.borrow().get(key).cloned())
        }

        fn set(&self, key: &str, value: &[u8]) -> Result<(), PluginError> {
            self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
            Ok(())
        }

        fn delete(&self, key: &str) -> Result<(), PluginError> {
            self.0.borrow_mut().remove(key);
            Ok(())
        }

        fn list_keys(
            &self,
            prefix: &str,
            cursor: Option<&str>,
            limit: u32,
        ) -> Result<(Vec<String>, Option<String>), PluginError> {
            let keys: Vec<String> = self
                .0
                .borrow()
                .keys()
                .filter(|k| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c))
                .take(limit as usize + 1)
                .cloned()
                .collect();
            if keys.len() > limit as usize {
                let page = keys[..limit as usize].to_vec();
                let next = page.last().cloned();
                Ok((page, next))
            } else {
                Ok((keys, None))
            }
        }

        fn compare_and_swap(
            &self,
            key: &str,
            expected: Option<&[u8]>,
            new: Option<&[u8]>,
        ) -> Result<bool, PluginError> {
            let mut map = self.0.borrow_mut();
            if map.get(key).map(Vec::as_slice) != expected {
                return Ok(false);
            }
            match new {
                Some(new) => map.insert(key.to_owned(), new.to_vec()),
                None => map.remove(key),
            };
            Ok(true)
        }

        fn write_batch(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), PluginError> {
            let mut map = self.0.borrow_mut();
            for (key, value) in writes {
                match value {
                    Some(value) => map.insert(key, value),
                    None => map.remove(&key),
                };
            }
            Ok(())
        }
    }
}

/// Configuration keys the plugin reads.
pub mod keys {
    pub const ZOOM_ACCOUNT_ID: &str = "zoom.account-id";
    pub const ZOOM_CLIENT_ID: &str = "zoom.client-id";
    pub const ZOOM_CLIENT_SECRET: &str = "zoom.client-secret";
    pub const ZOOM_WEBHOOK_SECRET_TOKEN: &str = "zoom.webhook-secret-token";
    pub const CRM_ACCESS_TOKEN: &str = "crm.access-token";
    pub const CRM_APP_ID: &str = "crm.app-id";
    pub const CRM_CLIENT_SECRET: &str = "crm.client-secret";
    /// Which API activity events (R10) go through: `timeline`,
    /// `custom-events` (unset) or `off` (`crm::activity`).
    pub const CRM_ACTIVITY_EVENTS: &str = "crm.activity-events";
    /// The CRM developer account's API key: timeline templates take only it.
    pub const CRM_DEVELOPER_API_KEY: &str = "crm.developer-api-key";
    /// Where the host receives webhooks; CRM signatures cover the full URI.
    pub const HOST_PUBLIC_URL: &str = "host.public-url";
}

/// A configured value that must be present.
pub fn required(config: &dyn Config, key: &str) -> Result<String, PluginError> {
    match config.get(key) {
        Ok(Some(value)) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(PluginError::Configuration(format!(
            "{key} is not configured: set it in the host's configuration for this installation"
        ))),
        Err(e) => Err(PluginError::Configuration(format!(
            "could not read {key}: {e}"
        ))),
    }
}
