//! The pool handlers: health, the reserved list, check, reserve, commit, release and list.
use super::*;

pub(super) async fn healthz(State(s): State<Shared>) -> Response {
    let st = lock(&s);
    if st.store_failure {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unhealthy", "db": "connection refused"}),
        );
    }
    answer(
        StatusCode::OK,
        json!({"status": "ok", "managedDomains": st.cfg.pools, "registrars": st.cfg.registrars}),
    )
}

pub(super) async fn reserved() -> Response {
    let mut list = RESERVED.to_vec();
    list.sort_unstable();
    answer(StatusCode::OK, json!({ "reserved": list }))
}

pub(super) async fn check(
    State(s): State<Shared>,
    Path(pool): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = lock(&s);
    let raw = q.get("sub").map(String::as_str).unwrap_or("");
    let (pool, sub) = (norm(&pool), norm(raw));
    // Check always answers 200 with a reason, except when the store fails.
    let unavailable = |reason: &str, detail: &str| {
        answer(
            StatusCode::OK,
            json!({"available": false, "reason": reason, "detail": detail}),
        )
    };
    if !label_ok(&sub) {
        return unavailable("invalid-format", "subdomain does not match the label rule");
    }
    if !st.cfg.pools.contains(&pool) {
        return unavailable("unsupported-pool", "pool domain is not managed by this PDM");
    }
    if RESERVED.contains(&sub.as_str()) {
        return unavailable("reserved", "this name is reserved");
    }
    if st.store_failure {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "store: connection refused"}),
        );
    }
    let fqdn = format!("{sub}.{pool}");
    match st.rows.get(&(pool, sub)) {
        Some(r) if r.state == FakeState::Active => answer(
            StatusCode::OK,
            json!({"available": false, "reason": "active-state", "detail": "already taken by a live Sovereign", "fqdn": fqdn}),
        ),
        Some(r) if !r.expired(Instant::now()) => answer(
            StatusCode::OK,
            json!({"available": false, "reason": "reserved-state", "detail": "reserved by another deployment in progress", "fqdn": fqdn}),
        ),
        _ => answer(StatusCode::OK, json!({"available": true, "fqdn": fqdn})),
    }
}

pub(super) async fn reserve(State(s): State<Shared>, Path(pool): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (pool, sub) = match pool_and_label(&st, &pool, field(&v, "subdomain")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // [inference] The reference lists only check's `reserved` reason; the
    // allocator refuses a reserved label on reserve as well, as a 422.
    if RESERVED.contains(&sub.as_str()) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reserved",
            "this name is reserved",
        );
    }
    let key = (pool.clone(), sub.clone());
    // Reserve first deletes an expired reserved row for the same pair.
    if st.rows.get(&key).is_some_and(|r| r.expired(Instant::now())) {
        st.rows.remove(&key);
    }
    if st.rows.contains_key(&key) {
        return problem(
            StatusCode::CONFLICT,
            "conflict",
            "this subdomain is already reserved or active",
        );
    }
    let created_by = field(&v, "createdBy").to_owned();
    let row = new_row(&st.cfg, &pool, &sub, &created_by);
    let out = row.to_json();
    st.rows.insert(key, row);
    answer(StatusCode::CREATED, out)
}

pub(super) async fn commit(State(s): State<Shared>, Path(pool): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (pool, sub) = match pool_and_label(&st, &pool, field(&v, "subdomain")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(ip) = field(&v, "loadBalancerIP").parse::<Ipv4Addr>() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-lb-ip",
            "loadBalancerIP is required",
        );
    };
    let token = field(&v, "reservationToken").to_owned();
    let fqdn = match field(&v, "sovereignFQDN") {
        "" => format!("{sub}.{pool}"),
        f => f.to_owned(),
    };
    let dns_failure = st.dns_failure;
    let key = (pool, sub);
    let Some(row) = st.rows.get_mut(&key) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "no reservation for this subdomain",
        );
    };
    if row.state == FakeState::Active {
        return problem(
            StatusCode::CONFLICT,
            "already-active",
            "this subdomain is already active",
        );
    }
    if row.token != token {
        return problem(
            StatusCode::FORBIDDEN,
            "token-mismatch",
            "reservation token does not match",
        );
    }
    if row.expired(Instant::now()) {
        if st.race_after_expired_commit {
            st.race_after_expired_commit = false;
            let other = new_row(&st.cfg, &key.0, &key.1, "someone-else");
            st.rows.insert(key, other);
        }
        return problem(
            StatusCode::GONE,
            "reservation-expired",
            "the reservation expired; reserve again",
        );
    }
    row.state = FakeState::Active;
    row.expires = None;
    row.expires_at = None;
    row.fqdn = Some(fqdn.clone());
    row.lb_ip = Some(ip.to_string());
    let out = row.to_json();
    if dns_failure {
        let mut out = out;
        out["warning"] = json!("row committed but PowerDNS write failed; retry commit to re-publish DNS");
        return answer(StatusCode::ACCEPTED, out);
    }
    let records = CANONICAL_RECORDS
        .iter()
        .map(|n| ((*n).to_owned(), ip.to_string()))
        .collect();
    st.dns.insert(fqdn, records);
    answer(StatusCode::OK, out)
}

pub(super) async fn release(
    State(s): State<Shared>,
    Path(pool): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut st = lock(&s);
    // JSON body `{subdomain}`, or `?sub=` when the body is not JSON.
    let sub = match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => field(&v, "subdomain").to_owned(),
        _ => q.get("sub").cloned().unwrap_or_default(),
    };
    let (pool, sub) = match pool_and_label(&st, &pool, &sub) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(row) = st.rows.remove(&(pool.clone(), sub.clone())) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "no allocation for this subdomain",
        );
    };
    if st.dns_failure {
        return answer(
            StatusCode::ACCEPTED,
            json!({"warning": "row deleted but PowerDNS teardown failed; re-run release to clean up", "freed": row.to_json()}),
        );
    }
    st.dns.remove(&format!("{sub}.{pool}"));
    answer(StatusCode::OK, json!({ "freed": row.to_json() }))
}

pub(super) async fn list(State(s): State<Shared>, Path(pool): Path<String>) -> Response {
    let st = lock(&s);
    let pool = norm(&pool);
    if !st.cfg.pools.contains(&pool) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported-pool",
            "pool domain is not managed",
        );
    }
    let rows: Vec<Value> = st
        .rows
        .values()
        .filter(|r| r.pool == pool)
        .map(FakeAllocation::to_json)
        .collect();
    answer(StatusCode::OK, json!({"poolDomain": pool, "allocations": rows}))
}
