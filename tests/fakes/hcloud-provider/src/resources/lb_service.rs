//! `hcloud_load_balancer_service`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("load_balancer_id", Str, Req).fnew(),
        a("protocol", Str, Req).fnew(),
        a("listen_port", Num, OptComp).fnew(),
        a("destination_port", Num, OptComp),
        a("proxyprotocol", Bool, OptComp),
    ])
    .block(
        "http",
        N::List1,
        Blk::new(vec![
            a("sticky_sessions", Bool, OptComp),
            a("cookie_name", Str, OptComp),
            a("cookie_lifetime", Num, OptComp),
            a("certificates", set(Num), OptComp),
            a("redirect_http", Bool, OptComp),
            a("timeout_idle", Num, OptComp),
        ]),
    )
    .block(
        "health_check",
        N::List1,
        Blk::new(vec![
            a("protocol", Str, Req),
            a("port", Num, Req),
            a("interval", Num, Req),
            a("timeout", Num, Req),
            a("retries", Num, OptComp),
        ])
        .block(
            "http",
            N::List1,
            Blk::new(vec![
                a("domain", Str, Opt),
                a("path", Str, Opt),
                a("response", Str, Opt),
                a("tls", Bool, Opt),
                a("status_codes", list(Str), Opt),
            ]),
        ),
    )
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let lb = st.get("load_balancer_id").str().unwrap_or_default().to_owned();
    let port = st.get("listen_port").num();
    let Some(r) = c.get_opt(&format!("/load_balancers/{lb}")).await? else {
        return Ok(None);
    };
    let found = r["load_balancer"]["services"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["listen_port"].as_i64() == port).cloned());
    Ok(found.map(|s| service_state(&lb, &s, st)))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let lb = p.get("load_balancer_id").str().unwrap_or_default().to_owned();
    let r = c
        .post(
            &format!("/load_balancers/{lb}/actions/add_service"),
            &service_json(p),
        )
        .await?;
    c.wait_all(&r).await?;
    let port = match p.get("listen_port").num() {
        Some(n) => n,
        None => match p.get("protocol").str() {
            Some("https") => 443,
            _ => 80,
        },
    };
    let mut st = p.clone();
    st.set("listen_port", V::Num(port));
    read(c, &st).await?.ok_or_else(|| {
        Partial::from(ApiError::other(
            "GET /load_balancers",
            "service not found after add_service",
        ))
    })
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    let lb = prior.get("load_balancer_id").str().unwrap_or_default().to_owned();
    c.action("load_balancers", &lb, "update_service", service_json(p))
        .await?;
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let lb = st.get("load_balancer_id").str().unwrap_or_default().to_owned();
    let r = c
        .action(
            "load_balancers",
            &lb,
            "delete_service",
            json!({"listen_port": st.get("listen_port").to_json()}),
        )
        .await;
    gone_ok(r.map(|_| ()))
}

pub(crate) fn service_json(p: &V) -> Json {
    let mut o = json!({"protocol": p.get("protocol").to_json()});
    for k in ["listen_port", "destination_port", "proxyprotocol"] {
        if p.get(k).wholly_known() && !p.get(k).is_null() {
            o[k] = p.get(k).to_json();
        }
    }
    if let Some(hc) = p.get("health_check").list().first() {
        o["health_check"] = health_json(hc);
    }
    if let Some(h) = p.get("http").list().first() {
        let mut x = json!({});
        for k in [
            "sticky_sessions",
            "cookie_name",
            "cookie_lifetime",
            "redirect_http",
            "timeout_idle",
        ] {
            if h.get(k).wholly_known() && !h.get(k).is_null() {
                x[k] = h.get(k).to_json();
            }
        }
        if let V::List(c) = h.get("certificates") {
            x["certificates"] = json!(c.iter().map(V::to_json).collect::<Vec<_>>());
        }
        o["http"] = x;
    }
    o
}

pub(crate) fn health_json(hc: &V) -> Json {
    let mut o = json!({
        "protocol": hc.get("protocol").to_json(),
        "port": hc.get("port").to_json(),
        "interval": hc.get("interval").to_json(),
        "timeout": hc.get("timeout").to_json(),
    });
    if let Some(r) = hc.get("retries").num() {
        o["retries"] = json!(r);
    }
    if let Some(h) = hc.get("http").list().first() {
        let mut x = json!({});
        for k in ["domain", "path", "response", "tls", "status_codes"] {
            if !h.get(k).is_null() {
                x[k] = h.get(k).to_json();
            }
        }
        o["http"] = x;
    }
    o
}

pub(crate) fn service_state(lb: &str, s: &Json, hint: &V) -> V {
    let port = s["listen_port"].as_i64().unwrap_or_default();
    let http = if hint.get("http").list().is_empty() || s["http"].is_null() {
        V::List(vec![])
    } else {
        let h = &s["http"];
        V::List(vec![value::map(vec![
            ("sticky_sessions", V::from_json(&h["sticky_sessions"])),
            ("cookie_name", V::from_json(&h["cookie_name"])),
            ("cookie_lifetime", V::from_json(&h["cookie_lifetime"])),
            (
                "certificates",
                match &h["certificates"] {
                    Json::Array(a) => V::List(a.iter().map(V::from_json).collect()),
                    _ => V::List(vec![]),
                },
            ),
            ("redirect_http", V::from_json(&h["redirect_http"])),
            ("timeout_idle", V::from_json(&h["timeout_idle"])),
        ])])
    };
    let hc_hint = hint
        .get("health_check")
        .list()
        .first()
        .cloned()
        .unwrap_or(V::Null);
    let health = if hint.get("health_check").list().is_empty() || s["health_check"].is_null() {
        V::List(vec![])
    } else {
        let h = &s["health_check"];
        let hh = if hc_hint.get("http").list().is_empty() || h["http"].is_null() {
            V::List(vec![])
        } else {
            let x = &h["http"];
            V::List(vec![value::map(vec![
                ("domain", V::from_json(&x["domain"])),
                ("path", V::from_json(&x["path"])),
                ("response", V::from_json(&x["response"])),
                ("tls", V::from_json(&x["tls"])),
                ("status_codes", V::from_json(&x["status_codes"])),
            ])])
        };
        V::List(vec![value::map(vec![
            ("protocol", V::from_json(&h["protocol"])),
            ("port", V::from_json(&h["port"])),
            ("interval", V::from_json(&h["interval"])),
            ("timeout", V::from_json(&h["timeout"])),
            ("retries", V::from_json(&h["retries"])),
            ("http", hh),
        ])])
    };
    value::map(vec![
        ("id", V::s(format!("{lb}__{port}"))),
        ("load_balancer_id", V::s(lb)),
        ("protocol", V::from_json(&s["protocol"])),
        ("listen_port", V::Num(port)),
        ("destination_port", V::from_json(&s["destination_port"])),
        ("proxyprotocol", V::Bool(s["proxyprotocol"] == true)),
        ("http", http),
        ("health_check", health),
    ])
}
