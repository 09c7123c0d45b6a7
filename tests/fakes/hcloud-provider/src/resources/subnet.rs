//! `hcloud_network_subnet`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("network_id", Num, Req).fnew(),
        a("type", Str, Req).fnew(),
        a("network_zone", Str, Req).fnew(),
        a("ip_range", Str, Req).fnew(),
        a("gateway", Str, Comp),
        a("vswitch_id", Num, Opt).fnew(),
    ])
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let nid = st.get("network_id").num().unwrap_or_default();
    let range = st.get("ip_range").str().unwrap_or_default().to_owned();
    let Some(r) = c.get_opt(&format!("/networks/{nid}")).await? else {
        return Ok(None);
    };
    let Some(sn) = r["network"]["subnets"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["ip_range"] == range.as_str()))
    else {
        return Ok(None);
    };
    Ok(Some(value::map(vec![
        ("id", V::s(format!("{nid}-{range}"))),
        ("network_id", V::Num(nid)),
        ("type", V::from_json(&sn["type"])),
        ("network_zone", V::from_json(&sn["network_zone"])),
        ("ip_range", V::s(range)),
        ("gateway", V::from_json(&sn["gateway"])),
        ("vswitch_id", V::from_json(&sn["vswitch_id"])),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let nid = p.get("network_id").num().unwrap_or_default();
    let mut body = json!({"type": p.get("type").to_json(), "network_zone": p.get("network_zone").to_json(), "ip_range": p.get("ip_range").to_json()});
    if let Some(v) = p.get("vswitch_id").num() {
        body["vswitch_id"] = json!(v);
    }
    c.action("networks", &nid.to_string(), "add_subnet", body).await?;
    let st = value::map(vec![
        ("network_id", V::Num(nid)),
        ("ip_range", p.get("ip_range").clone()),
    ]);
    read(c, &st).await?.ok_or_else(|| {
        Partial::from(ApiError::other(
            "GET /networks",
            "subnet not found after add_subnet",
        ))
    })
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let nid = st.get("network_id").num().unwrap_or_default();
    let r = c
        .action(
            "networks",
            &nid.to_string(),
            "delete_subnet",
            json!({"ip_range": st.get("ip_range").to_json()}),
        )
        .await;
    gone_ok(r.map(|_| ()))
}
