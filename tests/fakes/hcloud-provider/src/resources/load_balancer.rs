//! `hcloud_load_balancer`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("name", Str, Req),
        a("load_balancer_type", Str, Req),
        a("location", Str, OptComp).fnew(),
        a("network_zone", Str, OptComp).fnew(),
        a("ipv4", Str, Comp),
        a("ipv6", Str, Comp),
        a("network_id", Num, Comp),
        a("network_ip", Str, Comp),
        labels(),
        with_default("delete_protection", Bool, V::Bool(false)),
    ])
    .block(
        "algorithm",
        N::List1,
        Blk::new(vec![with_default("type", Str, V::s("round_robin"))]),
    )
    .block(
        "target",
        N::Set,
        Blk::new(vec![
            a("type", Str, Req),
            a("server_id", Num, Opt),
            a("use_private_ip", Bool, OptComp),
        ]),
    )
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    let Some(r) = c.get_opt(&format!("/load_balancers/{id}")).await? else {
        return Ok(None);
    };
    let j = &r["load_balancer"];
    let pn = j["private_net"].as_array().and_then(|a| a.first()).cloned();
    let algorithm = if st.get("algorithm").list().is_empty() {
        V::List(vec![])
    } else {
        V::List(vec![value::map(vec![(
            "type",
            V::from_json(&j["algorithm"]["type"]),
        )])])
    };
    Ok(Some(value::map(vec![
        ("id", id_of(j)),
        ("name", V::from_json(&j["name"])),
        (
            "load_balancer_type",
            V::from_json(&j["load_balancer_type"]["name"]),
        ),
        ("location", V::from_json(&j["location"]["name"])),
        ("network_zone", V::from_json(&j["location"]["network_zone"])),
        ("ipv4", V::from_json(&j["public_net"]["ipv4"]["ip"])),
        ("ipv6", V::from_json(&j["public_net"]["ipv6"]["ip"])),
        (
            "network_id",
            pn.as_ref()
                .map(|p| V::from_json(&p["network"]))
                .unwrap_or(V::Null),
        ),
        (
            "network_ip",
            pn.as_ref().map(|p| V::from_json(&p["ip"])).unwrap_or(V::Null),
        ),
        ("labels", labels_v(j)),
        ("delete_protection", V::Bool(j["protection"]["delete"] == true)),
        ("algorithm", algorithm),
        ("target", st.get("target").clone()),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let mut body = json!({"name": p.get("name").to_json(), "load_balancer_type": p.get("load_balancer_type").to_json(),
        "labels": labels_json(p.get("labels"))});
    for key in ["location", "network_zone"] {
        if let Some(s) = p.get(key).str() {
            body[key] = json!(s);
        }
    }
    if let Some(al) = p.get("algorithm").list().first() {
        body["algorithm"] = json!({"type": al.get("type").to_json()});
    }
    let r = c.post("/load_balancers", &body).await?;
    let st = value::map(vec![
        ("id", id_of(&r["load_balancer"])),
        ("algorithm", p.get("algorithm").clone()),
    ]);
    let mut result = c.wait_all(&r).await;
    if result.is_ok() && p.get("delete_protection").bool() == Some(true) {
        result = c
            .action(
                "load_balancers",
                st.get("id").str().unwrap_or(""),
                "change_protection",
                json!({"delete": true}),
            )
            .await
            .map(|_| ());
    }
    if let Err(err) = result {
        return Err(Partial {
            state: read(c, &st).await.ok().flatten(),
            err,
        });
    }
    Ok(read(c, &st).await?.unwrap_or(st))
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    let id = state_id(prior);
    if changed(prior, p, "load_balancer_type") {
        c.action(
            "load_balancers",
            &id,
            "change_type",
            json!({"load_balancer_type": p.get("load_balancer_type").to_json()}),
        )
        .await?;
    }
    if changed(prior, p, "algorithm") {
        if let Some(al) = p.get("algorithm").list().first() {
            c.action(
                "load_balancers",
                &id,
                "change_algorithm",
                json!({"type": al.get("type").to_json()}),
            )
            .await?;
        }
    }
    if changed(prior, p, "delete_protection") {
        c.action(
            "load_balancers",
            &id,
            "change_protection",
            json!({"delete": p.get("delete_protection").bool().unwrap_or(false)}),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    gone_ok(c.delete(&format!("/load_balancers/{id}")).await.map(|_| ()))
}
