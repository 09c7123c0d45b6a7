//! Local rules for a pool subdomain label, applied before PDM is asked so the
//! operator gets an answer while typing and PDM never sees a malformed name.
//! The rule is PDM's own: lower-cased
//! and trimmed; 1–63 characters of `[a-z0-9-]`; no leading digit or hyphen;
//! no trailing hyphen; not one of the reserved labels.

use crate::error::ErrorCode;
use std::fmt;

/// Pool domains offered by default (`docs/RUNBOOKS.md` §1.2C in the reference).
pub const DEFAULT_POOLS: [&str; 5] = [
    "omani.works",
    "omani.homes",
    "omani.rest",
    "omani.trade",
    "omantel.biz",
];

/// Labels PDM refuses (`pdm/internal/reserved/reserved.go`): they collide with
/// the records PDM writes under a Sovereign or with OpenOva's own names.
pub const RESERVED_LABELS: [&str; 21] = [
    "api", "admin", "console", "gitea", "harbor", "keycloak", "www", "mail", "smtp", "imap", "vpn",
    "openova", "catalyst", "docs", "status", "app", "system", "openbao", "vault", "flux", "k8s",
];

/// A DNS label is at most 63 octets (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a label cannot be used; `Display` is the sentence shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelError {
    Empty,
    TooLong { len: usize },
    BadCharacter { ch: char },
    StartsWithDigit,
    StartsWithHyphen,
    EndsWithHyphen,
    Reserved { label: String },
}

impl LabelError {
    /// Stable code for adapters and tests.
    pub fn code(&self) -> ErrorCode {
        match self {
            LabelError::Empty => ErrorCode::SubdomainEmpty,
            LabelError::TooLong { .. } => ErrorCode::SubdomainTooLong,
            LabelError::BadCharacter { .. } => ErrorCode::SubdomainBadCharacter,
            LabelError::StartsWithDigit => ErrorCode::SubdomainStartsWithDigit,
            LabelError::StartsWithHyphen => ErrorCode::SubdomainStartsWithHyphen,
            LabelError::EndsWithHyphen => ErrorCode::SubdomainEndsWithHyphen,
            LabelError::Reserved { .. } => ErrorCode::SubdomainReservedName,
        }
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Empty => write!(f, "Enter a subdomain, for example \"acme-prod\"."),
            LabelError::TooLong { len } => write!(
                f,
                "The subdomain can have at most {MAX_LABEL_LEN} characters (it has {len})."
            ),
            LabelError::BadCharacter { ch } => {
                let shown = if ch.is_whitespace() || ch.is_control() {
                    format!("U+{:04X}", u32::from(*ch))
                } else {
                    format!("\"{ch}\"")
                };
                write!(
                    f,
                    "The subdomain can only contain the letters a-z, digits and hyphens; {shown} is not allowed."
                )
            }
            LabelError::StartsWithDigit => {
                write!(f, "The subdomain must start with a letter, not a digit.")
            }
            LabelError::StartsWithHyphen => {
                write!(f, "The subdomain must start with a letter, not a hyphen.")
            }
            LabelError::EndsWithHyphen => write!(f, "The subdomain cannot end with a hyphen."),
            LabelError::Reserved { label } => write!(
                f,
                "\"{label}\" is reserved by the pool (it names a service under every Sovereign); choose another subdomain."
            ),
        }
    }
}

impl std::error::Error for LabelError {}

/// Normalises a typed label the way PDM does (trim, lower-case) and checks it.
/// Returns the label to send on success.
pub fn check_label(raw: &str) -> Result<String, LabelError> {
    let label = raw.trim().to_lowercase();
    let Some(first) = label.chars().next() else {
        return Err(LabelError::Empty);
    };
    // Characters before length: "é" is both too long in octets and wrong, and the
    // character is the more useful thing to tell the operator.
    if let Some(ch) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(LabelError::BadCharacter { ch });
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(LabelError::TooLong { len: label.len() });
    }
    if first.is_ascii_digit() {
        return Err(LabelError::StartsWithDigit);
    }
    if first == '-' {
        return Err(LabelError::StartsWithHyphen);
    }
    if label.ends_with('-') {
        return Err(LabelError::EndsWithHyphen);
    }
    if RESERVED_LABELS.contains(&label.as_str()) {
        return Err(LabelError::Reserved { label });
    }
    Ok(label)
}

/// The Sovereign's FQDN for a label in a pool.
pub fn fqdn(label: &str, pool: &str) -> String {
    format!("{label}.{pool}")
}

/// A pool domain or BYO domain, normalised (trimmed, lower-cased, no final
/// dot) and checked with the wizard's domain rule, so the Domain step and the
/// PDM client refuse the same names with the same sentence.
pub fn check_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_end_matches('.').to_lowercase();
    crate::wizard::names::check_domain(&domain).map(|()| domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_labels_are_normalised_and_accepted() {
        let cases = [
            ("acme", "acme"),
            ("  Acme-Prod ", "acme-prod"),
            ("a", "a"),
            ("a1", "a1"),
            ("omantel-prod-2", "omantel-prod-2"),
            ("x--y", "x--y"),
            ("apis", "apis"),
            ("consoles", "consoles"),
        ];
        for (raw, want) in cases {
            assert_eq!(check_label(raw).as_deref(), Ok(want), "label {raw:?}");
        }
        let longest = format!("a{}", "b".repeat(62));
        assert_eq!(check_label(&longest), Ok(longest.clone()));
    }

    #[test]
    fn bad_labels_say_why() {
        let too_long = format!("a{}", "b".repeat(63));
        let cases: Vec<(&str, LabelError, &str)> = vec![
            ("", LabelError::Empty, "Enter a subdomain"),
            ("   ", LabelError::Empty, "Enter a subdomain"),
            (
                &too_long,
                LabelError::TooLong { len: 64 },
                "at most 63 characters (it has 64)",
            ),
            (
                "acme_prod",
                LabelError::BadCharacter { ch: '_' },
                "\"_\" is not allowed",
            ),
            (
                "acme.prod",
                LabelError::BadCharacter { ch: '.' },
                "\".\" is not allowed",
            ),
            (
                "acme prod",
                LabelError::BadCharacter { ch: ' ' },
                "U+0020 is not allowed",
            ),
            (
                "café",
                LabelError::BadCharacter { ch: 'é' },
                "\"é\" is not allowed",
            ),
            (
                "1acme",
                LabelError::StartsWithDigit,
                "start with a letter, not a digit",
            ),
            (
                "-acme",
                LabelError::StartsWithHyphen,
                "start with a letter, not a hyphen",
            ),
            ("acme-", LabelError::EndsWithHyphen, "cannot end with a hyphen"),
            (
                "Console",
                LabelError::Reserved {
                    label: "console".into(),
                },
                "\"console\" is reserved",
            ),
            (
                "k8s",
                LabelError::Reserved { label: "k8s".into() },
                "\"k8s\" is reserved",
            ),
        ];
        for (raw, want, sentence) in cases {
            let err = check_label(raw).expect_err(raw);
            assert_eq!(err, want, "label {raw:?}");
            let msg = err.to_string();
            assert!(msg.contains(sentence), "label {raw:?}: {msg}");
            assert!(msg.ends_with('.'), "a sentence: {msg}");
        }
    }

    #[test]
    fn every_reserved_label_is_refused() {
        for label in RESERVED_LABELS {
            assert_eq!(check_label(label).unwrap_err().code(), "subdomain_reserved_name");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(check_domain(" Example.COM. ").as_deref(), Ok("example.com"));
        assert_eq!(check_domain("apps.acme.co.uk").as_deref(), Ok("apps.acme.co.uk"));
        for (bad, why) in [
            ("", "Enter your domain"),
            ("localhost", "at least one dot"),
            ("a..b", "empty part"),
            ("-a.com", "cannot start or end"),
            ("a_b.com", "it contains \"_\""),
        ] {
            let msg = check_domain(bad).unwrap_err();
            assert!(msg.contains(why), "{bad:?}: {msg}");
        }
        assert!(check_domain(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(check_domain(&format!("{}com", "abcdefghi.".repeat(26))).is_err());
        for pool in DEFAULT_POOLS {
            assert_eq!(check_domain(pool).as_deref(), Ok(pool));
        }
    }
}
