//! The four contact properties of R12, recomputed from what the plugin
//! knows of the contact's webinars, never incremented: a replayed or
//! duplicated delivery cannot inflate them (R30).

use std::collections::BTreeMap;

use super::definitions;

/// What the plugin knows of one contact at one webinar.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WebinarRecord {
    pub webinar_id: String,
    /// When they registered; none when they attended without registering.
    pub registered_ms: Option<i64>,
    pub cancelled: bool,
    /// The webinar's join URL.
    pub join_url: String,
    /// Their attendance share (0-100) when they attended.
    pub attendance_percentage: Option<f64>,
}

/// The values of the four properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactProperties {
    /// Mean share over attended webinars; none before the first attendance.
    pub average_attendance_percentage: Option<f64>,
    /// The join URL of the latest (not cancelled) registration.
    pub last_registered_webinar: Option<String>,
    pub total_registrations: u32,
    pub total_attended: u32,
}

/// R12 from a contact's records; one record per webinar counts once.
pub fn compute(records: &[WebinarRecord]) -> ContactProperties {
    // The last record of a webinar wins: the store keeps one per webinar,
    // and this keeps the computation right even if it does not.
    let by_webinar: BTreeMap<&str, &WebinarRecord> =
        records.iter().map(|r| (r.webinar_id.as_str(), r)).collect();
    let registrations: Vec<&WebinarRecord> = by_webinar
        .values()
        .filter(|r| r.registered_ms.is_some() && !r.cancelled)
        .copied()
        .collect();
    let attended: Vec<f64> = by_webinar
        .values()
        .filter_map(|r| r.attendance_percentage)
        .collect();
    let average = (!attended.is_empty()).then(|| {
        let mean = attended.iter().sum::<f64>() / attended.len() as f64;
        (mean * 10.0).round() / 10.0
    });
    let last = registrations
        .iter()
        .max_by_key(|r| (r.registered_ms, r.webinar_id.clone()))
        .map(|r| r.join_url.clone());
    ContactProperties {
        average_attendance_percentage: average,
        last_registered_webinar: last,
        total_registrations: registrations.len() as u32,
        total_attended: attended.len() as u32,
    }
}

/// The writes R12 asks of a contact now: the four properties from its
/// records, and the registrant's name on a contact the plugin created
/// (`new_name`, once), keeping only the values that differ from what was
/// last `written`.
pub fn updates(
    records: &[WebinarRecord],
    new_name: Option<(&str, &str)>,
    written: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let computed = compute(records);
    let mut values = BTreeMap::from([
        (
            definitions::TOTAL_REGISTRATIONS.to_owned(),
            computed.total_registrations.to_string(),
        ),
        (
            definitions::TOTAL_ATTENDED.to_owned(),
            computed.total_attended.to_string(),
        ),
        (
            definitions::AVERAGE_ATTENDANCE_PERCENTAGE.to_owned(),
            computed
                .average_attendance_percentage
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ),
        (
            definitions::LAST_REGISTERED_WEBINAR.to_owned(),
            computed.last_registered_webinar.unwrap_or_default(),
        ),
    ]);
    if let Some((first, last)) = new_name {
        values.insert(FIRST_NAME.into(), first.to_owned());
        values.insert(LAST_NAME.into(), last.to_owned());
    }
    values.retain(|name, value| written.get(name) != Some(value));
    values
}

/// The CRM's own name properties, set on contacts the plugin created (R7).
pub const FIRST_NAME: &str = "firstname";
pub const LAST_NAME: &str = "lastname";

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, registered: Option<i64>, attended: Option<f64>) -> WebinarRecord {
        WebinarRecord {
            webinar_id: id.into(),
            registered_ms: registered,
            cancelled: false,
            join_url: format!("https://us06web.zoom.us/w/{id}"),
            attendance_percentage: attended,
        }
    }

    #[test]
    fn r12_the_four_properties_over_several_webinars() {
        let p = compute(&[
            record("1", Some(100), Some(100.0)),
            record("2", Some(300), None), // a no-show
            record("3", Some(200), Some(50.0)),
            record("4", None, Some(75.0)), // attended without registering
        ]);
        assert_eq!(p.average_attendance_percentage, Some(75.0));
        assert_eq!(
            p.last_registered_webinar.as_deref(),
            Some("https://us06web.zoom.us/w/2")
        );
        assert_eq!((p.total_registrations, p.total_attended), (3, 3));
    }

    #[test]
    fn r30_a_replayed_record_does_not_inflate_the_totals() {
        let once = compute(&[record("1", Some(100), Some(80.0))]);
        let replayed = compute(&[
            record("1", Some(100), Some(80.0)),
            record("1", Some(100), Some(80.0)),
        ]);
        assert_eq!(once, replayed);
    }

    #[test]
    fn r8_a_cancelled_registration_is_not_counted_nor_last() {
        let mut cancelled = record("2", Some(300), None);
        cancelled.cancelled = true;
        let p = compute(&[record("1", Some(100), None), cancelled]);
        assert_eq!(p.total_registrations, 1);
        assert_eq!(
            p.last_registered_webinar.as_deref(),
            Some("https://us06web.zoom.us/w/1")
        );
        assert_eq!(p.average_attendance_percentage, None);
    }

    #[test]
    fn r12_updates_hold_only_what_changed_since_the_last_write() {
        let records = [record("1", Some(1), Some(50.0)), record("2", Some(2), None)];
        let first = updates(&records, Some(("Ada", "Lovelace")), &BTreeMap::new());
        assert_eq!(first[definitions::TOTAL_REGISTRATIONS], "2");
        assert_eq!(first[definitions::TOTAL_ATTENDED], "1");
        assert_eq!(first[definitions::AVERAGE_ATTENDANCE_PERCENTAGE], "50");
        assert_eq!(first[FIRST_NAME], "Ada");
        // Written, then nothing new: nothing to write.
        assert!(updates(&records, None, &first).is_empty());
        let more = [
            records[0].clone(),
            records[1].clone(),
            record("3", Some(3), Some(100.0)),
        ];
        let changed = updates(&more, None, &first);
        let names: Vec<&str> = changed.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                definitions::AVERAGE_ATTENDANCE_PERCENTAGE,
                definitions::LAST_REGISTERED_WEBINAR,
                definitions::TOTAL_ATTENDED,
                definitions::TOTAL_REGISTRATIONS,
            ]
        );
    }
}
