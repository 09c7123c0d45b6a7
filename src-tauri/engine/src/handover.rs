//! The first login to the new Sovereign: the app keeps an ed25519 handover
//! key per deployment in the keyring, installs its public half in the
//! cluster as the reference does (`catalyst-system/
//! catalyst-handover-jwt-public`, key `public.jwk`, an RFC 8037 OKP JWK),
//! and opens `https://console.<fqdn>/auth/handover?token=<JWT>` with a
//! short-lived, one-time token signed with it (EdDSA). The claims are the
//! reference console's: iss, aud = the console URL, sub/email with
//! email_verified, role sovereign-admin, iat/exp, a jti it refuses twice.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use crate::tofu::secret::Secret;

/// The issuer the Sovereign's console accepts handover tokens from.
pub const HANDOVER_ISSUER: &str = "https://console.openova.io";
/// The role the console grants.
pub const HANDOVER_ROLE: &str = "sovereign-admin";
/// How long a handover token is good for: long enough for a browser to
/// open, short enough that one seen later is dead.
pub const HANDOVER_MINUTES: i64 = 5;
/// Where the reference installs the public key.
pub const PUBLIC_KEY_SECRET: (&str, &str) = ("catalyst-system", "catalyst-handover-jwt-public");
pub const PUBLIC_KEY_FIELD: &str = "public.jwk";

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("the handover key in the keyring cannot be read")]
    BadKey,
}

/// One deployment's handover key (32-byte seed, base64url in the keyring).
pub struct HandoverKey {
    key: SigningKey,
}

impl std::fmt::Debug for HandoverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoverKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// The claims of a handover token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub role: String,
    pub sovereign_fqdn: String,
    pub deployment_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

impl HandoverClaims {
    /// For the admin `email` of `fqdn`, valid from `now` (Unix seconds).
    pub fn new(fqdn: &str, deployment_id: &str, email: &str, now: i64) -> HandoverClaims {
        HandoverClaims {
            iss: HANDOVER_ISSUER.into(),
            aud: format!("https://console.{fqdn}"),
            sub: email.into(),
            email: email.into(),
            email_verified: true,
            role: HANDOVER_ROLE.into(),
            sovereign_fqdn: fqdn.into(),
            deployment_id: deployment_id.into(),
            iat: now,
            exp: now + HANDOVER_MINUTES * 60,
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// What "Open console" did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConsoleHandover {
    /// The console's address, without the token.
    pub console: String,
    /// The address with the token; the front end opens it when the app
    /// could not (a browser over the bridge). Good for one login only.
    pub url: String,
    /// Whether the app opened the system browser itself.
    pub opened: bool,
    /// RFC 3339: the token is refused after this.
    pub expires_at: String,
}

impl HandoverKey {
    pub fn generate() -> HandoverKey {
        let seed: [u8; 32] = rand::random();
        HandoverKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The keyring's text (base64url of the seed).
    pub fn to_secret(&self) -> Secret {
        Secret::new(URL_SAFE_NO_PAD.encode(self.key.to_bytes()))
    }

    pub fn from_secret(text: &str) -> Result<HandoverKey, HandoverError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| HandoverError::BadKey)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| HandoverError::BadKey)?;
        Ok(HandoverKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// The key id: the first 16 characters of the public key, enough to tell keys apart.
    pub fn kid(&self) -> String {
        self.x().chars().take(16).collect()
    }

    /// The public half as a JWK (RFC 8037).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": self.x(), "use": "sig", "alg": "EdDSA", "kid": self.kid()})
    }

    /// A compact JWS (header.claims.signature) over `claims`.
    pub fn sign(&self, claims: &HandoverClaims) -> Secret {
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid()});
        let claims = serde_json::to_value(claims).unwrap_or(Value::Null);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes());
        Secret::new(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    #[test]
    fn a_token_verifies_with_the_published_jwk_and_only_unchanged() {
        let key = HandoverKey::generate();
        let back = HandoverKey::from_secret(key.to_secret().expose()).unwrap();
        assert_eq!(
            back.public_jwk(),
            key.public_jwk(),
            "the keyring's text restores the key"
        );
        let claims = HandoverClaims::new("acme.omani.works", "d-1", "ops@acme.example", 1_800_000_000);
        assert_eq!(claims.aud, "https://console.acme.omani.works");
        assert_eq!(claims.exp - claims.iat, 300);
        let token = key.sign(&claims);
        let parts: Vec<&str> = token.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let jwk = key.public_jwk();
        let x: [u8; 32] = URL_SAFE_NO_PAD
            .decode(jwk["x"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let public = VerifyingKey::from_bytes(&x).unwrap();
        let sig: [u8; 64] = URL_SAFE_NO_PAD.decode(parts[2]).unwrap().try_into().unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(
            public
                .verify(input.as_bytes(), &Signature::from_bytes(&sig))
                .is_ok()
        );
        let read: HandoverClaims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(read, claims);
        // Another audience under the same signature does not verify.
        let mut forged = claims.clone();
        forged.aud = "https://console.other.example".into();
        let forged_part = URL_SAFE_NO_PAD.encode(serde_json::to_string(&forged).unwrap());
        let forged_input = format!("{}.{forged_part}", parts[0]);
        assert!(
            public
                .verify(forged_input.as_bytes(), &Signature::from_bytes(&sig))
                .is_err()
        );
        assert!(!format!("{key:?}").contains(key.to_secret().expose()));
    }

    #[test]
    fn each_token_has_its_own_jti_and_a_bad_keyring_text_is_refused() {
        let a = HandoverClaims::new("a.example", "d", "e@x", 0);
        let b = HandoverClaims::new("a.example", "d", "e@x", 0);
        assert_ne!(a.jti, b.jti);
        assert!(HandoverKey::from_secret("not base64!").is_err());
        assert!(HandoverKey::from_secret("AAAA").is_err());
    }
}
