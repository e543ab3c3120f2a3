//! The workflow action "Add contact to Zoom webinar" (R21-R24): what it
//! accepts, and what each of Zoom's refusals means to a marketer. The shell
//! does the calls; every decision and every message lives here.

use super::exclusions::{Directory, Exclusion, classify};

/// Why the action did not register the contact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This action is not offered by the Zoom webinars app: {action:?}.")]
    UnknownAction { action: String },
    /// HubSpot sends a property input already resolved, so an empty
    /// property arrives as no webinar ID at all: the message names both.
    #[error(
        "The action received no webinar ID: fill in \"Webinar ID\" in the workflow action, or the contact property it reads."
    )]
    MissingWebinarId,
    #[error(
        "The contact's property {property:?} holds no webinar ID: fill it in, or give a fixed webinar ID."
    )]
    EmptyProperty { property: String },
    /// R21.
    #[error(
        "The webinar ID must be digits only, without spaces or dashes (e.g. 81234567890); received {value:?}."
    )]
    InvalidWebinarId { value: String },
    #[error(
        "Contact {contact_id} was not found in the CRM (deleted or merged): nothing was registered."
    )]
    ContactNotFound { contact_id: String },
    #[error("The contact has no email address; Zoom registers people by email.")]
    ContactWithoutEmail,
    #[error(
        "The contact has no first name; Zoom requires one to register. Fill in the contact's first name."
    )]
    ContactWithoutFirstName,
    /// R5, R17, R18: the sync's own rules about who may be a contact.
    #[error("{email} is not registered: {reason}.")]
    LeftOut { email: String, reason: String },
    /// R22: Zoom answers "does not exist" for webinars of other accounts too.
    #[error(
        "Webinar {webinar} was not found on the Zoom account connected to the CRM's primary business unit (account {account}): check the webinar ID, or connect the Zoom account that hosts it."
    )]
    NotOnConnectedAccount { webinar: String, account: String },
    #[error("Webinar {webinar} has ended: registration is closed.")]
    WebinarOver { webinar: String },
    #[error(
        "Registration is not enabled for webinar {webinar}: turn on \"Registration required\" for the webinar in Zoom."
    )]
    RegistrationNotEnabled { webinar: String },
    /// R23, Zoom's code 3027.
    #[error("Webinar host cannot register for the webinar")]
    HostCannotRegister,
    /// R24.
    #[error(
        "Webinar {webinar} requires registration fields this action does not send (it sends first name, last name and email only): {}. Make them optional in the webinar's registration settings in Zoom.",
        fields.join(", ")
    )]
    OtherRequiredFields {
        webinar: String,
        fields: Vec<String>,
    },
    #[error(
        "Zoom allows at most 3 registrations a day for the same person and webinar; {email} reached it. Try again tomorrow."
    )]
    DailyLimit { email: String },
    #[error("Zoom refused the registration: {message}")]
    ZoomRefused { message: String },
    /// Not the marketer's to fix: the platform operator's.
    #[error("The Zoom webinars app is not set up: {detail}")]
    NotConfigured { detail: String },
    #[error("{service} is unavailable ({detail}); the action will be retried.")]
    Unavailable {
        service: &'static str,
        detail: String,
    },
}

impl Refusal {
    /// Running the same execution later may succeed without anyone changing anything.
    pub fn retryable(&self) -> bool {
        matches!(self, Refusal::Unavailable { .. })
    }

    /// A retryable failure holds the contact at this step until the retry
    /// (later steps such as "send the join link" must not run before it);
    /// any other failure is final for this contact, so the workflow goes on
    /// and the history shows why.
    pub fn blocks(&self) -> bool {
        self.retryable()
    }
}

/// R21: digits only. Nothing is trimmed or stripped: a value with spaces or
/// dashes is a sign the wrong thing was typed or mapped, and the marketer
/// sees exactly what arrived.
pub fn webinar_id(value: &str) -> Result<String, Refusal> {
    if value.is_empty() {
        return Err(Refusal::MissingWebinarId);
    }
    match super::settings::webinar_id(value) {
        Ok(id) => Ok(id.to_owned()),
        Err(_) => Err(Refusal::InvalidWebinarId {
            value: value.to_owned(),
        }),
    }
}

/// The fields this action sends (R24).
const SENT_FIELDS: [&str; 3] = ["email", "first_name", "last_name"];

/// R24: the required registration fields and custom questions beyond the
/// three this action sends (the Zoom adapter reads what the form requires).
pub fn other_required_fields(required: &[RequiredQuestion]) -> Vec<String> {
    required
        .iter()
        .filter_map(|q| match q {
            RequiredQuestion::Field(field) if SENT_FIELDS.contains(&field.as_str()) => None,
            RequiredQuestion::Field(field) => Some(field.clone()),
            RequiredQuestion::Custom(title) => Some(format!("\"{title}\"")),
        })
        .collect()
}

/// A question Zoom's registration form requires (R24): one of Zoom's own
/// fields by its name, or a custom question by its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequiredQuestion {
    Field(String),
    Custom(String),
}

/// Zoom's refusal of a registration, as the Zoom adapter read it: the
/// status, Zoom's error code and message, and the fields it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoomError {
    pub status: u16,
    pub code: Option<u64>,
    pub message: Option<String>,
    pub fields: Vec<String>,
}

/// What the workflow gets back from a registration: Zoom's registrant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Registered {
    pub registrant_id: String,
    pub join_url: String,
}

/// What Zoom's refusal of `POST /webinars/{id}/registrants` means. Codes are
/// matched, not texts, except where Zoom shares a code between causes.
pub fn zoom_refusal(error: &ZoomError, webinar: &str, email: &str, account: &str) -> Refusal {
    let (status, code) = (error.status, error.code);
    let message = error
        .message
        .clone()
        .unwrap_or_else(|| "no reason given".to_owned());
    match (status, code) {
        (_, Some(3027)) => Refusal::HostCannotRegister,
        (404, _) | (_, Some(3001)) => Refusal::NotOnConnectedAccount {
            webinar: webinar.to_owned(),
            account: account.to_owned(),
        },
        (_, Some(3000)) if message.to_ascii_lowercase().contains("ended") => Refusal::WebinarOver {
            webinar: webinar.to_owned(),
        },
        (_, Some(3000)) => Refusal::RegistrationNotEnabled {
            webinar: webinar.to_owned(),
        },
        // The per-person daily cap and the per-second rate limit share 429.
        (429, _) if message.to_ascii_lowercase().contains("daily") => Refusal::DailyLimit {
            email: email.to_owned(),
        },
        (429, _) | (500..=599, _) => Refusal::Unavailable {
            service: "Zoom",
            detail: format!("{status}: {message}"),
        },
        (400, _) => {
            let fields: Vec<String> = error
                .fields
                .iter()
                .filter(|f| !SENT_FIELDS.contains(&f.as_str()))
                .cloned()
                .collect();
            if fields.is_empty() {
                Refusal::ZoomRefused { message }
            } else {
                Refusal::OtherRequiredFields {
                    webinar: webinar.to_owned(),
                    fields,
                }
            }
        }
        _ => Refusal::ZoomRefused {
            message: format!("{status}: {message}"),
        },
    }
}

/// The contact's email as the sync would use it, or why it is left out
/// (R5 excluded domains, R18 deleted contacts, invalid addresses).
pub fn contact_email(email: &str, directory: &Directory) -> Result<String, Refusal> {
    classify(email, directory).map_err(|exclusion| match exclusion {
        Exclusion::NoEmail => Refusal::ContactWithoutEmail,
        other => Refusal::LeftOut {
            email: email.trim().to_ascii_lowercase(),
            reason: other.reason(),
        },
    })
}

/// How a webinar takes registrations (`GET /webinars/{webinarId}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationTerms {
    pub host_email: String,
    /// A one-time webinar (Zoom's type 5): once it ran, it is over;
    /// recurring ones (6, 9) take registrations for later occurrences.
    pub one_time: bool,
    pub approval: Approval,
}

/// Zoom's `settings.approval_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// 0: registrants are approved at once.
    Automatic,
    /// 1: the host approves each registrant.
    Manual,
    /// 2: registration is not required (so not possible).
    NoRegistration,
}

impl Approval {
    /// The registration's status in Zoom once made.
    pub fn status(self) -> &'static str {
        match self {
            Approval::Manual => "pending",
            _ => "approved",
        }
    }
}

/// R5, R18, R22-R24: whether `email` may be registered for `webinar` as
/// Zoom describes it, before Zoom is asked: the host never (Zoom refuses
/// it), nor an excluded or deleted contact, nor for a one-time webinar
/// that ran, nor where registration is off. The email the sync would use.
/// The webinar's required questions are checked after, with
/// [`other_required_fields`], only when these pass.
pub fn may_register(
    email: &str,
    webinar: &str,
    terms: &RegistrationTerms,
    ran: bool,
    directory: &Directory,
) -> Result<String, Refusal> {
    if terms.host_email.eq_ignore_ascii_case(email) {
        return Err(Refusal::HostCannotRegister);
    }
    // After the host check: the host's domain is often an excluded one.
    let email = contact_email(email, directory)?;
    let webinar = webinar.to_owned();
    if ran && terms.one_time {
        return Err(Refusal::WebinarOver { webinar });
    }
    if terms.approval == Approval::NoRegistration {
        return Err(Refusal::RegistrationNotEnabled { webinar });
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r21_webinar_id_is_digits_only_and_the_refusal_shows_the_value() {
        assert_eq!(webinar_id("81234567890"), Ok("81234567890".into()));
        for bad in [
            "812 3456 7890",
            "812-3456-7890",
            " 81234567890",
            "abc",
            "8".repeat(21).as_str(),
        ] {
            let refusal = webinar_id(bad).unwrap_err();
            assert_eq!(refusal, Refusal::InvalidWebinarId { value: bad.into() });
            assert!(
                refusal.to_string().contains(&format!("{bad:?}")),
                "{refusal}"
            );
        }
        assert_eq!(webinar_id(""), Err(Refusal::MissingWebinarId));
    }

    fn zoom_error(status: u16, code: u64, message: &str) -> ZoomError {
        ZoomError {
            status,
            code: Some(code),
            message: Some(message.into()),
            fields: Vec::new(),
        }
    }

    #[test]
    fn r23_host_refusal_uses_the_products_words_and_matches_the_code_not_the_text() {
        let refusal = zoom_refusal(&zoom_error(400, 3027, "anything"), "1", "a@b.c", "acc");
        assert_eq!(
            refusal.to_string(),
            "Webinar host cannot register for the webinar"
        );
    }

    #[test]
    fn r24_required_fields_beyond_name_and_email_are_named() {
        let questions = [
            RequiredQuestion::Field("last_name".into()),
            RequiredQuestion::Field("phone".into()),
            RequiredQuestion::Custom("Favourite colour".into()),
        ];
        assert_eq!(
            other_required_fields(&questions),
            ["phone", "\"Favourite colour\""]
        );
        let refused = ZoomError {
            fields: vec!["phone".into(), "email".into()],
            ..zoom_error(400, 300, "Validation Failed.")
        };
        let refusal = zoom_refusal(&refused, "9", "a@b.c", "acc");
        assert_eq!(
            refusal,
            Refusal::OtherRequiredFields {
                webinar: "9".into(),
                fields: vec!["phone".into()]
            }
        );
        assert!(refusal.to_string().contains(": phone."), "{refusal}");
    }

    #[test]
    fn zoom_refusals_are_told_apart() {
        let refusal = |status, (code, message): (u64, &str)| {
            zoom_refusal(&zoom_error(status, code, message), "9", "a@b.c", "acc")
        };
        assert!(matches!(
            refusal(404, (3001, "Webinar does not exist: 9.")),
            Refusal::NotOnConnectedAccount { .. }
        ));
        assert!(matches!(
            refusal(
                400,
                (
                    3000,
                    "Registration has not been enabled for this webinar: 9."
                )
            ),
            Refusal::RegistrationNotEnabled { .. }
        ));
        assert!(matches!(
            refusal(400, (3000, "This webinar has ended.")),
            Refusal::WebinarOver { .. }
        ));
        let daily = refusal(
            429,
            (
                429,
                "You have exceeded the daily rate limit of (3) for Add webinar registrant API requests for the registrant (a@b.c).",
            ),
        );
        assert_eq!(
            daily,
            Refusal::DailyLimit {
                email: "a@b.c".into()
            }
        );
        assert!(!daily.retryable());
        let busy = refusal(
            429,
            (
                429,
                "You have reached the maximum per-second rate limit for this API.",
            ),
        );
        assert!(busy.retryable() && busy.blocks());
        let down = ZoomError {
            status: 503,
            ..ZoomError::default()
        };
        assert!(zoom_refusal(&down, "9", "a@b.c", "acc").retryable());
    }

    #[test]
    fn r5_r18_the_syncs_exclusions_refuse_the_contact_with_their_reason() {
        let directory = Directory {
            excluded_domains: ["acme.example".to_owned()].into(),
            deleted_contacts: ["gone@x.example".to_owned()].into(),
            ..Directory::default()
        };
        assert_eq!(
            contact_email(" Ada@X.example", &directory),
            Ok("ada@x.example".into())
        );
        assert_eq!(
            contact_email("", &directory),
            Err(Refusal::ContactWithoutEmail)
        );
        let excluded = contact_email("bob@eu.acme.example", &directory).unwrap_err();
        assert_eq!(
            excluded.to_string(),
            "bob@eu.acme.example is not registered: in the excluded company domain acme.example."
        );
        let deleted = contact_email("gone@x.example", &directory).unwrap_err();
        assert!(
            deleted.to_string().contains("deleted in the CRM"),
            "{deleted}"
        );
    }

    #[test]
    fn r22_r23_who_may_register_is_decided_before_zoom_is_asked() {
        let terms = |one_time, approval| RegistrationTerms {
            host_email: "host@acme.example".into(),
            one_time,
            approval,
        };
        let open = terms(true, Approval::Automatic);
        let none = Directory::default();
        assert_eq!(
            may_register("Ada@x.example", "81", &open, false, &none),
            Ok("ada@x.example".to_owned())
        );
        assert_eq!(
            may_register("HOST@acme.example", "81", &open, false, &none),
            Err(Refusal::HostCannotRegister)
        );
        assert!(matches!(
            may_register("ada@x.example", "81", &open, true, &none),
            Err(Refusal::WebinarOver { .. })
        ));
        // A recurring webinar that ran takes registrations for its next occurrence.
        let recurring = terms(false, Approval::Manual);
        assert!(may_register("ada@x.example", "81", &recurring, true, &none).is_ok());
        assert_eq!(recurring.approval.status(), "pending");
        assert!(matches!(
            may_register(
                "ada@x.example",
                "81",
                &terms(true, Approval::NoRegistration),
                false,
                &none
            ),
            Err(Refusal::RegistrationNotEnabled { .. })
        ));
    }
}
