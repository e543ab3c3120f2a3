//! The webinar's marketing event (R9): what the CRM shows for it, decided
//! here from the Zoom facts; the CRM adapter only writes it.

use serde::Serialize;

use super::plan::Webinar;

/// A marketing event, in the domain's words (the adapter maps them to the
/// CRM's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarketingEvent {
    /// The webinar id: the event's key in the CRM, with the Zoom account.
    pub webinar_id: String,
    pub name: String,
    /// The host's name in Zoom, else the host's email.
    pub organizer: String,
    pub url: String,
    pub description: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Deleted in Zoom.
    pub cancelled: bool,
    /// It ran: the CRM can close the event.
    pub completed: bool,
}

/// R9: the event of `webinar`, whose host Zoom names `host_name` (empty or
/// unknown: the host's email). Its times are when the webinar ran, once it
/// has; until then, when it was scheduled.
pub fn marketing_event(webinar: &Webinar, host_name: Option<&str>) -> MarketingEvent {
    let (start_ms, end_ms) = webinar.ran.unwrap_or((
        webinar.scheduled_start_ms,
        webinar.scheduled_start_ms + i64::from(webinar.scheduled_minutes) * 60_000,
    ));
    MarketingEvent {
        webinar_id: webinar.id.clone(),
        name: webinar.topic.clone(),
        organizer: host_name
            .filter(|n| !n.is_empty())
            .map_or_else(|| webinar.host_email.clone(), str::to_owned),
        url: webinar.join_url.clone(),
        description: format!("Zoom webinar {}", webinar.id),
        start_ms,
        end_ms,
        cancelled: webinar.deleted,
        completed: webinar.ran.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webinar() -> Webinar {
        Webinar {
            id: "81234567890".into(),
            topic: "Pipeline reviews".into(),
            host_email: "hannah@acme.example".into(),
            join_url: "https://acme.zoom.us/j/81234567890".into(),
            scheduled_start_ms: 1_795_186_800_000,
            scheduled_minutes: 60,
            ran: None,
            deleted: false,
            zoom_event: false,
        }
    }

    #[test]
    fn r9_a_scheduled_webinar_is_an_open_event_at_its_scheduled_times() {
        insta::assert_json_snapshot!(marketing_event(&webinar(), Some("Hannah Host")));
    }

    #[test]
    fn r9_a_webinar_that_ran_is_completed_at_the_times_it_ran() {
        let mut ran = webinar();
        ran.ran = Some((1_795_187_100_000, 1_795_190_000_000));
        let event = marketing_event(&ran, Some(""));
        assert_eq!(
            (event.start_ms, event.end_ms, event.completed),
            (1_795_187_100_000, 1_795_190_000_000, true)
        );
        assert_eq!(event.organizer, "hannah@acme.example", "no name: the email");
    }

    #[test]
    fn r9_a_webinar_deleted_in_zoom_is_a_cancelled_event() {
        let mut deleted = webinar();
        deleted.deleted = true;
        assert!(marketing_event(&deleted, None).cancelled);
    }
}
