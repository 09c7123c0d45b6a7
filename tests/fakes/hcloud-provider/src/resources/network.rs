//! `hcloud_network`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("name", Str, Req),
        a("ip_range", Str, Req).fnew(),
        labels(),
        with_default("delete_protection", Bool, V::Bool(false)),
        with_default("expose_routes_to_vswitch", Bool, V::Bool(false)),
    ])
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    let Some(r) = c.get_opt(&format!("/networks/{id}")).await? else {
        return Ok(None);
    };
    let j = &r["network"];
    Ok(Some(value::map(vec![
        ("id", id_of(j)),
        ("name", V::from_json(&j["name"])),
        ("ip_range", V::from_json(&j["ip_range"])),
        ("labels", labels_v(j)),
        ("delete_protection", V::Bool(j["protection"]["delete"] == true)),
        (
            "expose_routes_to_vswitch",
            V::Bool(j["expose_routes_to_vswitch"] == true),
        ),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let r = c
        .post(
            "/networks",
            &json!({"name": p.get("name").to_json(), "ip_range": p.get("ip_range").to_json(),
                "labels": labels_json(p.get("labels")),
                "expose_routes_to_vswitch": p.get("expose_routes_to_vswitch").bool().unwrap_or(false)}),
        )
        .await?;
    let id = id_of(&r["network"]);
    let st = value::map(vec![("id", id.clone())]);
    if p.get("delete_protection").bool() == Some(true) {
        let ids = id.str().unwrap_or_default().to_owned();
        if let Err(err) = c
            .action("networks", &ids, "change_protection", json!({"delete": true}))
            .await
        {
            return Err(Partial {
                state: read(c, &st).await.ok().flatten(),
                err,
            });
        }
    }
    Ok(read(c, &st).await?.unwrap_or(st))
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    let id = state_id(prior);
    if changed(prior, p, "delete_protection") {
        c.action(
            "networks",
            &id,
            "change_protection",
            json!({"delete": p.get("delete_protection").bool().unwrap_or(false)}),
        )
        .await?;
    }
    if changed(prior, p, "expose_routes_to_vswitch") {
        c.put(
            &format!("/networks/{id}"),
            &json!({"expose_routes_to_vswitch": p.get("expose_routes_to_vswitch").to_json()}),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    gone_ok(c.delete(&format!("/networks/{id}")).await.map(|_| ()))
}
