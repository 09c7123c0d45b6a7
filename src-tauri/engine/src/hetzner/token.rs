//! Token check: is the token valid, may it write, and what does its project
//! offer (locations, server types with per-location availability and prices,
//! load balancer types). Hetzner has no token-introspection endpoint, so the
//! scope comes from a write that cannot create anything.

use crate::error::ErrorCode;
use serde_json::json;

use super::client::{HetznerClient, Repeat};
use super::config::HetznerConfig;
use super::error::{ApiErrorKind, HetznerError};
use super::types::{
    LocationInfo, TokenCheck, TokenScope, WireLoadBalancerType, WireLocation, WirePricing,
    WirePricingEnvelope, WireServerType,
};

pub const MSG_READ_WRITE: &str = "The token is valid and may create resources in its Hetzner project.";
pub const MSG_READ_ONLY: &str = "The token is valid but read-only. Provisioning creates servers, so create a \
                                 token with \"Read & Write\" permission in the Hetzner Cloud Console and paste \
                                 it instead.";
pub const MSG_INVALID: &str = "Hetzner does not accept this token: it is wrong, was deleted or belongs to no \
                               project. Copy it again from the Hetzner Cloud Console (Project → Security → API \
                               tokens).";
pub const MSG_MALFORMED: &str = "This is not an API token: it is empty or contains spaces or characters a \
                                 Hetzner token never has. Copy it again from the Hetzner Cloud Console.";

/// The length of every Hetzner Cloud API token.
pub const TOKEN_LEN: usize = 64;

/// What is wrong with a token's form, checked here before any network call:
/// Hetzner's API tokens are 64 letters and digits.
pub fn format_problem(token: &str) -> Option<String> {
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Some(MSG_MALFORMED.to_owned());
    }
    if let Some(c) = token.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Some(format!(
            "A Hetzner API token is letters and digits only; this one has \"{c}\" in it. Copy it again from the Hetzner Cloud Console."
        ));
    }
    let n = token.chars().count();
    (n != TOKEN_LEN).then(|| {
        format!(
            "A Hetzner API token is {TOKEN_LEN} characters long; this one has {n}. Copy it again, whole, from the Hetzner Cloud Console."
        )
    })
}

/// Reads the token's scope from a `POST /ssh_keys` with an empty body, which
/// cannot create anything: a read-write token gets `invalid_input`, a
/// read-only one `token_readonly` (older API: `forbidden`). That Hetzner checks
/// permission before the body is how practitioner code reads it, not stated
/// in Hetzner's docs; a live check per token kind should confirm it.
pub async fn probe_scope(client: &HetznerClient) -> Result<TokenScope, HetznerError> {
    match client
        .post::<serde_json::Value>("/ssh_keys", &json!({}), Repeat::Safe)
        .await
    {
        // An empty body cannot create a key; a 2xx still proves write access.
        Ok(_) => Ok(TokenScope::ReadWrite),
        Err(e) => match e.kind() {
            Some(ApiErrorKind::Unauthorized) => Ok(TokenScope::Invalid),
            Some(ApiErrorKind::TokenReadonly | ApiErrorKind::Forbidden) => Ok(TokenScope::ReadOnly),
            Some(ApiErrorKind::InvalidInput | ApiErrorKind::JsonError) => Ok(TokenScope::ReadWrite),
            _ => Err(e),
        },
    }
}

fn scope_only(scope: TokenScope, message: &str) -> TokenCheck {
    TokenCheck {
        scope,
        message: message.to_owned(),
        locations: Vec::new(),
        server_types: Vec::new(),
        load_balancer_types: Vec::new(),
        currency: None,
        vat_rate: None,
    }
}

/// Checks a token: scope plus the catalogue, fetched concurrently. An invalid
/// or malformed token is an answer (`scope: Invalid`), not an error; errors
/// are for when Hetzner could not be asked.
pub async fn check_token(config: &HetznerConfig, token: &str) -> Result<TokenCheck, HetznerError> {
    let token = token.trim();
    if let Some(problem) = format_problem(token) {
        return Ok(scope_only(TokenScope::Invalid, &problem));
    }
    let client = HetznerClient::new(config.clone(), token)?;
    check_with(&client).await
}

/// `check_token` over an existing client (its budget bounds the check).
pub async fn check_with(client: &HetznerClient) -> Result<TokenCheck, HetznerError> {
    let (scope, locations, server_types, lb_types, pricing) = tokio::join!(
        probe_scope(client),
        client.list::<WireLocation>("/locations", "locations", &[]),
        client.list::<WireServerType>("/server_types", "server_types", &[]),
        client.list::<WireLoadBalancerType>("/load_balancer_types", "load_balancer_types", &[]),
        client.get::<WirePricingEnvelope>("/pricing", &[]),
    );
    let scope = scope?;
    if scope == TokenScope::Invalid {
        tracing::info!("Hetzner token check: token not accepted");
        return Ok(scope_only(TokenScope::Invalid, MSG_INVALID));
    }
    let mut locations: Vec<LocationInfo> = locations?.into_iter().map(LocationInfo::from).collect();
    locations.sort_by_key(|l| l.id);
    let pricing: WirePricing = pricing?.pricing;
    let mut server_types: Vec<_> = server_types?
        .into_iter()
        .map(|t| {
            let prices = WirePricing::find(&pricing.server_types, t.id, &t.name);
            t.into_info(prices)
        })
        .collect();
    server_types.sort_by_key(|t| t.id);
    let load_balancer_types = lb_types?
        .into_iter()
        .map(|t| {
            let prices = WirePricing::find(&pricing.load_balancer_types, t.id, &t.name);
            t.into_info(prices)
        })
        .collect();
    tracing::info!(
        scope = ?scope,
        locations = locations.len(),
        server_types = server_types.len(),
        attempts = client.attempts(),
        "Hetzner token check done"
    );
    let message = match scope {
        TokenScope::ReadWrite => MSG_READ_WRITE,
        _ => MSG_READ_ONLY,
    };
    Ok(TokenCheck {
        scope,
        message: message.to_owned(),
        locations,
        server_types,
        load_balancer_types,
        currency: pricing.currency,
        vat_rate: pricing.vat_rate,
    })
}

/// Refuses a token that cannot provision, with the sentence to show.
pub fn require_read_write(check: &TokenCheck) -> Result<(), crate::error::ApiError> {
    match check.scope {
        TokenScope::ReadWrite => Ok(()),
        TokenScope::ReadOnly => Err(crate::error::ApiError::new(
            ErrorCode::TokenReadonly,
            MSG_READ_ONLY,
        )),
        TokenScope::Invalid => Err(crate::error::ApiError::new(
            ErrorCode::Unauthorized,
            check.message.clone(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_tokens_are_invalid_without_a_call() {
        // Port 9 would refuse; no call must be made at all.
        let cfg = HetznerConfig::with_base_url("http://127.0.0.1:9/v1");
        for t in ["", "   ", "abc def", "tok\u{e9}n", "a\tb"] {
            let c = check_token(&cfg, t).await.unwrap();
            assert_eq!(c.scope, TokenScope::Invalid, "{t:?}");
            assert_eq!(c.message, MSG_MALFORMED);
        }
        let c = check_token(&cfg, "abc").await.unwrap();
        assert_eq!(
            c.message,
            "A Hetzner API token is 64 characters long; this one has 3. Copy it again, whole, from the Hetzner Cloud Console."
        );
        let c = check_token(&cfg, &format!("{}-", "a".repeat(63))).await.unwrap();
        assert!(
            c.message.contains("letters and digits only; this one has \"-\""),
            "{}",
            c.message
        );
    }

    #[test]
    fn only_read_write_may_provision() {
        let mut c = scope_only(TokenScope::ReadOnly, MSG_READ_ONLY);
        assert_eq!(require_read_write(&c).unwrap_err().code, "token_readonly");
        c.scope = TokenScope::Invalid;
        assert_eq!(require_read_write(&c).unwrap_err().code, "unauthorized");
        c.scope = TokenScope::ReadWrite;
        assert!(require_read_write(&c).is_ok());
    }
}
