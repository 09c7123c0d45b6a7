//! What the handlers share: replies, Traefik's basic auth, and reading names and bodies.
use super::*;

pub(super) fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub(super) fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    answer(status, json!({"error": code, "detail": detail}))
}

/// PDM's label rule: lower-cased, trimmed; 1–63 of [a-z0-9-]; no leading
/// digit or hyphen; no trailing hyphen.
pub(super) fn label_ok(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
}

pub(super) fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

pub(super) fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Traefik's basicAuth: a plain-text 401 with a challenge, no JSON.
pub(super) async fn basic_auth(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let line = format!(
        "{} {}",
        req.method(),
        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let expected = {
        let mut st = lock(&s);
        st.requests.push(line);
        format!(
            "Basic {}",
            base64(format!("{}:{}", st.cfg.username, st.cfg.password).as_bytes())
        )
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            [
                (header::WWW_AUTHENTICATE, "Basic realm=\"traefik\""),
                (header::CONTENT_TYPE, "text/plain"),
            ],
            "401 Unauthorized\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// Shared checks of the pool and label; Err is the 422 PDM answers.
pub(super) fn pool_and_label(st: &Inner, pool: &str, sub: &str) -> Result<(String, String), Response> {
    let pool = norm(pool);
    let sub = norm(sub);
    if !label_ok(&sub) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-format",
            "subdomain must be 1-63 chars of [a-z0-9-], start with a letter and not end with a hyphen",
        ));
    }
    if !st.cfg.pools.contains(&pool) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported-pool",
            &format!("{pool} is not a managed pool domain"),
        ));
    }
    Ok((pool, sub))
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            problem(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                "request body is not a JSON object",
            )
        })
}

pub(super) fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}
