//! The CRM's app webhooks: contact deletion, privacy deletion and restore,
//! as a JSON array, signed with HubSpot's v3 signature.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use super::FakeCrm;

/// The CRM's app webhook subscriptions the plugin handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ContactChange {
    #[serde(rename = "contact.deletion")]
    Deletion,
    #[serde(rename = "contact.privacyDeletion")]
    PrivacyDeletion,
    #[serde(rename = "contact.restore")]
    Restore,
}

impl ContactChange {
    pub fn subscription_type(self) -> &'static str {
        match self {
            ContactChange::Deletion => "contact.deletion",
            ContactChange::PrivacyDeletion => "contact.privacyDeletion",
            ContactChange::Restore => "contact.restore",
        }
    }
}

/// `X-HubSpot-Signature-v3`: base64(HMAC-SHA256(client secret, method + uri + body + timestamp)).
pub fn signature_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp_ms: i64,
) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(client_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl FakeCrm {
    /// Applies `change` to the contact with primary email `email` and returns
    /// the webhook body the CRM sends for it; none when there is no such contact.
    pub fn change_contact(&self, email: &str, change: ContactChange) -> Option<Value> {
        let now = self.now_ms();
        let mut state = self.lock();
        let id = state
            .contacts
            .values()
            .find(|c| c.email().eq_ignore_ascii_case(email))
            .map(|c| c.id)?;
        state.contacts_changed();
        match change {
            ContactChange::Deletion => state.contacts.get_mut(&id)?.archived = true,
            ContactChange::PrivacyDeletion => {
                state.contacts.remove(&id);
            }
            ContactChange::Restore => state.contacts.get_mut(&id)?.archived = false,
        }
        let event_id = state.id();
        Some(json!([{
            "eventId": event_id,
            "subscriptionId": 1,
            "portalId": 62515,
            "appId": 1000001,
            "occurredAt": now,
            "subscriptionType": change.subscription_type(),
            "attemptNumber": 0,
            "objectId": id,
            "changeFlag": match change { ContactChange::Restore => "RESTORED", _ => "DELETED" },
            "changeSource": "CRM_UI",
        }]))
    }

    /// The headers of a webhook delivery of `body` to `uri`.
    pub fn webhook_headers(
        client_secret: &str,
        uri: &str,
        body: &[u8],
        timestamp_ms: i64,
    ) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), "application/json".into()),
            (
                "x-hubspot-request-timestamp".into(),
                timestamp_ms.to_string(),
            ),
            (
                "x-hubspot-signature-v3".into(),
                signature_v3(client_secret, "POST", uri, body, timestamp_ms),
            ),
        ]
    }
}
