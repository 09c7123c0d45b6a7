//! `hcloud_load_balancer_target`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("type", Str, Req),
        a("load_balancer_id", Num, Req).fnew(),
        a("server_id", Num, Opt).fnew(),
        a("label_selector", Str, Opt).fnew(),
        a("ip", Str, Opt).fnew(),
        a("use_private_ip", Bool, OptComp),
    ])
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let lb = st.get("load_balancer_id").num().unwrap_or_default();
    let Some(r) = c.get_opt(&format!("/load_balancers/{lb}")).await? else {
        return Ok(None);
    };
    let ty = st.get("type").str().unwrap_or_default().to_owned();
    let found = r["load_balancer"]["targets"].as_array().and_then(|ts| {
        ts.iter()
            .find(|t| {
                t["type"] == ty.as_str()
                    && match ty.as_str() {
                        "server" => t["server"]["id"].as_i64() == st.get("server_id").num(),
                        "label_selector" => {
                            t["label_selector"]["selector"].as_str() == st.get("label_selector").str()
                        }
                        _ => t["ip"]["ip"].as_str() == st.get("ip").str(),
                    }
            })
            .cloned()
    });
    Ok(found.map(|t| target_state(lb, &t)))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let lb = p.get("load_balancer_id").num().unwrap_or_default();
    let ty = p.get("type").str().unwrap_or_default().to_owned();
    let mut body = json!({"type": ty});
    match ty.as_str() {
        "server" => body["server"] = json!({"id": p.get("server_id").to_json()}),
        "label_selector" => body["label_selector"] = json!({"selector": p.get("label_selector").to_json()}),
        _ => body["ip"] = json!({"ip": p.get("ip").to_json()}),
    }
    if let Some(u) = p.get("use_private_ip").bool() {
        body["use_private_ip"] = json!(u);
    }
    match c
        .action("load_balancers", &lb.to_string(), "add_target", body)
        .await
    {
        Ok(_) => {}
        Err(e) if e.is("target_already_defined") => {}
        Err(e) => return Err(e.into()),
    }
    let st = p.clone();
    read(c, &st).await?.ok_or_else(|| {
        Partial::from(ApiError::other(
            "GET /load_balancers",
            "target not found after add_target",
        ))
    })
}

/// A changed target is replaced, not updated: the new object's state, or
/// `None` when nothing changed (the caller then reads it back).
pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<Option<V>> {
    if changed(prior, p, "use_private_ip") || changed(prior, p, "type") {
        delete(c, prior).await?;
        return create(c, p).await.map(Some).map_err(|e| e.err);
    }
    Ok(None)
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let lb = st.get("load_balancer_id").num().unwrap_or_default();
    let ty = st.get("type").str().unwrap_or_default().to_owned();
    let mut body = json!({"type": ty});
    match ty.as_str() {
        "server" => body["server"] = json!({"id": st.get("server_id").to_json()}),
        "label_selector" => body["label_selector"] = json!({"selector": st.get("label_selector").to_json()}),
        _ => body["ip"] = json!({"ip": st.get("ip").to_json()}),
    }
    let r = c
        .action("load_balancers", &lb.to_string(), "remove_target", body)
        .await;
    match r {
        Err(e)
            if e.not_found()
                || e.is("load_balancer_target_not_found")
                || e.message.contains("target not found") =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

pub(crate) fn target_state(lb: i64, t: &Json) -> V {
    let ty = t["type"].as_str().unwrap_or_default();
    let (sid, sel, ip, id) = match ty {
        "server" => {
            let sid = t["server"]["id"].as_i64().unwrap_or_default();
            (V::Num(sid), V::Null, V::Null, format!("lb-srv-tgt-{sid}-{lb}"))
        }
        "label_selector" => {
            let s = t["label_selector"]["selector"].as_str().unwrap_or_default();
            (
                V::Null,
                V::s(s),
                V::Null,
                format!("lb-label-selector-tgt-{}-{lb}", sha256_hex(s)),
            )
        }
        _ => {
            let s = t["ip"]["ip"].as_str().unwrap_or_default();
            (
                V::Null,
                V::Null,
                V::s(s),
                format!("lb-ip-tgt-{}-{lb}", sha256_hex(s)),
            )
        }
    };
    value::map(vec![
        ("id", V::s(id)),
        ("type", V::s(ty)),
        ("load_balancer_id", V::Num(lb)),
        ("server_id", sid),
        ("label_selector", sel),
        ("ip", ip),
        ("use_private_ip", V::Bool(t["use_private_ip"] == true)),
    ])
}

pub(crate) fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
