//! What the plugin adds to the CRM's data model: the contact properties
//! (R12), the timeline event types (R10, filterable for R13) and the
//! workflow action (R21). The WIT `properties` and `workflow-actions`
//! exports hand these out; `lifecycle.install` creates them in the CRM.

/// A CRM property type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    Number,
    Text,
    Datetime,
    Enumeration,
}

impl PropertyType {
    /// The CRM form field type that goes with the type: the CRM refuses
    /// other pairs (number/number, string/text, datetime/date, enumeration/select).
    pub fn field_type(self) -> &'static str {
        match self {
            PropertyType::Number => "number",
            PropertyType::Text => "text",
            PropertyType::Datetime => "date",
            PropertyType::Enumeration => "select",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyGroup {
    pub name: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDefinition {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub property_type: PropertyType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventToken {
    pub name: &'static str,
    pub label: &'static str,
    pub token_type: PropertyType,
    pub filterable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEventType {
    pub id: &'static str,
    pub name: &'static str,
    pub header_template: &'static str,
    pub detail_template: &'static str,
    pub tokens: Vec<EventToken>,
}

pub const PROPERTY_GROUP: PropertyGroup = PropertyGroup {
    name: "zoom_webinars",
    label: "Zoom webinars",
};

pub const AVERAGE_ATTENDANCE_PERCENTAGE: &str = "zoom_webinar_average_attendance_percentage";
pub const LAST_REGISTERED_WEBINAR: &str = "zoom_webinar_last_registered_url";
pub const TOTAL_REGISTRATIONS: &str = "zoom_webinar_total_registrations";
pub const TOTAL_ATTENDED: &str = "zoom_webinar_total_attended";

/// The four contact properties of R12, for segmentation (R13).
pub fn contact_properties() -> Vec<PropertyDefinition> {
    vec![
        PropertyDefinition {
            name: AVERAGE_ATTENDANCE_PERCENTAGE,
            label: "Average Zoom webinar attendance (%)",
            description: "The mean share of each attended Zoom webinar the contact stayed for; 100 means they always stayed to the end.",
            property_type: PropertyType::Number,
        },
        PropertyDefinition {
            name: LAST_REGISTERED_WEBINAR,
            label: "Last registered Zoom webinar",
            description: "The join URL of the Zoom webinar the contact registered for most recently.",
            property_type: PropertyType::Text,
        },
        PropertyDefinition {
            name: TOTAL_REGISTRATIONS,
            label: "Total Zoom webinar registrations",
            description: "How many Zoom webinars the contact has registered for.",
            property_type: PropertyType::Number,
        },
        PropertyDefinition {
            name: TOTAL_ATTENDED,
            label: "Total Zoom webinars attended",
            description: "How many Zoom webinars the contact has attended.",
            property_type: PropertyType::Number,
        },
    ]
}

pub const CALL_KEY: &str = "zoom_webinar_call_key";

/// The call records' own property: which webinar and contact a call was
/// made for. Creating a call is not idempotent in the CRM, so a run that
/// lost the answer of a create looks its calls up by this key (R30).
pub fn call_properties() -> Vec<PropertyDefinition> {
    vec![PropertyDefinition {
        name: CALL_KEY,
        label: "Zoom webinar call key",
        description: "The Zoom webinar and contact this call record was made for (webinar id:contact id); the integration uses it to never create a call twice.",
        property_type: PropertyType::Text,
    }]
}

/// The key of the call made for `contact_id` of `webinar`.
pub fn call_key(webinar: &str, contact_id: &str) -> String {
    format!("{webinar}:{contact_id}")
}

/// The contact a call key names: what follows its last `:` (webinar ids
/// hold none; CRM ids are digits).
pub fn call_key_contact(key: &str) -> Option<&str> {
    key.rsplit_once(':')
        .map(|(_, contact)| contact)
        .filter(|c| !c.is_empty())
}

const fn token(name: &'static str, label: &'static str, token_type: PropertyType) -> EventToken {
    // Every token is filterable: segmentation by event attributes is R13.
    EventToken {
        name,
        label,
        token_type,
        filterable: true,
    }
}

pub const REGISTRATION_EVENT: &str = "webinar-registration";
pub const ATTENDANCE_EVENT: &str = "webinar-attendance";
pub const RECORDING_EVENT: &str = "webinar-recording-available";

/// The three timeline event kinds of R10.
pub fn timeline_event_types() -> Vec<TimelineEventType> {
    use PropertyType::{Datetime, Number, Text};
    vec![
        TimelineEventType {
            id: REGISTRATION_EVENT,
            name: "Registered for a Zoom webinar",
            header_template: "Registered for {{webinar_name}}",
            detail_template: "Zoom webinar {{webinar_id}}",
            tokens: vec![
                token("webinar_id", "Webinar ID", Text),
                token("webinar_name", "Webinar name", Text),
            ],
        },
        TimelineEventType {
            id: ATTENDANCE_EVENT,
            name: "Attended a Zoom webinar",
            header_template: "Attended {{webinar_name}}",
            detail_template: "Joined {{joined_at}}, left {{left_at}}: {{duration_minutes}} min ({{attendance_percentage}} % of the webinar)",
            tokens: vec![
                token("webinar_id", "Webinar ID", Text),
                token("webinar_name", "Webinar name", Text),
                token("webinar_date", "Webinar date", Datetime),
                token("joined_at", "Joined at", Datetime),
                token("left_at", "Left at", Datetime),
                token("duration_minutes", "Duration (minutes)", Number),
                token("attendance_percentage", "Duration (%)", Number),
            ],
        },
        TimelineEventType {
            id: RECORDING_EVENT,
            name: "Zoom webinar recording available",
            header_template: "Recording of {{topic}} is available",
            detail_template: "Recorded {{start_time}}: {{recording_url}}",
            tokens: vec![
                token("webinar_id", "Webinar ID", Text),
                token("topic", "Topic", Text),
                token("start_time", "Start time", Datetime),
                token("recording_url", "Recording URL", Text),
            ],
        },
    ]
}

/// A workflow action's field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputField {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub field_type: FieldType,
    pub required: bool,
    pub supports_object_property: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputField {
    pub name: &'static str,
    pub label: &'static str,
    pub field_type: FieldType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDefinition {
    pub id: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub input_fields: Vec<InputField>,
    pub output_fields: Vec<OutputField>,
}

pub const ADD_CONTACT_TO_WEBINAR: &str = "add-contact-to-zoom-webinar";

/// The workflow actions (R21): one, "Add contact to Zoom webinar", for contacts.
pub fn action_definitions() -> Vec<ActionDefinition> {
    vec![ActionDefinition {
        id: ADD_CONTACT_TO_WEBINAR,
        label: "Add contact to Zoom webinar",
        description: "Registers the contact for a Zoom webinar with their first name, last name and email.",
        input_fields: vec![InputField {
            name: "webinar_id",
            label: "Webinar ID",
            // R21: digits only.
            description: "The Zoom webinar ID, digits only (no spaces or dashes), e.g. 81234567890.",
            // Text, not number: webinar ids exceed what a double holds exactly.
            field_type: FieldType::Text,
            required: true,
            supports_object_property: true,
        }],
        output_fields: vec![
            OutputField {
                name: "registrant_id",
                label: "Zoom registrant ID",
                field_type: FieldType::Text,
            },
            OutputField {
                name: "join_url",
                label: "Join URL",
                field_type: FieldType::Text,
            },
        ],
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_four_contact_properties_with_crm_valid_type_pairs() {
        let properties = contact_properties();
        let names: Vec<_> = properties.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                AVERAGE_ATTENDANCE_PERCENTAGE,
                LAST_REGISTERED_WEBINAR,
                TOTAL_REGISTRATIONS,
                TOTAL_ATTENDED
            ]
        );
        for p in &properties {
            // CRM property names: lowercase letters, digits and underscores.
            assert!(
                p.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
        }
        let url = properties
            .iter()
            .find(|p| p.name == LAST_REGISTERED_WEBINAR)
            .unwrap();
        assert_eq!(
            (url.property_type, url.property_type.field_type()),
            (PropertyType::Text, "text")
        );
        let counts = properties
            .iter()
            .filter(|p| p.property_type == PropertyType::Number)
            .count();
        assert_eq!(counts, 3);
    }

    #[test]
    fn r10_r13_event_types_carry_the_filterable_attributes() {
        let types = timeline_event_types();
        let tokens = |id: &str| -> Vec<&str> {
            types
                .iter()
                .find(|t| t.id == id)
                .unwrap()
                .tokens
                .iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(tokens(REGISTRATION_EVENT), ["webinar_id", "webinar_name"]);
        for attendance in [
            "webinar_date",
            "joined_at",
            "left_at",
            "duration_minutes",
            "attendance_percentage",
        ] {
            assert!(
                tokens(ATTENDANCE_EVENT).contains(&attendance),
                "{attendance}"
            );
        }
        for recording in ["topic", "start_time", "recording_url"] {
            assert!(tokens(RECORDING_EVENT).contains(&recording), "{recording}");
        }
        assert!(types.iter().flat_map(|t| &t.tokens).all(|t| t.filterable));
        // Every template placeholder names a token of its own event type.
        for t in &types {
            for template in [t.header_template, t.detail_template] {
                for placeholder in template
                    .split("{{")
                    .skip(1)
                    .map(|s| &s[..s.find("}}").unwrap()])
                {
                    assert!(
                        t.tokens.iter().any(|k| k.name == placeholder),
                        "{} uses {placeholder}",
                        t.id
                    );
                }
            }
        }
    }

    #[test]
    fn r21_the_action_takes_a_webinar_id_from_a_value_or_a_property() {
        let actions = action_definitions();
        assert_eq!(actions.len(), 1);
        let input = &actions[0].input_fields[0];
        assert!(input.required && input.supports_object_property);
        assert_eq!(input.field_type, FieldType::Text);
    }
}
