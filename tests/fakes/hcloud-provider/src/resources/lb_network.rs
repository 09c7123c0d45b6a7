//! `hcloud_load_balancer_network`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("load_balancer_id", Num, Req).fnew(),
        a("network_id", Num, OptComp).fnew(),
        a("subnet_id", Str, Opt).fnew(),
        a("ip", Str, OptComp).fnew(),
        with_default("enable_public_interface", Bool, V::Bool(true)),
    ])
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let lb = st.get("load_balancer_id").num().unwrap_or_default();
    let nid = st.get("network_id").num().unwrap_or_default();
    let Some(r) = c.get_opt(&format!("/load_balancers/{lb}")).await? else {
        return Ok(None);
    };
    let j = &r["load_balancer"];
    let Some(pn) = j["private_net"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["network"].as_i64() == Some(nid)))
    else {
        return Ok(None);
    };
    Ok(Some(value::map(vec![
        ("id", V::s(format!("{lb}-{nid}"))),
        ("load_balancer_id", V::Num(lb)),
        ("network_id", V::Num(nid)),
        ("subnet_id", st.get("subnet_id").clone()),
        ("ip", V::from_json(&pn["ip"])),
        (
            "enable_public_interface",
            V::Bool(j["public_net"]["enabled"] != false),
        ),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let lb = p.get("load_balancer_id").num().unwrap_or_default();
    let nid = match p.get("network_id").num() {
        Some(n) => n,
        None => p
            .get("subnet_id")
            .str()
            .and_then(|s| s.split('-').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
    };
    let mut body = json!({"network": nid});
    if let Some(ip) = p.get("ip").str() {
        body["ip"] = json!(ip);
    }
    c.action("load_balancers", &lb.to_string(), "attach_to_network", body)
        .await?;
    let st = value::map(vec![
        ("load_balancer_id", V::Num(lb)),
        ("network_id", V::Num(nid)),
        ("subnet_id", p.get("subnet_id").clone()),
    ]);
    if p.get("enable_public_interface").bool() == Some(false) {
        if let Err(err) = c
            .action(
                "load_balancers",
                &lb.to_string(),
                "disable_public_interface",
                json!({}),
            )
            .await
        {
            return Err(Partial {
                state: read(c, &st).await.ok().flatten(),
                err,
            });
        }
    }
    read(c, &st).await?.ok_or_else(|| {
        Partial::from(ApiError::other(
            "GET /load_balancers",
            "network not attached after attach_to_network",
        ))
    })
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    if changed(prior, p, "enable_public_interface") {
        let lb = prior
            .get("load_balancer_id")
            .num()
            .unwrap_or_default()
            .to_string();
        let act = if p.get("enable_public_interface").bool() == Some(false) {
            "disable_public_interface"
        } else {
            "enable_public_interface"
        };
        c.action("load_balancers", &lb, act, json!({})).await?;
    }
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let lb = st.get("load_balancer_id").num().unwrap_or_default();
    let r = c
        .action(
            "load_balancers",
            &lb.to_string(),
            "detach_from_network",
            json!({"network": st.get("network_id").to_json()}),
        )
        .await;
    gone_ok(r.map(|_| ()))
}
