//! The registrar handlers (validate, set-ns), answering as each registrar is scripted.
use super::*;

pub(super) fn propagation(registrar: &str) -> &'static str {
    match registrar {
        "cloudflare" => "minutes (up to 24h)",
        "godaddy" => "1-4h",
        "namecheap" => "1-2h",
        "ovh" => "1-4h (task queue)",
        _ => "30-60 minutes",
    }
}

/// Common part of both registrar endpoints: adapter lookup, body, script.
pub(super) fn registrar_call(st: &mut Inner, registrar: &str, body: &Bytes) -> Result<Value, Response> {
    if st.cfg.registrars.is_empty() {
        return Err(problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "registrar-unavailable",
            "no registrar registry wired",
        ));
    }
    if !st.cfg.registrars.iter().any(|r| r == registrar) {
        return Err(answer(
            StatusCode::NOT_FOUND,
            json!({"error": "unsupported-registrar", "detail": format!("no adapter for {registrar}"), "supported": st.cfg.registrars}),
        ));
    }
    let v = json_body(body)?;
    if field(&v, "domain").is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-domain",
            "domain is required",
        ));
    }
    if field(&v, "token").is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-token",
            "token is required",
        ));
    }
    st.last_tokens
        .insert(registrar.to_owned(), field(&v, "token").to_owned());
    match st.scripts.get(registrar).cloned().unwrap_or(RegistrarOutcome::Ok) {
        RegistrarOutcome::Ok => Ok(v),
        RegistrarOutcome::InvalidToken => Err(problem(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "the registrar rejected the token",
        )),
        RegistrarOutcome::RateLimited => Err(problem(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "the registrar is rate limiting",
        )),
        RegistrarOutcome::DomainNotInAccount => Err(problem(
            StatusCode::FORBIDDEN,
            "domain-not-in-account",
            "the domain is not in this account",
        )),
        RegistrarOutcome::ApiUnavailable => Err(problem(
            StatusCode::BAD_GATEWAY,
            "api-unavailable",
            "the registrar API is unavailable",
        )),
        RegistrarOutcome::Error(detail) => Err(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "registrar-error",
            &detail,
        )),
    }
}

pub(super) async fn registrar_validate(
    State(s): State<Shared>,
    Path(registrar): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = lock(&s);
    match registrar_call(&mut st, &registrar, &body) {
        Ok(v) => answer(
            StatusCode::OK,
            json!({"valid": true, "registrar": registrar, "domain": field(&v, "domain")}),
        ),
        Err(r) => r,
    }
}

pub(super) async fn registrar_set_ns(
    State(s): State<Shared>,
    Path(registrar): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = lock(&s);
    let v = match registrar_call(&mut st, &registrar, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let ns: Vec<String> = v
        .get("nameservers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(norm)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ns.is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-nameservers",
            "nameservers are required",
        );
    }
    let domain = field(&v, "domain").to_owned();
    st.nameservers.insert(domain.clone(), ns.clone());
    answer(
        StatusCode::OK,
        json!({"success": true, "registrar": registrar, "domain": domain, "nameservers": ns, "propagation": propagation(&registrar)}),
    )
}
