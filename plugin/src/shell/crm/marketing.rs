//! The webinar's marketing event and its attendance (R8, R9), in
//! HubSpot's marketing events API: the event upserted by its external ids,
//! participations recorded by email, each state in its own call.

use serde::Serialize;
use serde_json::json;

use super::{BATCH_SIZE, CrmClient};
use crate::core::marketing_event::MarketingEvent;
use crate::core::plan::{Participation, ParticipationState};
use crate::core::time::rfc3339;
use crate::shell::PluginError;
use crate::shell::ports::{MarketingEvents, Refused};

/// HubSpot's `MarketingEventCreateRequestParams` as the upsert takes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventInput<'a> {
    external_account_id: &'a str,
    external_event_id: &'a str,
    event_name: &'a str,
    event_organizer: &'a str,
    event_type: &'static str,
    event_url: &'a str,
    event_description: &'a str,
    start_date_time: String,
    end_date_time: String,
    event_cancelled: bool,
    event_completed: bool,
}

/// One participation: `interactionDateTime` makes it idempotent for the
/// contact and state (API-NOTES); join and leave times for attendance.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendanceInput<'a> {
    email: &'a str,
    interaction_date_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<AttendanceTimes>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendanceTimes {
    joined_at: String,
    left_at: String,
}

impl MarketingEvents for CrmClient<'_> {
    /// Creates or updates the webinar's marketing event (R9) for the
    /// Zoom account `account`.
    fn upsert_marketing_event(
        &self,
        account: &str,
        event: &MarketingEvent,
    ) -> Result<(), PluginError> {
        let input = EventInput {
            external_account_id: account,
            external_event_id: &event.webinar_id,
            event_name: &event.name,
            event_organizer: &event.organizer,
            event_type: "WEBINAR",
            event_url: &event.url,
            event_description: &event.description,
            start_date_time: rfc3339(event.start_ms),
            end_date_time: rfc3339(event.end_ms),
            event_cancelled: event.cancelled,
            event_completed: event.completed,
        };
        self.batch(
            "/marketing/v3/marketing-events/events/upsert",
            json!({}),
            vec![json!(input)],
            "writing the marketing event",
        )?;
        Ok(())
    }

    /// Records `participations` (at most 100, all in one `state`) on the
    /// event of `webinar` of `account` (R8, R9); errors name their emails.
    fn record_participations(
        &self,
        account: &str,
        webinar: &str,
        state: ParticipationState,
        participations: &[&Participation],
    ) -> Result<Refused, PluginError> {
        debug_assert!(participations.len() <= BATCH_SIZE);
        let inputs = participations
            .iter()
            .map(|p| {
                json!(AttendanceInput {
                    email: &p.email,
                    interaction_date_time: p.at_ms,
                    properties: p.joined_ms.zip(p.left_ms).map(|(joined, left)| {
                        AttendanceTimes {
                            joined_at: rfc3339(joined),
                            left_at: rfc3339(left),
                        }
                    }),
                })
            })
            .collect();
        let state = state.word();
        let answer = self.batch(
            &format!(
                "/marketing/v3/marketing-events/attendance/{webinar}/{state}/email-create?externalAccountId={account}"
            ),
            json!({}),
            inputs,
            "recording attendance on the marketing event",
        )?;
        Ok(answer.refused(participations.iter().map(|p| p.email.as_str())))
    }
}
