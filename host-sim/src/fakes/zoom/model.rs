//! The fake Zoom account: users, webinars with their registrants,
//! participants and recordings, and Zoom Events. Scenario files describe
//! an account in this shape; the API answers are derived from it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZoomAccount {
    pub users: Vec<User>,
    pub webinars: Vec<Webinar>,
    /// Zoom Events with the webinars that are their sessions (R14).
    pub events: Vec<ZoomEvent>,
    /// The scopes the Server-to-Server OAuth app was granted, as the token
    /// answer's `scope` lists them; none: every scope the plugin uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    #[serde(default)]
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webinar {
    pub id: u64,
    #[serde(default)]
    pub uuid: String,
    /// The host's email; must be one of the account's users.
    pub host: String,
    pub topic: String,
    /// 5 webinar, 6 recurring without fixed time, 9 recurring with fixed time.
    #[serde(default = "webinar_type")]
    pub r#type: u8,
    pub start_time: String,
    /// Scheduled length in minutes.
    pub duration: u32,
    #[serde(default = "utc")]
    pub timezone: String,
    /// 0 automatic approval, 1 manual, 2 no registration.
    #[serde(default)]
    pub approval_type: u8,
    /// Registration fields required beyond first name and email, e.g. "phone", "org".
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// Required custom questions, by title.
    #[serde(default)]
    pub required_questions: Vec<String>,
    #[serde(default)]
    pub registrants: Vec<Registrant>,
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// When the webinar actually ran; none while it has not ended.
    #[serde(default)]
    pub ran: Option<Ran>,
    #[serde(default)]
    pub recording: Option<Recording>,
}

fn webinar_type() -> u8 {
    5
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ran {
    pub start_time: String,
    pub end_time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registrant {
    #[serde(default)]
    pub id: String,
    pub email: String,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// approved, pending, denied or cancelled.
    #[serde(default = "approved")]
    pub status: String,
    #[serde(default)]
    pub create_time: String,
}

fn approved() -> String {
    "approved".into()
}

/// One person in the participants report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    /// The email the person signed in with; Zoom reports it only when they registered.
    #[serde(default)]
    pub email: String,
    /// The registrant they joined as (by registrant email), if they registered.
    #[serde(default)]
    pub registrant: Option<String>,
    /// Join/leave segments as minutes from the actual start: `[[0, 30], [35, 60]]`.
    pub segments: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    #[serde(default)]
    pub files: Vec<RecordingFile>,
    /// Moved to the trash or deleted in Zoom.
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingFile {
    #[serde(default)]
    pub id: String,
    /// MP4, M4A, TRANSCRIPT, CHAT ...
    pub file_type: String,
    /// processing or completed.
    #[serde(default = "completed")]
    pub status: String,
    /// For TRANSCRIPT (VTT) and CHAT files: what a download returns.
    #[serde(default)]
    pub content: String,
}

fn completed() -> String {
    "completed".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomEvent {
    pub id: String,
    pub name: String,
    pub webinar_ids: Vec<u64>,
}

impl ZoomAccount {
    /// Fills in the ids and uuids a scenario may leave out, deterministically.
    pub fn complete(&mut self) {
        for (i, user) in self.users.iter_mut().enumerate() {
            if user.id.is_empty() {
                user.id = format!("zu{:020}", i + 1);
            }
        }
        for webinar in &mut self.webinars {
            if webinar.uuid.is_empty() {
                webinar.uuid = format!("wu{}==", webinar.id);
            }
            for (i, registrant) in webinar.registrants.iter_mut().enumerate() {
                if registrant.id.is_empty() {
                    registrant.id = format!("r{}x{:06}", webinar.id % 100_000, i + 1);
                }
                if registrant.create_time.is_empty() {
                    registrant.create_time = webinar.start_time.clone();
                }
            }
            if let Some(recording) = &mut webinar.recording {
                for (i, file) in recording.files.iter_mut().enumerate() {
                    if file.id.is_empty() {
                        file.id = format!("rf{}x{}", webinar.id, i + 1);
                    }
                }
            }
        }
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn webinar(&self, id: u64) -> Option<&Webinar> {
        self.webinars.iter().find(|w| w.id == id)
    }

    pub fn webinar_mut(&mut self, id: u64) -> Option<&mut Webinar> {
        self.webinars.iter_mut().find(|w| w.id == id)
    }
}

impl Webinar {
    pub fn join_url(&self) -> String {
        format!("https://us06web.zoom.us/w/{}", self.id)
    }

    pub fn registrant_join_url(&self, registrant_id: &str) -> String {
        format!("https://us06web.zoom.us/w/{}?tk={registrant_id}", self.id)
    }

    pub fn registrant_by_email(&self, email: &str) -> Option<&Registrant> {
        self.registrants
            .iter()
            .find(|r| r.email.eq_ignore_ascii_case(email))
    }
}
