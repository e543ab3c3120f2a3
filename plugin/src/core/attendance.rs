//! Attendance (R8): a person's join/leave segments merged into one
//! attendee, overlaps and rejoins counted once, and the share of the
//! webinar they stayed for.

/// One join/leave segment, in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    pub joined_ms: i64,
    pub left_ms: i64,
}

/// A person's attendance after merging.
#[derive(Debug, Clone, PartialEq)]
pub struct Attendance {
    /// First join.
    pub joined_ms: i64,
    /// Last leave.
    pub left_ms: i64,
    /// Time attended: the length of the union of the segments.
    pub attended_ms: i64,
    /// `attended_ms` over the webinar's length, capped at 100, one decimal.
    pub percentage: f64,
}

/// The union of `segments` as disjoint, sorted intervals. A segment that
/// ends before it starts (clock skew in Zoom's report) counts as empty.
pub fn merge(segments: &[Segment]) -> Vec<Segment> {
    let mut sorted: Vec<Segment> = segments
        .iter()
        .filter(|s| s.left_ms > s.joined_ms)
        .copied()
        .collect();
    sorted.sort();
    let mut merged: Vec<Segment> = Vec::with_capacity(sorted.len());
    for segment in sorted {
        match merged.last_mut() {
            Some(last) if segment.joined_ms <= last.left_ms => {
                last.left_ms = last.left_ms.max(segment.left_ms)
            }
            _ => merged.push(segment),
        }
    }
    merged
}

/// A person's attendance of a webinar that ran `webinar_ms` (actual start
/// to end when known, else the scheduled length). None when no segment has
/// any length.
pub fn attendance(segments: &[Segment], webinar_ms: i64) -> Option<Attendance> {
    let merged = merge(segments);
    let first = merged.first()?;
    let last = merged.last()?;
    let attended_ms: i64 = merged.iter().map(|s| s.left_ms - s.joined_ms).sum();
    let share = if webinar_ms > 0 {
        (attended_ms as f64 / webinar_ms as f64 * 100.0).min(100.0)
    } else {
        100.0
    };
    Some(Attendance {
        joined_ms: first.joined_ms,
        left_ms: last.left_ms,
        attended_ms,
        percentage: (share * 10.0).round() / 10.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn seg(from: i64, to: i64) -> Segment {
        Segment {
            joined_ms: from * MIN,
            left_ms: to * MIN,
        }
    }

    #[test]
    fn r8_overlapping_segments_count_once() {
        // Two devices at once from 15 to 20, then a rejoin at 45.
        let a = attendance(&[seg(0, 20), seg(15, 30), seg(45, 60)], 60 * MIN).unwrap();
        assert_eq!(a.attended_ms, 45 * MIN);
        assert_eq!(a.percentage, 75.0);
        assert_eq!((a.joined_ms, a.left_ms), (0, 60 * MIN));
    }

    #[test]
    fn r8_out_of_order_and_touching_segments_merge() {
        assert_eq!(
            merge(&[seg(30, 40), seg(0, 10), seg(10, 20)]),
            [seg(0, 20), seg(30, 40)]
        );
        assert_eq!(merge(&[seg(0, 60), seg(10, 20)]), [seg(0, 60)], "contained");
    }

    #[test]
    fn the_share_is_capped_at_100_and_rounded() {
        // Stayed past the scheduled end.
        assert_eq!(
            attendance(&[seg(0, 90)], 60 * MIN).unwrap().percentage,
            100.0
        );
        assert_eq!(
            attendance(&[seg(0, 20)], 60 * MIN).unwrap().percentage,
            33.3
        );
    }

    #[test]
    fn empty_and_backwards_segments_are_no_attendance() {
        assert_eq!(attendance(&[], 60 * MIN), None);
        assert_eq!(attendance(&[seg(10, 10), seg(20, 5)], 60 * MIN), None);
    }
}
