//! Registrars PDM can drive for bring-your-own domains, and the credential
//! format each PDM registrar adapter parses.
//! The credential is checked here before it is sent, so a wrong shape is
//! named precisely instead of coming back as a registrar's generic "invalid".

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RegistrarKind {
    Cloudflare,
    Namecheap,
    Godaddy,
    Ovh,
    Dynadot,
}

impl RegistrarKind {
    pub const ALL: [RegistrarKind; 5] = [
        RegistrarKind::Cloudflare,
        RegistrarKind::Namecheap,
        RegistrarKind::Godaddy,
        RegistrarKind::Ovh,
        RegistrarKind::Dynadot,
    ];

    /// The id PDM uses in `/api/v1/registrar/{id}/…`.
    pub fn id(self) -> &'static str {
        match self {
            RegistrarKind::Cloudflare => "cloudflare",
            RegistrarKind::Namecheap => "namecheap",
            RegistrarKind::Godaddy => "godaddy",
            RegistrarKind::Ovh => "ovh",
            RegistrarKind::Dynadot => "dynadot",
        }
    }

    pub fn from_id(id: &str) -> Option<RegistrarKind> {
        RegistrarKind::ALL.into_iter().find(|k| k.id() == id.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            RegistrarKind::Cloudflare => "Cloudflare",
            RegistrarKind::Namecheap => "Namecheap",
            RegistrarKind::Godaddy => "GoDaddy",
            RegistrarKind::Ovh => "OVH",
            RegistrarKind::Dynadot => "Dynadot",
        }
    }

    /// What to paste, matching what the adapter parses (the original UI hints
    /// for Dynadot and Namecheap did not).
    pub fn credential_hint(self) -> &'static str {
        match self {
            RegistrarKind::Cloudflare => "A Cloudflare API token with Zone:Read and Zone:Edit on the domain.",
            RegistrarKind::Namecheap => {
                "apiUser:apiKey:clientIp, or apiUser:apiKey:userName:clientIp. clientIp is the IPv4 \
                 address on your Namecheap API allow-list."
            }
            RegistrarKind::Godaddy => "apiKey:apiSecret of a production GoDaddy API key.",
            RegistrarKind::Ovh => "appKey:appSecret:consumerKey of an OVH application.",
            RegistrarKind::Dynadot => "apiKey:apiSecret from Dynadot, Tools, API.",
        }
    }

    /// How long the NS change usually takes to show (PDM's own hints).
    pub fn propagation_hint(self) -> &'static str {
        match self {
            RegistrarKind::Cloudflare => "minutes (up to 24h)",
            RegistrarKind::Namecheap => "1-2h",
            RegistrarKind::Godaddy => "1-4h",
            RegistrarKind::Ovh => "1-4h (task queue)",
            RegistrarKind::Dynadot => "30-60 minutes",
        }
    }
}

/// One registrar as the Domain step lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RegistrarInfo {
    pub kind: RegistrarKind,
    pub label: String,
    pub credential_hint: String,
    pub propagation: String,
}

/// The five registrars, in the order the Domain step offers them.
pub fn registrars() -> Vec<RegistrarInfo> {
    RegistrarKind::ALL
        .into_iter()
        .map(|kind| RegistrarInfo {
            kind,
            label: kind.label().to_owned(),
            credential_hint: kind.credential_hint().to_owned(),
            propagation: kind.propagation_hint().to_owned(),
        })
        .collect()
}

impl fmt::Display for RegistrarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A credential that does not have the shape the adapter parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialError {
    pub registrar: RegistrarKind,
    pub message: String,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialError {}

/// Checks the credential's shape for `kind` and returns it trimmed (a pasted
/// value often carries a trailing newline). Never echoes the credential.
pub fn check_credential(kind: RegistrarKind, raw: &str) -> Result<String, CredentialError> {
    let token = raw.trim();
    let fail = |message: String| CredentialError {
        registrar: kind,
        message,
    };
    let name = kind.label();
    if token.is_empty() {
        return Err(fail(format!(
            "Paste the {name} credential: {}",
            kind.credential_hint()
        )));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(fail(format!(
            "The {name} credential contains spaces or line breaks; paste it again as one value ({}).",
            kind.credential_hint()
        )));
    }
    let parts: Vec<&str> = token.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) && parts.len() > 1 {
        return Err(fail(format!(
            "The {name} credential has an empty part between its colons. Expected {}",
            kind.credential_hint()
        )));
    }
    match kind {
        RegistrarKind::Cloudflare => {
            // PDM sends it as `Authorization: Bearer <token>`. A Global API Key
            // paired with an email ("email:key") is a different scheme it does not speak.
            if parts.len() != 1 {
                return Err(fail(
                    "A Cloudflare API token is a single value without ':'. A Global API Key with an \
                     e-mail address does not work here; create an API token with Zone:Read and Zone:Edit."
                        .into(),
                ));
            }
            let ok = token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok || token.len() < 20 {
                return Err(fail(
                    "That does not look like a Cloudflare API token (letters, digits, '-' and '_', about \
                     40 characters)."
                        .into(),
                ));
            }
        }
        RegistrarKind::Namecheap => match parts.len() {
            // The adapter accepts `apiUser:apiKey` but then calls Namecheap as
            // 127.0.0.1, which no allow-list holds: only useful in PDM's own tests.
            2 => {
                return Err(fail(
                    "Namecheap needs the client IP too: apiUser:apiKey:clientIp (or \
                     apiUser:apiKey:userName:clientIp). Without it PDM calls Namecheap as 127.0.0.1, \
                     which Namecheap refuses."
                        .into(),
                ));
            }
            3 | 4 => {
                let ip = parts[parts.len() - 1];
                if ip.parse::<Ipv4Addr>().is_err() {
                    return Err(fail(
                        "The last part of the Namecheap credential must be the IPv4 address on your \
                         Namecheap API allow-list, and it is not an IPv4 address."
                            .into(),
                    ));
                }
            }
            n => {
                return Err(fail(format!(
                    "The Namecheap credential has {n} part(s); expected {}",
                    kind.credential_hint()
                )));
            }
        },
        RegistrarKind::Godaddy | RegistrarKind::Dynadot => {
            if parts.len() != 2 {
                return Err(fail(format!(
                    "The {name} credential has {} part(s); expected two, {}",
                    parts.len(),
                    kind.credential_hint()
                )));
            }
        }
        RegistrarKind::Ovh => {
            if parts.len() != 3 {
                return Err(fail(format!(
                    "The OVH credential has {} part(s); expected three, {}",
                    parts.len(),
                    kind.credential_hint()
                )));
            }
        }
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CF: &str = "Zx9_aB3-cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX";

    #[test]
    fn ids_round_trip_and_serialise_as_pdm_ids() {
        for k in RegistrarKind::ALL {
            assert_eq!(RegistrarKind::from_id(k.id()), Some(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.id()));
        }
        assert_eq!(RegistrarKind::from_id("route53"), None);
    }

    #[test]
    fn accepted_credentials() {
        let cases = [
            (RegistrarKind::Cloudflare, CF),
            (RegistrarKind::Namecheap, "alice:0123abcd:203.0.113.7"),
            (RegistrarKind::Namecheap, "alice:0123abcd:bob:203.0.113.7"),
            (RegistrarKind::Godaddy, "dLf3key:Secr3t"),
            (RegistrarKind::Ovh, "appk:apps:consumer"),
            (RegistrarKind::Dynadot, "key123:secret456"),
        ];
        for (k, tok) in cases {
            assert_eq!(
                check_credential(k, &format!(" {tok}\n")).as_deref(),
                Ok(tok),
                "{k:?}"
            );
        }
    }

    #[test]
    fn rejected_credentials_say_why() {
        let cases = [
            (RegistrarKind::Cloudflare, "", "Paste the Cloudflare credential"),
            (
                RegistrarKind::Cloudflare,
                "me@example.com:globalkey1234567890",
                "Global API Key",
            ),
            (
                RegistrarKind::Cloudflare,
                "short",
                "does not look like a Cloudflare API token",
            ),
            (
                RegistrarKind::Cloudflare,
                "abc def ghi jkl mno pqr stu",
                "spaces or line breaks",
            ),
            (RegistrarKind::Namecheap, "alice:0123abcd", "needs the client IP"),
            (
                RegistrarKind::Namecheap,
                "alice:0123abcd:myhost",
                "is not an IPv4 address",
            ),
            (
                RegistrarKind::Namecheap,
                "alice:key:bob:x:203.0.113.7",
                "5 part(s)",
            ),
            (RegistrarKind::Namecheap, "alice", "1 part(s)"),
            (RegistrarKind::Godaddy, "justakey", "1 part(s); expected two"),
            (RegistrarKind::Godaddy, "a:b:c", "3 part(s); expected two"),
            (RegistrarKind::Godaddy, "key:", "empty part"),
            (RegistrarKind::Ovh, "app:secret", "2 part(s); expected three"),
            (RegistrarKind::Dynadot, "singleapikey", "1 part(s); expected two"),
        ];
        for (k, tok, why) in cases {
            let err = check_credential(k, tok).expect_err(tok);
            assert_eq!(err.registrar, k);
            assert!(err.message.contains(why), "{k:?} {tok:?}: {}", err.message);
        }
    }

    #[test]
    fn a_rejection_never_echoes_the_secret_part() {
        let err = check_credential(RegistrarKind::Godaddy, "verysecretkey-1:secret-two:three").unwrap_err();
        assert!(!err.message.contains("verysecretkey-1"));
        assert!(!err.message.contains("secret-two"));
    }
}
