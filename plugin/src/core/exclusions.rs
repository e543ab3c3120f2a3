//! Who may become or change a contact (R5, R15-R18): every email is
//! either synced to a primary contact, or left out with a reason a
//! marketer can read in the audit log (R19e).

use std::collections::{BTreeMap, BTreeSet};

/// Why an email was left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exclusion {
    /// R15: Zoom hides guests' emails unless they registered.
    NoEmail,
    /// R17: not a valid email address.
    InvalidEmail,
    /// R5: in one of the company's own domains.
    ExcludedDomain(String),
    /// R16: a user of the connected Zoom account.
    ZoomAccountUser,
    /// R17: a user of the CRM.
    CrmUser,
    /// R17: a secondary email of the contact with this primary email.
    SecondaryEmail { primary: String },
    /// R18: the contact was deleted in the CRM; never re-created.
    DeletedContact,
}

impl Exclusion {
    /// The reason, as the audit log shows it.
    pub fn reason(&self) -> String {
        match self {
            Exclusion::NoEmail => {
                "no email: Zoom hides guests' emails; require registration to sync every attendee"
                    .into()
            }
            Exclusion::InvalidEmail => "invalid email address".into(),
            Exclusion::ExcludedDomain(domain) => format!("in the excluded company domain {domain}"),
            Exclusion::ZoomAccountUser => "a user of the connected Zoom account".into(),
            Exclusion::CrmUser => "a user of the CRM".into(),
            Exclusion::SecondaryEmail { primary } => {
                format!(
                    "a secondary email of the contact {primary}; only primary emails create and update contacts"
                )
            }
            Exclusion::DeletedContact => {
                "the contact was deleted in the CRM and is not re-created".into()
            }
        }
    }
}

/// What is known about the people around a webinar when deciding.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// R5, lowercase.
    pub excluded_domains: BTreeSet<String>,
    /// R16, lowercase.
    pub zoom_users: BTreeSet<String>,
    /// R17, lowercase.
    pub crm_users: BTreeSet<String>,
    /// R17: secondary email -> the contact's primary email, lowercase.
    pub secondary_emails: BTreeMap<String, String>,
    /// R18, lowercase primary emails.
    pub deleted_contacts: BTreeSet<String>,
}

/// A plausible email: one `@`, something before it, a dotted domain after, no spaces.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

/// The email to sync (lowercased), or why not. The order of the checks is
/// the order of the reasons a marketer most needs to see.
pub fn classify(email: &str, directory: &Directory) -> Result<String, Exclusion> {
    let email = email.trim().to_ascii_lowercase();
    if email.is_empty() {
        return Err(Exclusion::NoEmail);
    }
    if !is_valid_email(&email) {
        return Err(Exclusion::InvalidEmail);
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if let Some(excluded) = directory
        .excluded_domains
        .iter()
        .find(|d| domain == d.as_str() || domain.ends_with(&format!(".{d}")))
    {
        return Err(Exclusion::ExcludedDomain(excluded.clone()));
    }
    if directory.zoom_users.contains(&email) {
        return Err(Exclusion::ZoomAccountUser);
    }
    if directory.crm_users.contains(&email) {
        return Err(Exclusion::CrmUser);
    }
    if let Some(primary) = directory.secondary_emails.get(&email) {
        return Err(Exclusion::SecondaryEmail {
            primary: primary.clone(),
        });
    }
    if directory.deleted_contacts.contains(&email) {
        return Err(Exclusion::DeletedContact);
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        Directory {
            excluded_domains: ["acme.example".to_owned()].into(),
            zoom_users: ["zed@partner.example".to_owned()].into(),
            crm_users: ["rep@sales.example".to_owned()].into(),
            secondary_emails: [(
                "grace@work.example".to_owned(),
                "grace@hopper.example".to_owned(),
            )]
            .into(),
            deleted_contacts: ["gone@example.com".to_owned()].into(),
        }
    }

    #[test]
    fn a_primary_email_is_synced_lowercased() {
        assert_eq!(
            classify(" Ada@Lovelace.example ", &directory()),
            Ok("ada@lovelace.example".into())
        );
    }

    #[test]
    fn every_exclusion_has_its_reason() {
        let d = directory();
        assert_eq!(classify("", &d), Err(Exclusion::NoEmail)); // R15
        assert_eq!(classify("not-an-email", &d), Err(Exclusion::InvalidEmail)); // R17
        assert_eq!(
            classify("carl@acme.example", &d),
            Err(Exclusion::ExcludedDomain("acme.example".into()))
        ); // R5
        assert_eq!(
            classify("carl@eu.acme.example", &d),
            Err(Exclusion::ExcludedDomain("acme.example".into())),
            "subdomains too"
        );
        assert_eq!(
            classify("zed@partner.example", &d),
            Err(Exclusion::ZoomAccountUser)
        ); // R16
        assert_eq!(classify("REP@sales.example", &d), Err(Exclusion::CrmUser)); // R17
        assert_eq!(
            classify("grace@work.example", &d),
            Err(Exclusion::SecondaryEmail {
                primary: "grace@hopper.example".into()
            })
        ); // R17
        assert_eq!(
            classify("gone@example.com", &d),
            Err(Exclusion::DeletedContact)
        ); // R18
        assert!(
            Exclusion::NoEmail.reason().contains("registration"),
            "R15 suggests registration"
        );
    }

    #[test]
    fn a_lookalike_domain_is_not_excluded() {
        assert!(classify("someone@notacme.example", &directory()).is_ok());
    }
}
