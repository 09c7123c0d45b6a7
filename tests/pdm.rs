//! The PDM client and its run lifecycle against the fake pool-domain-manager:
//! every answer PDM documents, the reservation TTL guard (reference §8 F-20),
//! basic auth, an unreachable PDM, and the registrar endpoints.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use catalyst_provisioner::engine::pdm::lifecycle::ReleaseReport;
use catalyst_provisioner::engine::pdm::{
    AllocationState, CheckReason, PdmClient, PdmConfig, PdmError, PdmTimeouts, RESERVED_LABELS,
    RegistrarKind, ReleaseOutcome, commit_with_rereserve, release_on_failure, reserve_for_run,
};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig, FakeState, RegistrarOutcome};

const POOL: &str = "omani.works";
const LB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

async fn fake() -> FakePdm {
    FakePdm::start(FakePdmConfig::default()).await
}

fn client(pdm: &FakePdm) -> PdmClient {
    PdmClient::new(PdmConfig::new(pdm.base_url(), pdm.username(), pdm.password())).expect("client")
}

fn check_calls(pdm: &FakePdm) -> usize {
    pdm.requests().iter().filter(|r| r.contains("/check")).count()
}

#[tokio::test]
async fn check_answers_free_taken_reserved_and_invalid() {
    let pdm = fake().await;
    let c = client(&pdm);

    let free = c.check(POOL, " Acme ").await.unwrap();
    assert!(free.available, "{free:?}");
    assert_eq!(
        (free.fqdn.as_str(), free.subdomain.as_str()),
        ("acme.omani.works", "acme")
    );
    assert!(!free.checked_locally);
    assert!(
        pdm.requests()
            .iter()
            .any(|r| r == "GET /api/v1/pool/omani.works/check?sub=acme")
    );

    pdm.reserve_as_other(POOL, "busy");
    let busy = c.check(POOL, "busy").await.unwrap();
    assert_eq!(
        (busy.available, busy.reason),
        (false, Some(CheckReason::ReservedState))
    );
    assert_eq!(busy.title, "Subdomain is being provisioned");
    assert!(
        busy.message.contains("another deployment in progress"),
        "{}",
        busy.message
    );

    let mut r = c.reserve(POOL, "live").await.unwrap();
    commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    let live = c.check(POOL, "live").await.unwrap();
    assert_eq!(
        (live.available, live.reason),
        (false, Some(CheckReason::ActiveState))
    );
    assert_eq!(live.title, "Subdomain is already taken");
    assert_eq!(live.reason_code.as_deref(), Some("active-state"));

    // Reserved names and malformed labels are answered locally, with no request.
    let before = check_calls(&pdm);
    let reserved = c.check(POOL, "Console").await.unwrap();
    assert_eq!(
        (reserved.available, reserved.reason),
        (false, Some(CheckReason::Reserved))
    );
    assert!(reserved.checked_locally && reserved.message.contains("\"console\" is reserved"));
    let invalid = c.check(POOL, "9lives").await.unwrap();
    assert_eq!(invalid.reason, Some(CheckReason::InvalidFormat));
    assert!(
        invalid.message.contains("start with a letter"),
        "{}",
        invalid.message
    );
    assert_eq!(
        check_calls(&pdm),
        before,
        "no request for a locally refused label"
    );

    // The fake itself gives the same answers PDM would, for a client that does not pre-check.
    let raw = reqwest::Client::new()
        .get(format!("{}/api/v1/pool/{POOL}/check?sub=console", pdm.base_url()))
        .basic_auth(pdm.username(), Some(pdm.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["reason"], "reserved");

    let other_pool = c.check("example.org", "acme").await.unwrap();
    assert_eq!(other_pool.reason, Some(CheckReason::UnsupportedPool));
    assert_eq!(other_pool.title, "Pool domain not supported");

    pdm.set_store_failure(true);
    let err = c.check(POOL, "acme").await.unwrap_err();
    assert_eq!(err.code(), "pdm_server_error", "{err}");
    pdm.shutdown().await;
}

#[tokio::test]
async fn reserve_then_commit_writes_the_canonical_records() {
    let pdm = fake().await;
    let c = client(&pdm);
    let mut r = reserve_for_run(&c, POOL, "acme", None).await.unwrap();
    assert_eq!(r.fqdn(), "acme.omani.works");
    assert_eq!(r.token.len(), 36, "a UUID: {}", r.token);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let left = r.view().expires_at_unix.saturating_sub(now);
    assert!((590..=601).contains(&left), "10-minute TTL, {left}s left");
    let row = pdm.allocation(POOL, "acme").unwrap();
    assert_eq!(
        (row.state, row.token.as_str()),
        (FakeState::Reserved, r.token.as_str())
    );
    assert!(row.created_by.starts_with("catalyst-provisioner/"));

    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert!(!report.re_reserved && !report.already_committed);
    assert_eq!(report.outcome.dns_warning, None);
    assert_eq!(report.outcome.fqdn, "acme.omani.works");
    assert_eq!(r.committed_ip.as_deref(), Some("203.0.113.10"));
    let row = pdm.allocation(POOL, "acme").unwrap();
    assert_eq!(row.state, FakeState::Active);
    assert_eq!(row.lb_ip.as_deref(), Some("203.0.113.10"));
    assert_eq!(row.fqdn.as_deref(), Some("acme.omani.works"));
    let records = pdm.dns_records("acme.omani.works");
    let names: Vec<&str> = records.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["@", "*", "console", "api", "gitea", "harbor"]);
    assert!(records.iter().all(|(_, ip)| ip == "203.0.113.10"));

    let listed = c.list(POOL).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, AllocationState::Active);
    assert_eq!(listed[0].load_balancer_ip.as_deref(), Some("203.0.113.10"));
    // The token stays out of what the UI gets.
    let shown = serde_json::to_string(&listed[0]).unwrap() + &serde_json::to_string(&r.view()).unwrap();
    assert!(!shown.contains(&r.token), "{shown}");
    pdm.shutdown().await;
}

#[tokio::test]
async fn a_second_reserve_is_a_conflict() {
    let pdm = fake().await;
    let c = client(&pdm);
    c.reserve(POOL, "acme").await.unwrap();
    let err = c.reserve(POOL, "acme").await.unwrap_err();
    assert!(matches!(err, PdmError::Conflict { .. }), "{err:?}");
    assert_eq!(err.code(), "subdomain_taken");
    assert!(err.to_string().contains("acme.omani.works"));
    // The same answer when a live Sovereign holds it.
    let r = c.reserve(POOL, "other").await.unwrap();
    c.commit(&r, LB).await.unwrap();
    assert_eq!(
        c.reserve(POOL, "other").await.unwrap_err().code(),
        "subdomain_taken"
    );
    pdm.shutdown().await;
}

#[tokio::test]
async fn reserve_for_run_reuses_a_live_reservation_only() {
    let pdm = fake().await;
    let c = client(&pdm);
    let held = c.reserve(POOL, "acme").await.unwrap();
    let reused = reserve_for_run(&c, POOL, "acme", Some(&held)).await.unwrap();
    assert_eq!(reused, held);
    assert_eq!(
        pdm.requests().iter().filter(|r| r.contains("/reserve")).count(),
        1
    );

    // A stored reservation for another name is not reused.
    let err = reserve_for_run(&c, POOL, "acme", Some(&c.reserve(POOL, "beta").await.unwrap())).await;
    assert_eq!(err.unwrap_err().code(), "subdomain_taken", "acme is still held");
    pdm.shutdown().await;
}

#[tokio::test]
async fn commit_after_the_ttl_reserves_again_and_commits() {
    let pdm = fake().await;
    let c = client(&pdm);
    // Expired but not yet swept: PDM answers 410.
    let mut r = c.reserve(POOL, "acme").await.unwrap();
    let old = r.token.clone();
    pdm.expire_now(POOL, "acme");
    assert_eq!(c.commit(&r, LB).await.unwrap_err().code(), "reservation_expired");
    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert!(report.re_reserved);
    assert_ne!(r.token, old, "the reservation was replaced");
    let row = pdm.allocation(POOL, "acme").unwrap();
    assert_eq!(
        (row.state, row.token.as_str()),
        (FakeState::Active, r.token.as_str())
    );

    // Expired and swept: the row is gone and PDM answers 404.
    let mut r = c.reserve(POOL, "beta").await.unwrap();
    pdm.expire_now(POOL, "beta");
    pdm.sweep();
    assert!(pdm.allocation(POOL, "beta").is_none());
    assert_eq!(
        c.commit(&r, LB).await.unwrap_err().code(),
        "reservation_not_found"
    );
    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert!(report.re_reserved);
    assert_eq!(pdm.allocation(POOL, "beta").unwrap().state, FakeState::Active);

    // With a real (short) TTL rather than a forced expiry.
    pdm.set_ttl(Duration::from_millis(300));
    let mut r = c.reserve(POOL, "gamma").await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert!(report.re_reserved);
    assert_eq!(pdm.allocation(POOL, "gamma").unwrap().state, FakeState::Active);
    pdm.shutdown().await;
}

#[tokio::test]
async fn a_name_taken_after_expiry_is_a_clear_error() {
    let pdm = fake().await;
    let c = client(&pdm);

    // Someone reserves between our 410 and our retry.
    let mut r = c.reserve(POOL, "acme").await.unwrap();
    pdm.expire_now(POOL, "acme");
    pdm.race_after_expired_commit(true);
    let err = commit_with_rereserve(&c, &mut r, LB).await.unwrap_err();
    assert!(matches!(err, PdmError::TakenAfterExpiry { .. }), "{err:?}");
    assert_eq!(err.code(), "subdomain_taken_after_expiry");
    let msg = err.to_string();
    assert!(
        msg.contains("acme.omani.works") && msg.contains("someone else took the name"),
        "{msg}"
    );
    assert_eq!(pdm.allocation(POOL, "acme").unwrap().created_by, "someone-else");

    // Someone reserved through PDM after our TTL ran out (their reserve deleted
    // our expired row), so our commit meets their token.
    pdm.set_ttl(Duration::from_millis(200));
    let mut r = c.reserve(POOL, "beta").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    pdm.set_ttl(Duration::from_secs(600));
    let theirs = c.reserve(POOL, "beta").await.unwrap();
    let err = commit_with_rereserve(&c, &mut r, LB).await.unwrap_err();
    assert_eq!(err.code(), "subdomain_taken_after_expiry", "{err}");
    let row = pdm.allocation(POOL, "beta").unwrap();
    assert_eq!((row.state, row.token), (FakeState::Reserved, theirs.token));

    // Within our TTL a foreign token stays a token mismatch.
    let mut r = c.reserve(POOL, "gamma").await.unwrap();
    r.token = "00000000-0000-4000-8000-000000000000".into();
    assert_eq!(
        commit_with_rereserve(&c, &mut r, LB).await.unwrap_err().code(),
        "reservation_token_mismatch"
    );
    pdm.shutdown().await;
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_recognised() {
    let pdm = fake().await;
    let c = client(&pdm);
    let mut r = c.reserve(POOL, "acme").await.unwrap();
    c.commit(&r, LB).await.unwrap();
    // The run did not see that answer and commits again.
    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert!(report.already_committed && !report.re_reserved);
    // With another IP it is a real conflict.
    let err = commit_with_rereserve(&c, &mut r, Ipv4Addr::new(198, 51, 100, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "subdomain_already_active");
    pdm.shutdown().await;
}

#[tokio::test]
async fn release_frees_and_treats_unknown_names_as_released() {
    let pdm = fake().await;
    let c = client(&pdm);
    c.reserve(POOL, "acme").await.unwrap();
    assert_eq!(c.release(POOL, "acme").await.unwrap(), ReleaseOutcome::Released);
    assert!(pdm.allocation(POOL, "acme").is_none());
    assert_eq!(
        c.release(POOL, "acme").await.unwrap(),
        ReleaseOutcome::AlreadyReleased
    );
    assert_eq!(
        c.release(POOL, "never-seen").await.unwrap(),
        ReleaseOutcome::AlreadyReleased
    );
    // The body form is what went out (PDM also accepts `?sub=`).
    assert!(
        pdm.requests()
            .iter()
            .any(|r| r == "DELETE /api/v1/pool/omani.works/release")
    );
    pdm.shutdown().await;
}

#[tokio::test]
async fn a_404_without_pdm_code_is_a_wrong_url_not_a_release() {
    let pdm = fake().await;
    let c = PdmClient::new(PdmConfig::new(
        format!("{}/pdm", pdm.base_url()),
        pdm.username(),
        pdm.password(),
    ))
    .unwrap();
    let err = c.release(POOL, "acme").await.unwrap_err();
    assert_eq!(err.code(), "pdm_wrong_endpoint", "{err}");
    pdm.shutdown().await;
}

#[tokio::test]
async fn release_on_failure_frees_only_our_own_row() {
    let pdm = fake().await;
    let c = client(&pdm);

    let r = c.reserve(POOL, "acme").await.unwrap();
    let rep = release_on_failure(&c, &r).await.unwrap();
    assert_eq!(rep, ReleaseReport::Released(ReleaseOutcome::Released));
    assert!(pdm.allocation(POOL, "acme").is_none());
    let rep = release_on_failure(&c, &r).await.unwrap();
    assert_eq!(rep, ReleaseReport::Released(ReleaseOutcome::AlreadyReleased));

    // Committed, then the run failed later: the live row is ours and goes, DNS too.
    let mut r = c.reserve(POOL, "beta").await.unwrap();
    commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    assert_eq!(pdm.dns_records("beta.omani.works").len(), 6);
    let rep = release_on_failure(&c, &r).await.unwrap();
    assert_eq!(rep, ReleaseReport::Released(ReleaseOutcome::Released));
    assert!(pdm.dns_records("beta.omani.works").is_empty());

    // Our reservation lapsed and someone else holds the name now: left alone.
    let r = c.reserve(POOL, "gamma").await.unwrap();
    pdm.expire_now(POOL, "gamma");
    let theirs = pdm.reserve_as_other(POOL, "gamma");
    match release_on_failure(&c, &r).await.unwrap() {
        ReleaseReport::LeftAlone { reason } => assert!(reason.contains("gamma.omani.works"), "{reason}"),
        other => panic!("released someone else's name: {other:?}"),
    }
    assert_eq!(pdm.allocation(POOL, "gamma").unwrap().token, theirs);
    pdm.shutdown().await;
}

#[tokio::test]
async fn powerdns_failures_surface_as_warnings() {
    let pdm = fake().await;
    let c = client(&pdm);
    pdm.set_dns_failure(true);
    let mut r = c.reserve(POOL, "acme").await.unwrap();
    let report = commit_with_rereserve(&c, &mut r, LB).await.unwrap();
    let warning = report.outcome.dns_warning.expect("202 carries a warning");
    assert!(warning.contains("PowerDNS write failed"), "{warning}");
    assert_eq!(pdm.allocation(POOL, "acme").unwrap().state, FakeState::Active);
    assert!(pdm.dns_records("acme.omani.works").is_empty());

    match c.release(POOL, "acme").await.unwrap() {
        ReleaseOutcome::ReleasedWithWarning { warning } => {
            assert!(warning.contains("PowerDNS teardown failed"), "{warning}")
        }
        other => panic!("expected a warning, got {other:?}"),
    }
    pdm.shutdown().await;
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused() {
    let pdm = fake().await;
    let c = PdmClient::new(PdmConfig::new(pdm.base_url(), pdm.username(), "not-the-password")).unwrap();
    let err = c.check(POOL, "acme").await.unwrap_err();
    assert!(matches!(err, PdmError::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.code(), "pdm_unauthorized");
    let msg = err.to_string();
    assert!(
        msg.contains(&pdm.base_url()) && !msg.contains("not-the-password"),
        "{msg}"
    );
    let c = PdmClient::new(PdmConfig::new(pdm.base_url(), "intruder", pdm.password())).unwrap();
    assert_eq!(
        c.reserve(POOL, "acme").await.unwrap_err().code(),
        "pdm_unauthorized"
    );
    assert!(pdm.allocation(POOL, "acme").is_none());

    let raw = reqwest::get(format!("{}/api/v1/reserved", pdm.base_url()))
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert!(raw.headers().contains_key("www-authenticate"));
    pdm.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_pdm_is_reported_quickly() {
    // A port nobody listens on: the connection is refused at once.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let c = PdmClient::new(PdmConfig::new(&url, "catalyst", "pdm-password-xyz")).unwrap();
    let started = Instant::now();
    let err = c.check(POOL, "acme").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_unreachable(), "{err:?}");
    assert_eq!(err.code(), "pdm_unreachable");
    assert!(
        err.to_string()
            .starts_with(&format!("Cannot reach the pool-domain-manager at {url}")),
        "{err}"
    );
    assert!(
        elapsed < Duration::from_millis(1000),
        "took {elapsed:?} (check timeout is 5 s)"
    );
    println!("unreachable (refused) reported in {elapsed:?}");
    for e in [
        c.reserve(POOL, "acme").await.unwrap_err(),
        c.release(POOL, "acme").await.unwrap_err(),
        c.list(POOL).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), "pdm_unreachable");
    }

    // A PDM that accepts but never answers: the operation's own limit applies.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_url = format!("http://{}", hole.local_addr().unwrap());
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hole.accept().await {
            held.push(s);
        }
    });
    let timeouts = PdmTimeouts {
        check: Duration::from_millis(300),
        ..PdmTimeouts::default()
    };
    let c = PdmClient::new(PdmConfig::new(&hole_url, "catalyst", "pdm-password-xyz").with_timeouts(timeouts))
        .unwrap();
    let started = Instant::now();
    let err = c.check(POOL, "acme").await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.code(), "pdm_unreachable");
    assert!(err.to_string().contains("no answer within 0.3 s"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    keep.abort();

    // A fake that was shut down is unreachable too.
    let pdm = fake().await;
    let c = client(&pdm);
    c.check(POOL, "acme").await.unwrap();
    pdm.shutdown().await;
    assert!(c.check(POOL, "acme").await.unwrap_err().is_unreachable());
}

#[tokio::test]
async fn reserved_and_health_match_the_reference() {
    let pdm = fake().await;
    let c = client(&pdm);
    let mut want: Vec<String> = RESERVED_LABELS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(c.reserved().await.unwrap(), want);
    let health = c.health().await.unwrap();
    assert!(health.ok);
    assert!(health.managed_domains.iter().any(|d| d == "omantel.biz"));
    assert_eq!(health.registrars.len(), 5);
    pdm.set_store_failure(true);
    assert_eq!(c.health().await.unwrap_err().code(), "pdm_unavailable");
    assert_eq!(
        c.list("example.org").await.unwrap_err().code(),
        "pool_unsupported"
    );
    pdm.shutdown().await;
}

fn good_credential(kind: RegistrarKind) -> &'static str {
    match kind {
        RegistrarKind::Cloudflare => "Zx9_aB3-cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX",
        RegistrarKind::Namecheap => "alice:0123456789abcdef:203.0.113.7",
        RegistrarKind::Godaddy => "gd-key-123:gd-secret-456",
        RegistrarKind::Ovh => "ovh-app:ovh-secret:ovh-consumer",
        RegistrarKind::Dynadot => "dyn-key-123:dyn-secret-456",
    }
}

fn bad_credential(kind: RegistrarKind) -> &'static str {
    match kind {
        RegistrarKind::Cloudflare => "me@example.com:global-api-key-0000",
        RegistrarKind::Namecheap => "alice:0123456789abcdef",
        RegistrarKind::Godaddy => "only-a-key-000",
        RegistrarKind::Ovh => "ovh-app:ovh-secret",
        RegistrarKind::Dynadot => "only-an-api-key-000",
    }
}

#[tokio::test]
async fn registrar_credentials_are_checked_before_pdm_is_asked() {
    let pdm = fake().await;
    let c = client(&pdm);
    for kind in RegistrarKind::ALL {
        let err = c
            .registrar_validate(kind, "acme.com", bad_credential(kind))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "registrar_credential_format", "{kind:?}: {err}");
        let ok = c
            .registrar_validate(kind, "Acme.com", &format!("{}\n", good_credential(kind)))
            .await
            .unwrap();
        assert_eq!(
            (ok.registrar, ok.domain.as_str(), ok.valid),
            (kind, "acme.com", true)
        );
        assert_eq!(
            pdm.last_registrar_token(kind.id()).as_deref(),
            Some(good_credential(kind))
        );
    }
    let calls: Vec<String> = pdm
        .requests()
        .into_iter()
        .filter(|r| r.contains("/registrar/"))
        .collect();
    assert_eq!(calls.len(), 5, "only well-formed credentials went out: {calls:?}");
    assert!(calls.contains(&"POST /api/v1/registrar/godaddy/validate".to_string()));
    assert_eq!(
        c.registrar_validate(
            RegistrarKind::Ovh,
            "localhost",
            good_credential(RegistrarKind::Ovh)
        )
        .await
        .unwrap_err()
        .code(),
        "domain_invalid"
    );
    pdm.shutdown().await;
}

#[tokio::test]
async fn registrar_answers_map_to_their_own_errors() {
    let pdm = fake().await;
    let c = client(&pdm);
    let kind = RegistrarKind::Dynadot;
    let cases = [
        (
            RegistrarOutcome::InvalidToken,
            "registrar_invalid_token",
            "Dynadot rejected the credential",
        ),
        (
            RegistrarOutcome::RateLimited,
            "registrar_rate_limited",
            "wait a minute",
        ),
        (
            RegistrarOutcome::DomainNotInAccount,
            "registrar_domain_not_in_account",
            "\"acme.com\"",
        ),
        (
            RegistrarOutcome::ApiUnavailable,
            "registrar_api_unavailable",
            "could not reach Dynadot",
        ),
        (
            RegistrarOutcome::Error("zone locked".into()),
            "registrar_error",
            "zone locked",
        ),
    ];
    for (outcome, code, sentence) in cases {
        pdm.script_registrar(kind.id(), outcome.clone());
        let err = c
            .registrar_validate(kind, "acme.com", good_credential(kind))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{outcome:?}");
        assert!(err.to_string().contains(sentence), "{outcome:?}: {err}");
        let err = c
            .registrar_set_ns(
                kind,
                "acme.com",
                good_credential(kind),
                &["ns1.openova.io".into()],
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "set-ns {outcome:?}");
    }
    assert_eq!(
        pdm.nameservers("acme.com"),
        None,
        "no failed call changed anything"
    );
    pdm.shutdown().await;

    // A PDM with only some adapters, and one with none.
    let pdm = FakePdm::start(FakePdmConfig {
        registrars: vec!["cloudflare".into()],
        ..FakePdmConfig::default()
    })
    .await;
    let c = client(&pdm);
    let ovh = RegistrarKind::Ovh;
    let err = c
        .registrar_validate(ovh, "acme.com", good_credential(ovh))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registrar_unsupported");
    assert!(err.to_string().contains("manually"), "{err}");
    pdm.shutdown().await;
    let pdm = FakePdm::start(FakePdmConfig {
        registrars: Vec::new(),
        ..FakePdmConfig::default()
    })
    .await;
    let c = client(&pdm);
    let err = c
        .registrar_validate(ovh, "acme.com", good_credential(ovh))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registrar_not_configured");
    pdm.shutdown().await;
}

#[tokio::test]
async fn set_ns_points_the_domain_at_the_nameservers() {
    let pdm = fake().await;
    let c = client(&pdm);
    let ns: Vec<String> = ["ns1.openova.io", "NS2.openova.io", "ns3.openova.io"]
        .map(String::from)
        .to_vec();
    for kind in RegistrarKind::ALL {
        let domain = format!("{}.example.com", kind.id());
        let change = c
            .registrar_set_ns(kind, &domain, good_credential(kind), &ns)
            .await
            .unwrap();
        assert_eq!(
            change.nameservers,
            ["ns1.openova.io", "ns2.openova.io", "ns3.openova.io"]
        );
        assert_eq!(change.propagation, kind.propagation_hint());
        assert_eq!(pdm.nameservers(&domain).unwrap(), change.nameservers);
    }
    let err = c
        .registrar_set_ns(
            RegistrarKind::Cloudflare,
            "acme.com",
            good_credential(RegistrarKind::Cloudflare),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registrar_nameservers_missing");
    let err = c
        .registrar_set_ns(
            RegistrarKind::Cloudflare,
            "acme.com",
            good_credential(RegistrarKind::Cloudflare),
            &["not a host".into()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "domain_invalid");

    // PDM's own 422 when a client sends no nameservers.
    let raw = reqwest::Client::new()
        .post(format!("{}/api/v1/registrar/ovh/set-ns", pdm.base_url()))
        .basic_auth(pdm.username(), Some(pdm.password()))
        .json(&serde_json::json!({"domain": "acme.com", "token": "a:b:c", "nameservers": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"], "missing-nameservers");
    pdm.shutdown().await;
}

#[tokio::test]
async fn the_fake_speaks_pdm_error_codes_on_the_wire() {
    let pdm = fake().await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", pdm.base_url()))
            .basic_auth(pdm.username(), Some(pdm.password()))
            .json(&body)
            .send()
    };
    let res = post(
        "/api/v1/pool/omani.works/reserve",
        serde_json::json!({"subdomain": "-bad"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid-format"
    );
    let res = post(
        "/api/v1/pool/example.org/reserve",
        serde_json::json!({"subdomain": "acme"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "unsupported-pool"
    );
    let res = post(
        "/api/v1/pool/omani.works/reserve",
        serde_json::json!({"subdomain": "acme"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<serde_json::Value>().await.unwrap()["reservationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let commit = serde_json::json!({"subdomain": "acme", "reservationToken": token, "sovereignFQDN": "acme.omani.works"});
    let res = post("/api/v1/pool/omani.works/commit", commit).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "missing-lb-ip"
    );
    let res = http
        .delete(format!(
            "{}/api/v1/pool/omani.works/release?sub=acme",
            pdm.base_url()
        ))
        .basic_auth(pdm.username(), Some(pdm.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "release by query when the body is not JSON");
    assert!(pdm.allocation(POOL, "acme").is_none());
    pdm.shutdown().await;
}

#[test]
fn settings_that_would_leak_the_password_are_refused() {
    let pw = "pdm-config-canary-777";
    for (url, why) in [
        ("http://pool.openova.io", "https://"),
        ("ftp://pool.openova.io", "scheme"),
        ("https://user:pw@pool.openova.io", "own fields"),
        ("not a url", "is not a URL like https://"),
        (
            "pool.openova.io",
            "needs https:// in front: https://pool.openova.io.",
        ),
        ("https://pool.openova.io:99999", "port that is not a number"),
    ] {
        let err = PdmClient::new(PdmConfig::new(url, "catalyst", pw)).unwrap_err();
        assert_eq!(err.code(), "pdm_config_invalid");
        assert!(err.to_string().contains(why), "{url}: {err}");
    }
    assert!(PdmClient::new(PdmConfig::new("https://pool.openova.io", "catalyst", "")).is_err());
    assert!(PdmClient::new(PdmConfig::new("http://localhost:8080", "catalyst", pw)).is_ok());
    let config = PdmConfig::new("https://pool.openova.io", "catalyst", pw);
    assert!(!format!("{config:?}").contains(pw));
    assert!(!format!("{:?}", PdmClient::new(config).unwrap()).contains(pw));
    // Registered for redaction on construction.
    assert_eq!(
        catalyst_provisioner::engine::secrets::redact(&format!("basic {pw}")),
        "basic [REDACTED]"
    );
}
