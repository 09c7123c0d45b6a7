//! Errors of the Hetzner Cloud API, typed from the error object in the body
//! (`{"error":{"code","message","details"}}`), never from the HTTP status
//! alone: Hetzner answers 403 both for a read-only token and for a full
//! project quota.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `code` of Hetzner's error object, for the codes the app reacts to.
/// Codes it does not know are kept verbatim in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    Unauthorized,
    Forbidden,
    TokenReadonly,
    InvalidInput,
    JsonError,
    UniquenessError,
    ResourceLimitExceeded,
    ResourceUnavailable,
    PlacementError,
    RateLimitExceeded,
    Locked,
    Conflict,
    ServerError,
    ServiceError,
    Unavailable,
    Timeout,
    Maintenance,
    ResourceInUse,
    NotFound,
    Protected,
    /// No capacity left for the resource in the location (volumes).
    NoSpaceLeftInLocation,
    /// The resource is locked (an action runs on it, or Hetzner holds it).
    ResourceLocked,
    /// Hetzner's Robot (dedicated servers, vSwitch) does not answer.
    RobotUnavailable,
    /// A gateway in front of the API failed (502 with an error object).
    BadGateway,
    Other(String),
}

impl ApiErrorKind {
    pub fn from_code(code: &str) -> ApiErrorKind {
        use ApiErrorKind::*;
        match code {
            "unauthorized" => Unauthorized,
            "forbidden" => Forbidden,
            "token_readonly" => TokenReadonly,
            "invalid_input" => InvalidInput,
            "json_error" => JsonError,
            "uniqueness_error" => UniquenessError,
            "resource_limit_exceeded" => ResourceLimitExceeded,
            "resource_unavailable" => ResourceUnavailable,
            "placement_error" => PlacementError,
            "rate_limit_exceeded" => RateLimitExceeded,
            "locked" => Locked,
            "conflict" => Conflict,
            "server_error" => ServerError,
            "service_error" => ServiceError,
            "unavailable" => Unavailable,
            "timeout" => Timeout,
            "maintenance" => Maintenance,
            "resource_in_use" => ResourceInUse,
            "not_found" => NotFound,
            "protected" => Protected,
            "no_space_left_in_location" => NoSpaceLeftInLocation,
            "resource_locked" => ResourceLocked,
            "robot_unavailable" => RobotUnavailable,
            "bad_gateway" => BadGateway,
            other => Other(other.to_owned()),
        }
    }

    pub fn code(&self) -> &str {
        use ApiErrorKind::*;
        match self {
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            TokenReadonly => "token_readonly",
            InvalidInput => "invalid_input",
            JsonError => "json_error",
            UniquenessError => "uniqueness_error",
            ResourceLimitExceeded => "resource_limit_exceeded",
            ResourceUnavailable => "resource_unavailable",
            PlacementError => "placement_error",
            RateLimitExceeded => "rate_limit_exceeded",
            Locked => "locked",
            Conflict => "conflict",
            ServerError => "server_error",
            ServiceError => "service_error",
            Unavailable => "unavailable",
            Timeout => "timeout",
            Maintenance => "maintenance",
            ResourceInUse => "resource_in_use",
            NotFound => "not_found",
            Protected => "protected",
            NoSpaceLeftInLocation => "no_space_left_in_location",
            ResourceLocked => "resource_locked",
            RobotUnavailable => "robot_unavailable",
            BadGateway => "bad_gateway",
            Other(code) => code,
        }
    }

    /// Hetzner's own failures and "try again" answers: worth another attempt
    /// for a request that is safe to repeat.
    pub fn is_transient(&self) -> bool {
        use ApiErrorKind::*;
        matches!(
            self,
            ServerError
                | ServiceError
                | Unavailable
                | Timeout
                | Maintenance
                | Conflict
                | Locked
                | ResourceLocked
                | RobotUnavailable
                | BadGateway
        )
    }
}

/// One entry of `details.fields` (invalid_input, uniqueness_error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub name: String,
    #[serde(default)]
    pub messages: Vec<String>,
}

/// An error object as Hetzner sent it, with the HTTP status it came with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub kind: ApiErrorKind,
    pub status: u16,
    pub message: String,
    /// `details.fields` of invalid_input / uniqueness_error.
    pub fields: Vec<FieldProblem>,
    /// `details.limits[].name` of resource_limit_exceeded.
    pub limits: Vec<String>,
    /// `RateLimit-Reset` (unix seconds) when the answer carried it.
    pub rate_limit_reset: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Option<Value>,
}

impl ApiFailure {
    /// Reads Hetzner's error object from a response body; `None` when the body
    /// is not one (an HTML page from a proxy, an empty body).
    pub fn from_body(status: u16, body: &[u8]) -> Option<ApiFailure> {
        let env: ErrorEnvelope = serde_json::from_slice(body).ok()?;
        let details = env.error.details.unwrap_or(Value::Null);
        let fields = details
            .get("fields")
            .and_then(|f| serde_json::from_value::<Vec<FieldProblem>>(f.clone()).ok())
            .unwrap_or_default();
        let limits = details
            .get("limits")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(ApiFailure {
            kind: ApiErrorKind::from_code(&env.error.code),
            status,
            message: env.error.message,
            fields,
            limits,
            rate_limit_reset: None,
        })
    }

    fn fields_sentence(&self) -> String {
        if self.fields.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|f| {
                if f.messages.is_empty() {
                    f.name.clone()
                } else {
                    format!("{}: {}", f.name, f.messages.join("; "))
                }
            })
            .collect();
        format!(" ({})", parts.join(", "))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HetznerError {
    #[error("Hetzner API error {}: {}", .0.kind.code(), .0.message)]
    Api(ApiFailure),
    /// No answer: DNS, connect, TLS, timeout, a connection cut mid-body.
    #[error("Hetzner API not reachable: {detail}")]
    Transport { detail: String },
    /// An answer that is neither the expected JSON nor an error object.
    #[error("unexpected answer from the Hetzner API (HTTP {status}): {detail}")]
    UnexpectedResponse { status: u16, detail: String },
    /// One request kept failing with retryable errors up to its attempt cap.
    #[error("Hetzner API still failing after {attempts} attempts: {last}")]
    RetriesExhausted { attempts: u32, last: Box<HetznerError> },
    /// The client (one operation) used up its request budget.
    #[error("request budget of {budget} Hetzner API calls used up")]
    BudgetExhausted {
        budget: u32,
        last: Option<Box<HetznerError>>,
    },
    /// The configuration or the token cannot make a request at all.
    #[error("invalid Hetzner client setup: {detail}")]
    Setup { detail: String },
}

impl HetznerError {
    /// The API failure behind this error, looking through retry wrappers.
    pub fn api(&self) -> Option<&ApiFailure> {
        match self {
            HetznerError::Api(f) => Some(f),
            HetznerError::RetriesExhausted { last, .. } => last.api(),
            HetznerError::BudgetExhausted { last: Some(last), .. } => last.api(),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<&ApiErrorKind> {
        match self {
            HetznerError::Api(f) => Some(&f.kind),
            _ => None,
        }
    }

    pub fn is(&self, kind: &ApiErrorKind) -> bool {
        self.kind() == Some(kind)
    }

    /// A stable code for the UI and the troubleshooting matrix: Hetzner's
    /// own code for API errors, one of ours otherwise.
    pub fn code(&self) -> String {
        match self {
            HetznerError::Api(f) => f.kind.code().to_owned(),
            HetznerError::Transport { .. } => "transport_error".into(),
            HetznerError::UnexpectedResponse { .. } => "unexpected_response".into(),
            // The cause decides what the operator does, so it keeps its code.
            HetznerError::RetriesExhausted { last, .. } => last.code(),
            HetznerError::BudgetExhausted { .. } => "request_budget_exhausted".into(),
            HetznerError::Setup { .. } => "client_setup".into(),
        }
    }

    /// `code` as the app's closed set (Hetzner's unknown codes are
    /// `hetzner_error`; the message still names them).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            HetznerError::Api(f) => ErrorCode::from_hetzner(f.kind.code()),
            HetznerError::Transport { .. } => ErrorCode::TransportError,
            HetznerError::UnexpectedResponse { .. } => ErrorCode::UnexpectedResponse,
            HetznerError::RetriesExhausted { last, .. } => last.error_code(),
            HetznerError::BudgetExhausted { .. } => ErrorCode::RequestBudgetExhausted,
            HetznerError::Setup { .. } => ErrorCode::ClientSetup,
        }
    }

    /// One or two sentences an operator can act on.
    pub fn operator_message(&self) -> String {
        match self {
            HetznerError::Api(f) => api_message(f),
            HetznerError::Transport { detail } => format!(
                "The Hetzner Cloud API could not be reached ({detail}). Check the internet connection \
                 and any proxy, then try again."
            ),
            HetznerError::UnexpectedResponse { status, detail } => format!(
                "The Hetzner Cloud API gave an answer the app does not understand (HTTP {status}: \
                 {detail}). If a proxy sits between this computer and Hetzner, check it; otherwise \
                 try again later."
            ),
            HetznerError::RetriesExhausted { attempts, last } => format!(
                "Hetzner kept failing after {attempts} attempts. Last answer: {}",
                last.operator_message()
            ),
            HetznerError::BudgetExhausted { budget, last } => {
                let tail = last
                    .as_ref()
                    .map(|l| format!(" Last answer: {}", l.operator_message()))
                    .unwrap_or_default();
                format!(
                    "The app stopped after {budget} calls to the Hetzner API for this step, so it does \
                     not hammer an API that keeps failing.{tail}"
                )
            }
            HetznerError::Setup { detail } => format!("The Hetzner client could not be set up: {detail}."),
        }
    }
}

fn api_message(f: &ApiFailure) -> String {
    use ApiErrorKind::*;
    let m = f.message.trim_end_matches('.');
    match &f.kind {
        Unauthorized => "Hetzner does not accept this API token: it is wrong, was deleted or belongs to \
                         no project. Create a token in the Hetzner Cloud Console (Project → Security → \
                         API tokens) and paste it again."
            .into(),
        TokenReadonly => "This API token is read-only. Provisioning creates servers, so create a token with \
                          \"Read & Write\" permission in the Hetzner Cloud Console and paste it instead."
            .into(),
        Forbidden => format!(
            "Hetzner refused the action for this token ({m}). Use a \"Read & Write\" token of the \
             project you want to provision into."
        ),
        InvalidInput => format!(
            "Hetzner rejected the request as invalid: {m}{}.",
            f.fields_sentence()
        ),
        JsonError => {
            format!("Hetzner could not read the request ({m}). This is a bug in the app; please report it.")
        }
        UniquenessError => format!(
            "Something with the same name or fingerprint already exists in the Hetzner project ({m}{}). \
             Rename it, delete the old one, or reuse it.",
            f.fields_sentence()
        ),
        ResourceLimitExceeded => {
            let limits = if f.limits.is_empty() {
                String::new()
            } else {
                format!("; limit: {}", f.limits.join(", "))
            };
            format!(
                "The Hetzner project has reached one of its resource limits ({m}{limits}). Delete unused \
                 resources or ask Hetzner support to raise the limit, then try again."
            )
        }
        ResourceUnavailable => format!(
            "Hetzner cannot provide this resource right now ({m}). Choose another location or server \
             type, or try again later."
        ),
        PlacementError => {
            format!("Hetzner could not place the server ({m}). Choose another location, or try again later.")
        }
        RateLimitExceeded => "The Hetzner API rate limit of this project is used up (3600 calls per hour, \
                              shared by every tool using the project). Wait a few minutes and try again."
            .into(),
        Locked => format!(
            "The resource is busy with another action at Hetzner ({m}). Wait until that finishes and try \
             again."
        ),
        Conflict => format!("The resource changed at Hetzner while the request ran ({m}). Try again."),
        ServerError | ServiceError | Unavailable | Timeout | Maintenance => format!(
            "Hetzner's API had a problem on its side (HTTP {}: {m}). Try again in a few minutes and check \
             status.hetzner.com if it persists.",
            f.status
        ),
        ResourceInUse => {
            format!("The resource is still in use ({m}). Detach it from what uses it, or delete that first.")
        }
        NotFound => format!("Hetzner does not know this resource (it may already be deleted): {m}."),
        Protected => format!(
            "The resource has delete or rebuild protection at Hetzner ({m}). Lift the protection in the \
             Hetzner Cloud Console first."
        ),
        NoSpaceLeftInLocation => format!(
            "Hetzner has no room left for this resource in the chosen location ({m}). Choose another \
             location, or try again later."
        ),
        ResourceLocked => format!(
            "Hetzner has locked the resource ({m}): an action is still running on it, or Hetzner holds \
             it. Wait a few minutes and try again; if it stays locked, look at the resource in the \
             Hetzner Cloud Console."
        ),
        RobotUnavailable => format!(
            "Hetzner's Robot system (dedicated servers and vSwitch links) is not answering ({m}). Try \
             again later."
        ),
        BadGateway => format!(
            "A gateway in front of Hetzner's API failed (HTTP {}: {m}). Try again in a few minutes; if \
             a proxy sits between this computer and Hetzner, check it too.",
            f.status
        ),
        Other(code) => format!("Hetzner answered with error \"{code}\": {m}."),
    }
}

impl From<HetznerError> for crate::error::ApiError {
    fn from(e: HetznerError) -> Self {
        let field = e.api().and_then(|f| f.fields.first()).map(|f| f.name.clone());
        crate::error::ApiError {
            code: e.error_code(),
            message: e.operator_message(),
            field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, body: &str) -> HetznerError {
        HetznerError::Api(ApiFailure::from_body(status, body.as_bytes()).expect("error object"))
    }

    #[test]
    fn the_code_in_the_body_decides_not_the_status() {
        let quota = failure(
            403,
            r#"{"error":{"code":"resource_limit_exceeded","message":"server limit exceeded","details":{"limits":[{"name":"server_limit"}]}}}"#,
        );
        assert_eq!(quota.code(), "resource_limit_exceeded");
        assert!(quota.operator_message().contains("server_limit"));
        assert!(!quota.operator_message().contains("token"));
        let ro = failure(403, r#"{"error":{"code":"token_readonly","message":"only GET"}}"#);
        assert_eq!(ro.code(), "token_readonly");
        assert!(ro.operator_message().contains("Read & Write"));
    }

    #[test]
    fn invalid_input_names_its_fields() {
        let e = failure(
            400,
            r#"{"error":{"code":"invalid_input","message":"invalid input in fields 'name', 'public_key'","details":{"fields":[{"name":"name","messages":["Missing data for required field."]},{"name":"public_key","messages":["Missing data for required field."]}]}}}"#,
        );
        let f = e.api().unwrap();
        assert_eq!(f.fields.len(), 2);
        assert!(e.operator_message().contains("public_key: Missing data"));
        let api: crate::error::ApiError = e.into();
        assert_eq!(api.field.as_deref(), Some("name"));
    }

    #[test]
    fn unknown_codes_are_kept_verbatim_and_bodies_that_are_not_errors_are_none() {
        let e = failure(422, r#"{"error":{"code":"some_future_code","message":"full"}}"#);
        assert_eq!(e.code(), "some_future_code");
        assert!(e.operator_message().contains("some_future_code"));
        assert!(ApiFailure::from_body(502, b"<html>bad gateway</html>").is_none());
        assert!(ApiFailure::from_body(500, b"").is_none());
    }

    #[test]
    fn every_known_code_round_trips_and_has_its_own_sentence() {
        let codes = [
            "unauthorized",
            "forbidden",
            "token_readonly",
            "invalid_input",
            "json_error",
            "uniqueness_error",
            "resource_limit_exceeded",
            "resource_unavailable",
            "placement_error",
            "rate_limit_exceeded",
            "locked",
            "conflict",
            "server_error",
            "resource_in_use",
            "not_found",
            "protected",
            "no_space_left_in_location",
            "resource_locked",
            "robot_unavailable",
            "bad_gateway",
        ];
        let mut sentences = std::collections::HashSet::new();
        for c in codes {
            let kind = ApiErrorKind::from_code(c);
            assert!(!matches!(kind, ApiErrorKind::Other(_)), "{c} not typed");
            assert_eq!(kind.code(), c);
            let e = failure(400, &format!(r#"{{"error":{{"code":"{c}","message":"m"}}}}"#));
            assert!(sentences.insert(e.operator_message()), "{c} shares its sentence");
        }
    }

    #[test]
    fn wrappers_keep_the_cause_code() {
        let cause = failure(500, r#"{"error":{"code":"server_error","message":"boom"}}"#);
        let wrapped = HetznerError::RetriesExhausted {
            attempts: 4,
            last: Box::new(cause.clone()),
        };
        assert_eq!(wrapped.code(), "server_error");
        let budget = HetznerError::BudgetExhausted {
            budget: 9,
            last: Some(Box::new(cause)),
        };
        assert_eq!(budget.code(), "request_budget_exhausted");
        assert!(budget.operator_message().contains("9 calls"));
        assert!(budget.operator_message().contains("HTTP 500"));
    }
}
