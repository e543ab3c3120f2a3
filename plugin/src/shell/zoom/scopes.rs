//! The Zoom app's scopes, checked at install against the token answer's
//! `scope` field (a space-separated list of what was granted). Zoom has
//! two namings: classic scopes (`webinar:read:admin`), which older apps
//! keep, and granular ones (`webinar:read:list_registrants:admin`), which
//! new apps get (<https://developers.zoom.us/docs/integrations/oauth-scopes-overview/>);
//! either satisfies a capability. The table is the README's.

/// One capability of the plugin and the scopes that grant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub what: &'static str,
    /// The classic scope that grants it.
    pub classic: &'static str,
    /// The granular scopes that grant it (all of them are needed).
    pub granular: &'static [&'static str],
    /// The sync cannot run without it: install fails. An optional one's
    /// absence is said where it matters (the backfill's report).
    pub required: bool,
}

/// Every Zoom capability the plugin uses, with its scopes.
pub const CAPABILITIES: &[Capability] = &[
    Capability {
        what: "the account's users (R16)",
        classic: "user:read:admin",
        granular: &["user:read:list_users:admin"],
        required: true,
    },
    Capability {
        what: "webinars and their registrants (R1, R7, R24)",
        classic: "webinar:read:admin",
        granular: &[
            "webinar:read:webinar:admin",
            "webinar:read:list_webinars:admin",
            "webinar:read:list_registrants:admin",
        ],
        required: true,
    },
    Capability {
        what: "adding a registrant, the workflow action (R21)",
        classic: "webinar:write:admin",
        granular: &["webinar:write:registrant:admin"],
        required: true,
    },
    Capability {
        what: "the participants report (R8)",
        classic: "report:read:admin",
        granular: &[
            "report:read:webinar:admin",
            "report:read:list_webinar_participants:admin",
        ],
        required: true,
    },
    Capability {
        what: "recordings and transcripts (R11)",
        classic: "recording:read:admin",
        granular: &["cloud_recording:read:list_recording_files:admin"],
        required: true,
    },
    Capability {
        what: "Zoom Events sessions, never synced (R14)",
        classic: "zoom_events:read:admin",
        granular: &[
            "zoom_events:read:list_events:admin",
            "zoom_events:read:list_sessions:admin",
        ],
        required: true,
    },
    Capability {
        what: "past webinars from the Dashboard, for the backfill (R1; Business plans and up)",
        classic: "dashboard_webinars:read:admin",
        granular: &["dashboard:read:list_webinars:admin"],
        required: false,
    },
];

impl Capability {
    /// Granted by the classic scope, or by every granular one.
    pub fn granted(&self, scopes: &[&str]) -> bool {
        scopes.contains(&self.classic) || self.granular.iter().all(|g| scopes.contains(g))
    }

    fn missing(&self, scopes: &[&str]) -> String {
        let granular: Vec<&str> = self
            .granular
            .iter()
            .copied()
            .filter(|g| !scopes.contains(g))
            .collect();
        format!("{} (or {})", granular.join(" "), self.classic)
    }
}

/// The required capabilities `scope` (the token answer's field) does not
/// grant, as one line naming the scopes to add; none when all are there.
pub fn missing_required(scope: &str) -> Option<String> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let missing: Vec<String> = CAPABILITIES
        .iter()
        .filter(|c| c.required && !c.granted(&scopes))
        .map(|c| format!("{}: {}", c.what, c.missing(&scopes)))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "The Zoom app lacks scopes the plugin needs; add them in the Zoom app's Scopes page and install again: {}",
            missing.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSIC: &str = "webinar:read:admin webinar:write:admin report:read:admin recording:read:admin user:read:admin zoom_events:read:admin";

    #[test]
    fn classic_or_granular_scopes_grant_a_capability() {
        assert_eq!(missing_required(CLASSIC), None);
        let granular: Vec<&str> = CAPABILITIES
            .iter()
            .filter(|c| c.required)
            .flat_map(|c| c.granular.iter().copied())
            .collect();
        assert_eq!(missing_required(&granular.join(" ")), None);
    }

    #[test]
    fn a_missing_scope_is_named_in_one_line() {
        let scope = CLASSIC.replace("report:read:admin ", "report:read:webinar:admin ");
        let line = missing_required(&scope).unwrap();
        assert!(!line.contains('\n'));
        assert!(
            line.ends_with(
                "install again: the participants report (R8): report:read:list_webinar_participants:admin (or report:read:admin)"
            ),
            "{line}"
        );
    }

    #[test]
    fn the_dashboard_is_optional() {
        assert!(!CLASSIC.contains("dashboard"));
        assert_eq!(missing_required(CLASSIC), None);
    }
}
