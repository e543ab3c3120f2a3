//! Zoom REST v2's answers as the sync reads them, as serde types: the
//! fields Zoom documents for each endpoint, each defaulted, so a field
//! Zoom leaves out reads as empty instead of failing the whole page.
//! Only this adapter knows these shapes; the sync gets domain types.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id Zoom sends as a number or a string (webinar ids are numbers,
/// event ids strings).
pub fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `GET /users` — <https://developers.zoom.us/docs/api/users/#tag/users/GET/users>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct User {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// `GET /webinars/{webinarId}` — <https://developers.zoom.us/docs/api/meetings/#tag/webinars/GET/webinars/{webinarId}>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Webinar {
    pub topic: String,
    pub host_email: String,
    pub join_url: String,
    pub start_time: String,
    /// Minutes; Zoom leaves it out of some recurring webinars.
    pub duration: Option<u64>,
}

/// `GET /webinars/{webinarId}/registrants` — <https://developers.zoom.us/docs/api/meetings/#tag/webinars/GET/webinars/{webinarId}/registrants>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Registrant {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub create_time: String,
}

/// `GET /report/webinars/{webinarId}/participants` — <https://developers.zoom.us/docs/api/rest/reference/zoom-api/methods/#operation/reportWebinarParticipants>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Participant {
    pub name: String,
    pub user_email: String,
    /// Only with `include_fields=registrant_id`.
    pub registrant_id: String,
    pub join_time: String,
    pub leave_time: String,
}

/// `GET /report/webinars/{webinarId}` — <https://developers.zoom.us/docs/api/accounts/#tag/reports/GET/report/webinars/{webinarId}>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebinarDetails {
    pub start_time: String,
    pub end_time: String,
}

/// `GET /users/{userId}/webinars` — <https://developers.zoom.us/docs/api/meetings/#tag/webinars/GET/users/{userId}/webinars>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListedWebinar {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub start_time: String,
}

/// `GET /zoom_events/events` — <https://developers.zoom.us/docs/api/rest/zoom-events-api/>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Event {
    #[serde(deserialize_with = "id_text")]
    pub event_id: String,
}

/// `GET /zoom_events/events/{eventId}/sessions`: a session names its
/// webinar in `webinar_id` (`meeting_id` is a meeting session's).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Session {
    #[serde(deserialize_with = "id_text")]
    pub webinar_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Sessions {
    pub sessions: Vec<Session>,
}

/// `GET /meetings/{meetingId}/recordings` (a webinar's id works as the
/// meeting id) — <https://developers.zoom.us/docs/api/meetings/#tag/cloud-recording/GET/meetings/{meetingId}/recordings>
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Recording {
    pub share_url: String,
    pub start_time: String,
    pub duration: u64,
    pub recording_files: Vec<RecordingFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordingFile {
    pub file_type: String,
    pub status: String,
    pub download_url: String,
    pub play_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_text_whether_zoom_sends_a_number_or_a_string() {
        let listed: ListedWebinar =
            serde_json::from_str(r#"{"id": 81000000001, "start_time": "x"}"#).unwrap();
        assert_eq!(listed.id, "81000000001");
        let session: Session = serde_json::from_str(r#"{"webinar_id": "82"}"#).unwrap();
        assert_eq!(session.webinar_id, "82");
        let none: Session = serde_json::from_str(r#"{"webinar_id": null}"#).unwrap();
        assert_eq!(none.webinar_id, "");
    }

    #[test]
    fn a_field_zoom_leaves_out_reads_as_empty() {
        let webinar: Webinar = serde_json::from_str(r#"{"topic": "T"}"#).unwrap();
        assert_eq!((webinar.topic.as_str(), webinar.duration), ("T", None));
        let file: RecordingFile = serde_json::from_str("{}").unwrap();
        assert_eq!(file.download_url, "");
    }
}
