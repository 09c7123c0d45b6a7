//! `hcloud_firewall`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![id_attr(), a("name", Str, Req), labels()])
        .block(
            "rule",
            N::Set,
            Blk::new(vec![
                a("direction", Str, Req),
                a("protocol", Str, Req),
                a("port", Str, Opt),
                a("source_ips", set(Str), Opt),
                a("destination_ips", set(Str), Opt),
                a("description", Str, Opt),
            ]),
        )
        .block(
            "apply_to",
            N::Set,
            Blk::new(vec![a("label_selector", Str, OptComp), a("server", Num, OptComp)]),
        )
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    let Some(r) = c.get_opt(&format!("/firewalls/{id}")).await? else {
        return Ok(None);
    };
    let j = &r["firewall"];
    let hint_rules = st.get("rule").list();
    let rules: Vec<V> = j["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|rj| {
            let find = |key: &str| {
                hint_rules
                    .iter()
                    .find(|h| {
                        h.get("direction").str() == rj["direction"].as_str()
                            && h.get("port").str() == rj["port"].as_str()
                            && h.get("protocol").str() == rj["protocol"].as_str()
                    })
                    .map(|h| h.get(key).clone())
                    .unwrap_or(V::Null)
            };
            value::map(vec![
                ("direction", V::from_json(&rj["direction"])),
                ("protocol", V::from_json(&rj["protocol"])),
                ("port", V::opt_s(rj["port"].as_str())),
                ("source_ips", strs_or_null(&rj["source_ips"], &find("source_ips"))),
                (
                    "destination_ips",
                    strs_or_null(&rj["destination_ips"], &find("destination_ips")),
                ),
                ("description", V::opt_s(rj["description"].as_str())),
            ])
        })
        .collect();
    // apply_to is computed-or-configured in the real provider; here
    // only the entries the state already had are reported, so a
    // server's own firewall_ids do not show up as a diff.
    let prior_apply = st.get("apply_to").list();
    let apply: Vec<V> = j["applied_to"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| match e["type"].as_str() {
            Some("server") => value::map(vec![
                ("server", V::from_json(&e["server"]["id"])),
                ("label_selector", V::Null),
            ]),
            _ => value::map(vec![
                ("server", V::Null),
                ("label_selector", V::from_json(&e["label_selector"]["selector"])),
            ]),
        })
        .filter(|e| {
            prior_apply.iter().any(|p| {
                (p.get("server").num().is_some() && p.get("server").num() == e.get("server").num())
                    || (p.get("label_selector").str().is_some()
                        && p.get("label_selector").str() == e.get("label_selector").str())
            })
        })
        .collect();
    Ok(Some(value::map(vec![
        ("id", id_of(j)),
        ("name", V::from_json(&j["name"])),
        ("labels", labels_v(j)),
        ("rule", V::List(rules)),
        ("apply_to", V::List(apply)),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let rules: Vec<Json> = p.get("rule").list().iter().map(rule_json).collect();
    let apply: Vec<Json> = p.get("apply_to").list().iter().map(apply_to_json).collect();
    let r = c
        .post(
            "/firewalls",
            &json!({"name": p.get("name").to_json(), "labels": labels_json(p.get("labels")), "rules": rules, "apply_to": apply}),
        )
        .await?;
    let st = value::map(vec![
        ("id", id_of(&r["firewall"])),
        ("apply_to", p.get("apply_to").clone()),
        ("rule", p.get("rule").clone()),
    ]);
    if let Err(err) = c.wait_all(&r).await {
        return Err(Partial {
            state: read(c, &st).await.ok().flatten(),
            err,
        });
    }
    Ok(read(c, &st).await?.unwrap_or(st))
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    let id = state_id(prior);
    if !value::typed_eq(&set(Ty::Str), prior.get("rule"), p.get("rule")) {
        let rules: Vec<Json> = p.get("rule").list().iter().map(rule_json).collect();
        c.action("firewalls", &id, "set_rules", json!({"rules": rules}))
            .await?;
    }
    let old: Vec<Json> = prior.get("apply_to").list().iter().map(apply_to_json).collect();
    let new: Vec<Json> = p.get("apply_to").list().iter().map(apply_to_json).collect();
    let add: Vec<Json> = new.iter().filter(|e| !old.contains(e)).cloned().collect();
    let remove: Vec<Json> = old.iter().filter(|e| !new.contains(e)).cloned().collect();
    if !remove.is_empty() {
        c.action(
            "firewalls",
            &id,
            "remove_from_resources",
            json!({"remove_from": remove}),
        )
        .await?;
    }
    if !add.is_empty() {
        c.action("firewalls", &id, "apply_to_resources", json!({"apply_to": add}))
            .await?;
    }
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    let applied: Vec<Json> = st.get("apply_to").list().iter().map(apply_to_json).collect();
    if !applied.is_empty() {
        gone_ok(
            c.action(
                "firewalls",
                &id,
                "remove_from_resources",
                json!({"remove_from": applied}),
            )
            .await
            .map(|_| ()),
        )?;
    }
    // A server's delete can lag; Hetzner answers resource_in_use meanwhile.
    let mut tries = 0;
    loop {
        match c.delete(&format!("/firewalls/{id}")).await {
            Ok(_) => return Ok(()),
            Err(e) if e.not_found() => return Ok(()),
            Err(e) if e.is("resource_in_use") && tries < 10 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

pub(crate) fn rule_json(r: &V) -> Json {
    let mut o = json!({
        "direction": r.get("direction").to_json(),
        "protocol": r.get("protocol").to_json(),
        "source_ips": r.get("source_ips").list().iter().map(V::to_json).collect::<Vec<_>>(),
        "destination_ips": r.get("destination_ips").list().iter().map(V::to_json).collect::<Vec<_>>(),
    });
    if let Some(p) = r.get("port").str() {
        o["port"] = json!(p);
    }
    if let Some(d) = r.get("description").str() {
        o["description"] = json!(d);
    }
    o
}

pub(crate) fn apply_to_json(e: &V) -> Json {
    match e.get("server").num() {
        Some(sid) => json!({"type": "server", "server": {"id": sid}}),
        None => {
            json!({"type": "label_selector", "label_selector": {"selector": e.get("label_selector").to_json()}})
        }
    }
}

/// A list of strings from the API as a set attribute: empty is null when
/// the configuration left it null (SDKv2 does not tell them apart).
pub(crate) fn strs_or_null(j: &Json, hint: &V) -> V {
    match j.as_array() {
        Some(a) if !a.is_empty() => V::List(a.iter().map(V::from_json).collect()),
        Some(_) if matches!(hint, V::List(_)) => V::List(vec![]),
        _ => V::Null,
    }
}
