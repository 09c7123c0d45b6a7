//! The Hetzner client against the fake Hetzner Cloud API: token scopes,
//! rate limits, pagination, retry budget, typed errors, purge helpers, and
//! a canary token that must never reach a log or a file.

use std::path::Path;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::hetzner::{
    DeleteOutcome, HetznerClient, HetznerConfig, HetznerError, Repeat, ResourceKind, TokenScope, check_token,
};
use catalyst_provisioner::engine::keys::generate_admin_key;
use catalyst_provisioner::engine::secrets::{MemoryStore, SecretEnv, SecretStore, names};
use catalyst_tests::fakes::hetzner::{
    FakeConfig, FakeHetzner, Fault, FaultKind, REVOKED_TOKEN, RO_TOKEN, RW_TOKEN, TokenKind,
};
use serde_json::{Value, json};

/// Client settings that keep retries quick in tests.
fn fast(base: &str) -> HetznerConfig {
    HetznerConfig {
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..HetznerConfig::with_base_url(base)
    }
}

fn rw(fake: &FakeHetzner) -> HetznerClient {
    HetznerClient::new(fast(&fake.base_url()), RW_TOKEN).unwrap()
}

async fn add_key(c: &HetznerClient, name: &str, labels: Value) -> u64 {
    let k = generate_admin_key(&format!("{name}.example")).unwrap();
    let v: Value = c
        .post(
            "/ssh_keys",
            &json!({"name": name, "public_key": k.public_openssh(), "labels": labels}),
            Repeat::Once,
        )
        .await
        .unwrap();
    v["ssh_key"]["id"].as_u64().unwrap()
}

async fn add_server(c: &HetznerClient, name: &str, extra: Value) -> Result<Value, HetznerError> {
    let mut body = json!({"name": name, "server_type": "cx23", "image": "ubuntu-24.04", "location": "nbg1"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    c.post("/servers", &body, Repeat::Once).await
}

#[tokio::test]
async fn read_write_token_gets_scope_and_the_whole_catalogue_and_creates_nothing() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let check = check_token(&fast(&fake.base_url()), RW_TOKEN).await.unwrap();
    assert_eq!(check.scope, TokenScope::ReadWrite, "{}", check.message);
    let zones: Vec<(&str, &str)> = check
        .locations
        .iter()
        .map(|l| (l.name.as_str(), l.network_zone.as_str()))
        .collect();
    assert_eq!(
        zones,
        [
            ("fsn1", "eu-central"),
            ("nbg1", "eu-central"),
            ("hel1", "eu-central"),
            ("ash", "us-east"),
            ("hil", "us-west"),
            ("sin", "ap-southeast")
        ]
    );
    assert_eq!(check.server_types.len(), 16);
    let cx43 = check.server_types.iter().find(|t| t.name == "cx43").unwrap();
    assert!(cx43.available_in("fsn1") && !cx43.available_in("ash") && !cx43.available_in("sin"));
    assert_eq!((cx43.cores, cx43.memory_gb, cx43.disk_gb), (8, 16.0, 160));
    let p = cx43.price_in("fsn1").unwrap();
    assert_eq!(p.monthly.net, "11.9900");
    assert_eq!(p.monthly.gross, "14.2681");
    assert!(cx43.price_in("ash").is_none());
    let cpx32 = check.server_types.iter().find(|t| t.name == "cpx32").unwrap();
    assert!(cpx32.available_in("ash") && cpx32.available_in("sin"));
    assert_ne!(
        cpx32.price_in("ash").unwrap().monthly.net,
        cpx32.price_in("fsn1").unwrap().monthly.net
    );
    assert_eq!(check.load_balancer_types.len(), 3);
    assert_eq!(check.currency.as_deref(), Some("EUR"));
    // Five calls fetched concurrently (probe, locations, types, LB types, pricing).
    assert_eq!(fake.requests().len(), 5);
    assert_eq!(fake.count("POST", "/ssh_keys"), 1);
    assert_eq!(fake.inventory().total(), 0, "the write probe created something");
    fake.shutdown().await;
}

#[tokio::test]
async fn read_only_token_is_told_apart_under_both_error_codes() {
    for code in ["token_readonly", "forbidden"] {
        let fake = FakeHetzner::start(FakeConfig {
            readonly_code: code,
            ..FakeConfig::default()
        })
        .await;
        let check = check_token(&fast(&fake.base_url()), RO_TOKEN).await.unwrap();
        assert_eq!(check.scope, TokenScope::ReadOnly, "with {code}");
        assert!(check.message.contains("Read & Write"), "{}", check.message);
        // A read-only token still reads the catalogue.
        assert_eq!(check.locations.len(), 6);
        let refused = catalyst_provisioner::engine::hetzner::require_read_write(&check).unwrap_err();
        assert_eq!(refused.code, "token_readonly");
        fake.shutdown().await;
    }
}

#[tokio::test]
async fn invalid_and_unknown_tokens_are_invalid_not_errors() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    for token in [
        REVOKED_TOKEN,
        "neverIssuedToken000000000000000000000000000000000000000000000000",
    ] {
        let check = check_token(&fast(&fake.base_url()), token).await.unwrap();
        assert_eq!(check.scope, TokenScope::Invalid);
        assert!(check.locations.is_empty() && check.server_types.is_empty());
        assert!(check.message.contains("does not accept"), "{}", check.message);
    }
    assert!(fake.requests().iter().all(|r| r.status == 401));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_429_waits_until_rate_limit_reset_and_then_succeeds() {
    let fake = FakeHetzner::start(FakeConfig {
        rate_limit: 2,
        rate_refill: Duration::from_secs(1),
        ..FakeConfig::default()
    })
    .await;
    fake.set_rate_limit_remaining(0);
    let c = rw(&fake);
    let t0 = Instant::now();
    let locs: Vec<Value> = c.list("/locations", "locations", &[]).await.unwrap();
    let waited = t0.elapsed();
    println!("429 with RateLimit-Reset ~2 s ahead: call took {waited:?}");
    assert_eq!(locs.len(), 6);
    assert_eq!(fake.count_status(429), 1);
    assert_eq!(fake.count("GET", "/locations"), 2);
    assert!(
        waited >= Duration::from_millis(1500),
        "did not wait for the reset: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited far too long: {waited:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn remaining_zero_pauses_the_next_call_without_a_429() {
    let fake = FakeHetzner::start(FakeConfig {
        rate_limit: 2,
        rate_refill: Duration::from_secs(1),
        ..FakeConfig::default()
    })
    .await;
    fake.set_rate_limit_remaining(1);
    let c = rw(&fake);
    let t0 = Instant::now();
    let _: Value = c.get("/pricing", &[]).await.unwrap();
    let first = t0.elapsed();
    let _: Value = c.get("/pricing", &[]).await.unwrap();
    let both = t0.elapsed();
    println!("RateLimit-Remaining: 0 → second call after {both:?} (first took {first:?})");
    // The first call has a token left and must not wait (a pause would be >= 1 s).
    assert!(first < Duration::from_millis(900), "{first:?}");
    assert!(both >= Duration::from_millis(1000), "{both:?}");
    assert_eq!(
        fake.count_status(429),
        0,
        "the client ran into the limit instead of waiting"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_far_rate_limit_reset_pauses_once_for_the_capped_wait_not_before_every_call() {
    // Real Hetzner sends `RateLimit-Reset` for a full bucket, up to an hour
    // ahead, while calls come back one per second. Here: a bucket of 20 000
    // refilling every 300 ms, so the reset is ~100 minutes away but the next
    // call is available well before the capped wait (1 s) ends.
    let fake = FakeHetzner::start(FakeConfig {
        rate_limit: 20_000,
        rate_refill: Duration::from_millis(300),
        ..FakeConfig::default()
    })
    .await;
    let c = HetznerClient::new(
        HetznerConfig {
            max_rate_limit_wait: Duration::from_secs(1),
            ..fast(&fake.base_url())
        },
        RW_TOKEN,
    )
    .unwrap();
    fake.set_rate_limit_remaining(1);
    let t0 = Instant::now();
    for _ in 0..4 {
        let _: Value = c.get("/pricing", &[]).await.unwrap();
    }
    let took = t0.elapsed();
    println!("4 calls after RateLimit-Remaining: 0 with a far reset took {took:?}");
    // One capped wait (1 s) after the first call; then the bucket has calls
    // left and nobody waits. A pause kept until the raw reset would make
    // calls 2, 3 and 4 each wait the full second (>= 3 s).
    assert!(
        took >= Duration::from_millis(900),
        "the empty bucket was not honoured: {took:?}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "the pause never cleared: {took:?}"
    );
    assert_eq!(fake.count_status(429), 0);
    assert_eq!(fake.count("GET", "/pricing"), 4);
    fake.shutdown().await;
}

#[tokio::test]
async fn pagination_follows_next_page_over_three_pages_and_label_selectors_filter() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = rw(&fake);
    // Seeding is its own operation: 125 creates would use up one client's budget.
    let seeder = c.operation(500);
    for i in 0..120 {
        add_key(
            &seeder,
            &format!("key-{i:03}"),
            json!({"catalyst/deployment": "p1", "n": i.to_string()}),
        )
        .await;
    }
    for i in 0..5 {
        add_key(&seeder, &format!("other-{i}"), json!({"owner": "someone-else"})).await;
    }
    let before = fake.requests().len();
    let mine = c
        .list_resources(ResourceKind::SshKey, Some("catalyst/deployment=p1"))
        .await
        .unwrap();
    assert_eq!(mine.len(), 120);
    let pages: Vec<String> = fake.requests()[before..]
        .iter()
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    for (i, q) in pages.iter().enumerate() {
        assert!(
            q.contains(&format!("page={}", i + 1)) && q.contains("per_page=50"),
            "{q}"
        );
        assert!(q.contains("label_selector=catalyst%2Fdeployment%3Dp1"), "{q}");
    }
    let mut ids: Vec<u64> = mine.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 120, "a page repeated or skipped items");
    let others = c
        .list_resources(ResourceKind::SshKey, Some("!catalyst/deployment"))
        .await
        .unwrap();
    assert_eq!(others.len(), 5);
    let none = c
        .list_resources(ResourceKind::SshKey, Some("catalyst/deployment=p1,owner"))
        .await
        .unwrap();
    assert!(none.is_empty());
    let all: Vec<Value> = c.list("/ssh_keys", "ssh_keys", &[]).await.unwrap();
    assert_eq!(all.len(), 125);
    let bad = c
        .list_resources(ResourceKind::SshKey, Some("a=(b"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_input");
    fake.shutdown().await;
}

#[tokio::test]
async fn the_request_budget_ends_a_5xx_storm() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    fake.inject(Fault::server_errors("/locations", 1000));
    let c = HetznerClient::new(
        HetznerConfig {
            request_budget: 6,
            max_attempts_per_request: 100,
            ..fast(&fake.base_url())
        },
        RW_TOKEN,
    )
    .unwrap();
    let e = c.list::<Value>("/locations", "locations", &[]).await.unwrap_err();
    println!(
        "5xx storm: gave up after {} attempts: {e}",
        fake.count("GET", "/locations")
    );
    assert_eq!(e.code(), "request_budget_exhausted", "{e:?}");
    assert!(matches!(
        &e,
        HetznerError::BudgetExhausted {
            budget: 6,
            last: Some(_)
        }
    ));
    assert!(
        e.operator_message().contains("HTTP 500"),
        "{}",
        e.operator_message()
    );
    assert_eq!(fake.count("GET", "/locations"), 6);
    assert_eq!(c.attempts(), 6);
    // Without a budget stop, the per-request cap ends it too, keeping the cause's code.
    let c2 = HetznerClient::new(
        HetznerConfig {
            max_attempts_per_request: 3,
            ..fast(&fake.base_url())
        },
        RW_TOKEN,
    )
    .unwrap();
    let e2 = c2.get::<Value>("/locations", &[]).await.unwrap_err();
    assert!(
        matches!(e2, HetznerError::RetriesExhausted { attempts: 3, .. }),
        "{e2:?}"
    );
    assert_eq!(e2.code(), "server_error");
    assert_eq!(fake.count("GET", "/locations"), 9);
    fake.shutdown().await;
}

#[tokio::test]
async fn short_5xx_bursts_and_proxy_pages_are_retried_but_creates_are_not() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = rw(&fake);
    fake.inject(Fault::server_errors("/server_types", 2));
    let types: Vec<Value> = c.list("/server_types", "server_types", &[]).await.unwrap();
    assert_eq!(types.len(), 16);
    assert_eq!(fake.count("GET", "/server_types"), 3);
    fake.inject(Fault::new(None, "/pricing", 1, FaultKind::BadGateway));
    let _: Value = c.get("/pricing", &[]).await.unwrap();
    assert_eq!(fake.count("GET", "/pricing"), 2);
    // A create that failed with 500 may have happened: never sent twice.
    fake.inject(Fault::new(
        Some(axum::http::Method::POST),
        "/servers",
        1,
        FaultKind::ServerError,
    ));
    let e = add_server(&c, "cp-1", json!({})).await.unwrap_err();
    assert_eq!(e.code(), "server_error");
    assert_eq!(fake.count("POST", "/servers"), 1);
    fake.shutdown().await;
}

#[tokio::test]
async fn errors_are_typed_from_the_body_not_the_status() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = rw(&fake);

    // 403 with resource_limit_exceeded is quota, not a token problem.
    fake.set_server_limit(0);
    let e = add_server(&c, "cp-1", json!({})).await.unwrap_err();
    assert_eq!(e.code(), "resource_limit_exceeded");
    assert_eq!(e.api().unwrap().status, 403);
    assert_eq!(e.api().unwrap().limits, ["server_limit"]);
    assert!(
        e.operator_message().contains("resource limits"),
        "{}",
        e.operator_message()
    );
    assert!(
        !e.operator_message().contains("token"),
        "{}",
        e.operator_message()
    );
    fake.set_server_limit(25);

    // 403 token_readonly on a write with the read-only token.
    let ro = HetznerClient::new(fast(&fake.base_url()), RO_TOKEN).unwrap();
    let e = add_server(&ro, "cp-1", json!({})).await.unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.api().unwrap().status),
        ("token_readonly", 403)
    );
    assert!(e.operator_message().contains("read-only"));

    // 401 unauthorized.
    let bad = HetznerClient::new(fast(&fake.base_url()), "wrong-token-123456").unwrap();
    let e = bad.get::<Value>("/locations", &[]).await.unwrap_err();
    assert_eq!(e.code(), "unauthorized");

    // invalid_input with details.fields.
    let e = c
        .post::<Value>("/ssh_keys", &json!({"name": "k"}), Repeat::Once)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert_eq!(e.api().unwrap().fields[0].name, "public_key");
    let api: catalyst_provisioner::engine::ApiError = e.into();
    assert_eq!(api.field.as_deref(), Some("public_key"));

    // Type not sold in the location: invalid_input, as Hetzner answers it.
    let e = add_server(&c, "cp-1", json!({"location": "ash"}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(
        e.operator_message()
            .contains("unsupported location for server type")
    );

    // resource_unavailable and placement_error, scripted.
    fake.set_unavailable("cx23", "fsn1");
    let e = add_server(&c, "cp-1", json!({"location": "fsn1"}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "resource_unavailable");
    assert!(e.operator_message().contains("another location"));
    fake.inject(Fault::new(None, "/servers", 1, FaultKind::PlacementError));
    let e = add_server(&c, "cp-1", json!({})).await.unwrap_err();
    assert_eq!(e.code(), "placement_error");

    // uniqueness_error on a duplicate name.
    add_server(&c, "cp-1", json!({})).await.unwrap();
    let e = add_server(&c, "cp-1", json!({})).await.unwrap_err();
    assert_eq!(e.code(), "uniqueness_error");

    // not_found on a missing id.
    let e = c.get::<Value>("/servers/999999", &[]).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert_eq!(fake.inventory().count("servers"), 1);
    fake.shutdown().await;
}

#[tokio::test]
async fn an_uploaded_key_is_unique_by_fingerprint() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = rw(&fake);
    let k = generate_admin_key("dup.example").unwrap();
    let body = |name: &str| json!({"name": name, "public_key": k.public_openssh()});
    let _: Value = c.post("/ssh_keys", &body("a"), Repeat::Once).await.unwrap();
    let e = c
        .post::<Value>("/ssh_keys", &body("b"), Repeat::Once)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "uniqueness_error");
    assert!(e.api().unwrap().message.contains("fingerprint"));
    fake.shutdown().await;
}

#[tokio::test]
async fn purge_finds_by_label_deletes_in_order_and_leaves_nothing() {
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = rw(&fake);
    let l = json!({"catalyst/deployment": "w1"});
    let key = add_key(&c, "w1-admin", l.clone()).await;
    let net: Value = c
        .post(
            "/networks",
            &json!({"name": "w1-net", "ip_range": "10.0.0.0/16", "labels": l,
                "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}]}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let net_id = net["network"]["id"].as_u64().unwrap();
    let fw: Value = c
        .post(
            "/firewalls",
            &json!({"name": "w1-fw", "labels": l, "rules": [
                {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"]}]}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let fw_id = fw["firewall"]["id"].as_u64().unwrap();
    let srv = add_server(
        &c,
        "w1-cp",
        json!({"labels": l, "ssh_keys": [key], "networks": [net_id], "firewalls": [{"firewall": fw_id}]}),
    )
    .await
    .unwrap();
    let srv_id = srv["server"]["id"].as_u64().unwrap();
    assert_eq!(srv["server"]["private_net"][0]["ip"], "10.0.1.2");
    assert!(srv["root_password"].is_null());
    let lb: Value = c
        .post(
            "/load_balancers",
            &json!({"name": "w1-lb", "load_balancer_type": "lb11", "location": "nbg1", "labels": l}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let lb_id = lb["load_balancer"]["id"].as_u64().unwrap();
    // A private target before the LB is on the network is refused, as at Hetzner.
    let target = json!({"type": "server", "server": {"id": srv_id}, "use_private_ip": true});
    let e = c
        .post::<Value>(
            &format!("/load_balancers/{lb_id}/actions/add_target"),
            &target,
            Repeat::Once,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "load_balancer_not_attached_to_network");
    let _: Value = c
        .post(
            &format!("/load_balancers/{lb_id}/actions/attach_to_network"),
            &json!({"network": net_id}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let _: Value = c
        .post(
            &format!("/load_balancers/{lb_id}/actions/add_target"),
            &target,
            Repeat::Once,
        )
        .await
        .unwrap();
    let _: Value = c
        .post(
            &format!("/load_balancers/{lb_id}/actions/add_service"),
            &json!({"protocol": "tcp", "listen_port": 443, "destination_port": 30443}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let _: Value = c
        .post(
            "/volumes",
            &json!({"name": "w1-data", "size": 10, "location": "nbg1", "labels": l}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let _: Value = c
        .post(
            "/floating_ips",
            &json!({"type": "ipv4", "home_location": "nbg1", "name": "w1-fip", "labels": l}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let _: Value = c
        .post(
            "/primary_ips",
            &json!({"name": "w1-pip", "type": "ipv4", "assignee_type": "server", "location": "nbg1", "labels": l}),
            Repeat::Once,
        )
        .await
        .unwrap();
    add_key(&c, "unrelated", json!({"catalyst/deployment": "other"})).await;

    let inv = fake.inventory();
    assert_eq!(
        inv.count("primary_ips"),
        3,
        "the server's own v4+v6 and the labelled one"
    );
    let lbv = inv.find("load_balancers", "w1-lb").unwrap();
    assert_eq!(lbv["targets"].as_array().unwrap().len(), 1);
    assert_eq!(lbv["private_net"][0]["ip"], "10.0.1.3");

    // The firewall is held by the server: resource_in_use.
    let e = c
        .delete_resource(ResourceKind::Firewall, fw_id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "resource_in_use");

    let found = c
        .list_all_resources(Some("catalyst/deployment=w1"))
        .await
        .unwrap();
    let kinds: Vec<ResourceKind> = found.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ResourceKind::Server,
            ResourceKind::LoadBalancer,
            ResourceKind::Firewall,
            ResourceKind::Network,
            ResourceKind::SshKey,
            ResourceKind::Volume,
            ResourceKind::PrimaryIp,
            ResourceKind::FloatingIp
        ]
    );
    for r in &found {
        assert_eq!(
            c.delete_resource(r.kind, r.id).await.unwrap(),
            DeleteOutcome::Deleted,
            "{r:?}"
        );
    }
    // Deleting again is not an error: it is gone.
    assert_eq!(
        c.delete_resource(ResourceKind::Server, srv_id).await.unwrap(),
        DeleteOutcome::AlreadyGone
    );
    assert!(
        c.list_all_resources(Some("catalyst/deployment=w1"))
            .await
            .unwrap()
            .is_empty()
    );
    let inv = fake.inventory();
    assert_eq!(inv.total(), 1, "left behind: {:?}", inv.resources);
    assert_eq!(inv.names("ssh_keys"), ["unrelated"]);
    // The same inventory over HTTP.
    let url = fake.base_url().replace("/v1", "/__inventory");
    let over_http: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(over_http["resources"]["ssh_keys"][0]["name"], "unrelated");
    assert_eq!(over_http["resources"]["servers"].as_array().unwrap().len(), 0);
    fake.shutdown().await;
}

#[tokio::test]
async fn a_deleted_object_lingers_in_listings_for_the_configured_time() {
    let fake = FakeHetzner::start(FakeConfig {
        linger: Duration::from_millis(1500),
        ..FakeConfig::default()
    })
    .await;
    let c = rw(&fake);
    let l = json!({"catalyst/deployment": "g1"});
    let fw: Value = c
        .post("/firewalls", &json!({"name": "g1-fw", "labels": l}), Repeat::Once)
        .await
        .unwrap();
    let fw_id = fw["firewall"]["id"].as_u64().unwrap();
    let srv = add_server(
        &c,
        "g1-cp",
        json!({"labels": l, "firewalls": [{"firewall": fw_id}]}),
    )
    .await
    .unwrap();
    let srv_id = srv["server"]["id"].as_u64().unwrap();
    assert_eq!(
        c.delete_resource(ResourceKind::Server, srv_id).await.unwrap(),
        DeleteOutcome::Deleted
    );
    // Still listed, and still holding its firewall, right after the delete.
    assert_eq!(
        c.list_resources(ResourceKind::Server, Some("catalyst/deployment=g1"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.delete_resource(ResourceKind::Firewall, fw_id)
            .await
            .unwrap_err()
            .code(),
        "resource_in_use"
    );
    assert_eq!(
        c.delete_resource(ResourceKind::Server, srv_id).await.unwrap(),
        DeleteOutcome::AlreadyGone
    );
    // The name stays taken while it lingers.
    assert_eq!(
        add_server(&c, "g1-cp", json!({})).await.unwrap_err().code(),
        "uniqueness_error"
    );
    assert_eq!(
        fake.inventory().count("servers"),
        0,
        "the inventory shows what exists"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(
        c.list_resources(ResourceKind::Server, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.delete_resource(ResourceKind::Firewall, fw_id).await.unwrap(),
        DeleteOutcome::Deleted
    );
    fake.shutdown().await;
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn a_canary_token_never_reaches_the_log_or_the_data_dir() {
    let canary = catalyst_tests::support::canary_token("");
    let fake = FakeHetzner::start(FakeConfig {
        tokens: vec![(canary.clone(), TokenKind::ReadWrite)],
        ..FakeConfig::default()
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let logs = data.path().join("logs");
    let (sub, guard) = catalyst_provisioner::logging::subscriber(&logs, false).unwrap();
    // The test runtime is single-threaded, so a thread default covers every task.
    let dispatch = tracing::subscriber::set_default(sub);

    let store = MemoryStore::new();
    store.set(&names::hetzner_token("draft"), &canary).unwrap();
    let token = store.get(&names::hetzner_token("draft")).unwrap().unwrap();
    let check = check_token(&fast(&fake.base_url()), &token).await.unwrap();
    assert_eq!(
        check.scope,
        TokenScope::ReadWrite,
        "the fake accepts only the canary, so it was used"
    );
    // A careless log line, an error carrying the token, and a child's env.
    tracing::warn!(token = %token, "checking token {token}");
    let e = HetznerClient::new(fast("http://127.0.0.1:9/v1"), &token)
        .unwrap()
        .get::<Value>("/locations", &[])
        .await
        .unwrap_err();
    tracing::error!(error = %e, "call failed for token {token}");
    let env = SecretEnv::from_store(&store, &[("HCLOUD_TOKEN", "hetzner-token/draft")]).unwrap();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg("test -n \"$HCLOUD_TOKEN\" && echo token-present");
    env.apply(&mut cmd);
    tracing::info!(command = ?cmd, env = ?env, "spawning child");
    let out = cmd.output().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "token-present");

    drop(dispatch);
    drop(guard);
    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    assert!(!files.is_empty());
    let mut log_text = String::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&canary), "canary leaked into {}", f.display());
        log_text.push_str(&text);
    }
    assert!(
        log_text.contains("Hetzner token check done"),
        "log lines missing: {log_text}"
    );
    assert!(log_text.contains("checking token [REDACTED]"), "{log_text}");
    assert!(log_text.contains("spawning child"));
    fake.shutdown().await;
}
