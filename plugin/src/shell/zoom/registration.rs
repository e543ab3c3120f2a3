//! What "Add contact to Zoom webinar" (R21-R24) asks Zoom, in Zoom's REST
//! v2 shapes: the webinar's registration terms, the questions its form
//! requires, and the registration itself. The action sees domain types.

use serde::{Deserialize, Serialize};

use super::ZoomClient;
pub use crate::core::action::{Approval, RegistrationTerms};
use crate::core::action::{Registered, RequiredQuestion, ZoomError};
use crate::shell::PluginError;
use crate::shell::http::Method;
use crate::shell::ports::ZoomRegistration;

#[derive(Deserialize)]
struct WebinarWire {
    #[serde(default)]
    host_email: String,
    #[serde(rename = "type", default)]
    kind: u64,
    #[serde(default)]
    settings: SettingsWire,
}

#[derive(Deserialize, Default)]
struct SettingsWire {
    approval_type: Option<u64>,
}

/// `GET /webinars/{webinarId}/registrants/questions`.
#[derive(Deserialize)]
struct QuestionsWire {
    #[serde(default)]
    questions: Vec<QuestionWire>,
    #[serde(default)]
    custom_questions: Vec<CustomQuestionWire>,
}

#[derive(Deserialize)]
struct QuestionWire {
    #[serde(default)]
    field_name: String,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
struct CustomQuestionWire {
    #[serde(default)]
    title: String,
    #[serde(default)]
    required: bool,
}

/// `POST /webinars/{webinarId}/registrants`' body: the three fields sent.
#[derive(Serialize)]
struct RegistrantWire<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

/// Zoom's error body: `{code, message, errors: [{field, message}]}`.
#[derive(Deserialize, Default)]
struct ErrorWire {
    code: Option<u64>,
    message: Option<String>,
    #[serde(default)]
    errors: Vec<FieldErrorWire>,
}

#[derive(Deserialize)]
struct FieldErrorWire {
    field: Option<String>,
}

impl ZoomRegistration for ZoomClient<'_> {
    /// The webinar's registration terms; none when the connected account
    /// cannot see it (R22).
    fn registration_terms(&self, webinar: &str) -> Result<Option<RegistrationTerms>, PluginError> {
        let Some(details) = self.get(&format!("/webinars/{webinar}"))? else {
            return Ok(None);
        };
        let wire: WebinarWire = serde_json::from_value(details).map_err(|e| {
            PluginError::ZoomUnavailable(format!("Zoom's webinar {webinar} could not be read: {e}"))
        })?;
        Ok(Some(RegistrationTerms {
            host_email: wire.host_email,
            one_time: wire.kind == 5,
            approval: match wire.settings.approval_type {
                Some(1) => Approval::Manual,
                Some(2) => Approval::NoRegistration,
                _ => Approval::Automatic,
            },
        }))
    }

    /// The questions the webinar's registration form requires (R24); none
    /// when Zoom has no form for it.
    fn required_questions(
        &self,
        webinar: &str,
    ) -> Result<Option<Vec<RequiredQuestion>>, PluginError> {
        let path = format!("/webinars/{webinar}/registrants/questions");
        let Some(answer) = self.get(&path)? else {
            return Ok(None);
        };
        let wire: QuestionsWire = serde_json::from_value(answer).map_err(|e| {
            PluginError::ZoomUnavailable(format!(
                "Zoom's registration questions could not be read: {e}"
            ))
        })?;
        let fields = wire
            .questions
            .into_iter()
            .filter(|q| q.required && !q.field_name.is_empty())
            .map(|q| RequiredQuestion::Field(q.field_name));
        let custom = wire
            .custom_questions
            .into_iter()
            .filter(|q| q.required && !q.title.is_empty())
            .map(|q| RequiredQuestion::Custom(q.title));
        Ok(Some(fields.chain(custom).collect()))
    }

    /// Registers a person for the webinar: Zoom's registrant, or Zoom's
    /// refusal for the action to explain (R23).
    fn add_registrant(
        &self,
        webinar: &str,
        email: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<Result<Registered, ZoomError>, PluginError> {
        let body = serde_json::to_value(RegistrantWire {
            email,
            first_name,
            last_name,
        })
        .unwrap_or_default();
        let path = format!("/webinars/{webinar}/registrants");
        let response = self.call(Method::Post, &path, Some(&body))?;
        let answer = response.json().unwrap_or_default();
        if !response.is_success() {
            let error: ErrorWire = serde_json::from_value(answer).unwrap_or_default();
            return Ok(Err(ZoomError {
                status: response.status,
                code: error.code,
                message: error.message,
                fields: error.errors.into_iter().filter_map(|e| e.field).collect(),
            }));
        }
        Ok(Ok(Registered {
            registrant_id: text(&answer["registrant_id"]),
            join_url: text(&answer["join_url"]),
        }))
    }
}

/// A field Zoom sends as a number or a string.
fn text(value: &serde_json::Value) -> String {
    super::wire::id_text(value).unwrap_or_default()
}
