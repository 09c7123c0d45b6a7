//! `hcloud_server`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("name", Str, Req),
        a("server_type", Str, Req),
        a("image", Str, OptComp).fnew(),
        a("location", Str, OptComp).fnew(),
        a("datacenter", Str, OptComp).fnew(),
        a("user_data", Str, Opt).fnew(),
        a("ssh_keys", list(Str), Opt).fnew(),
        with_default("keep_disk", Bool, V::Bool(false)),
        with_default("backups", Bool, V::Bool(false)),
        a("ipv4_address", Str, Comp),
        a("ipv6_address", Str, Comp),
        a("ipv6_network", Str, Comp),
        a("status", Str, Comp),
        a("iso", Str, Opt),
        a("rescue", Str, Opt),
        labels(),
        with_default("ignore_remote_firewall_ids", Bool, V::Bool(false)),
        a("firewall_ids", set(Num), OptComp),
        a("placement_group_id", Num, Opt),
        with_default("delete_protection", Bool, V::Bool(false)),
        with_default("rebuild_protection", Bool, V::Bool(false)),
        with_default("shutdown_before_deletion", Bool, V::Bool(false)),
        with_default("allow_deprecated_images", Bool, V::Bool(false)),
        a("primary_disk_size", Num, Comp),
    ])
    .block(
        "public_net",
        N::Set,
        Blk::new(vec![
            with_default("ipv4_enabled", Bool, V::Bool(true)),
            with_default("ipv6_enabled", Bool, V::Bool(true)),
            a("ipv4", Num, OptComp),
            a("ipv6", Num, OptComp),
        ]),
    )
    .block(
        "network",
        N::Set,
        Blk::new(vec![
            a("network_id", Num, OptComp),
            a("subnet_id", Str, OptComp),
            a("ip", Str, OptComp),
            a("alias_ips", set(Str), OptComp),
            a("mac_address", Str, Comp),
        ]),
    )
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    let Some(r) = c.get_opt(&format!("/servers/{id}")).await? else {
        return Ok(None);
    };
    server_state(c, &r["server"], st).await.map(Some)
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let mut body = json!({
        "name": p.get("name").to_json(),
        "server_type": p.get("server_type").to_json(),
        "image": p.get("image").to_json(),
        "labels": labels_json(p.get("labels")),
        "start_after_create": true,
    });
    for key in ["location", "datacenter", "user_data"] {
        if let Some(s) = p.get(key).str() {
            body[key] = json!(s);
        }
    }
    let keys: Vec<Json> = p
        .get("ssh_keys")
        .list()
        .iter()
        .map(|k| match k.str().and_then(|s| s.parse::<u64>().ok()) {
            Some(n) => json!(n),
            None => k.to_json(),
        })
        .collect();
    if !keys.is_empty() {
        body["ssh_keys"] = json!(keys);
    }
    let fws: Vec<Json> = p
        .get("firewall_ids")
        .list()
        .iter()
        .filter_map(|f| f.num())
        .map(|f| json!({"firewall": f}))
        .collect();
    if !fws.is_empty() {
        body["firewalls"] = json!(fws);
    }
    if let Some(pn) = p.get("public_net").list().first() {
        let mut o = json!({
            "enable_ipv4": pn.get("ipv4_enabled").bool().unwrap_or(true),
            "enable_ipv6": pn.get("ipv6_enabled").bool().unwrap_or(true),
        });
        if let Some(i) = pn.get("ipv4").num() {
            o["ipv4"] = json!(i);
        }
        if let Some(i) = pn.get("ipv6").num() {
            o["ipv6"] = json!(i);
        }
        body["public_net"] = o;
    }
    if let Some(pg) = p.get("placement_group_id").num() {
        body["placement_group"] = json!(pg);
    }
    let r = c.post("/servers", &body).await?;
    let id = r["server"]["id"].as_u64().unwrap_or_default().to_string();
    let steps = async {
        c.wait_all(&r).await?;
        for n in p.get("network").list() {
            let mut b = json!({"network": n.get("network_id").to_json()});
            if let Some(ip) = n.get("ip").str() {
                b["ip"] = json!(ip);
            }
            if let V::List(al) = n.get("alias_ips") {
                b["alias_ips"] = json!(al.iter().map(V::to_json).collect::<Vec<_>>());
            }
            c.action("servers", &id, "attach_to_network", b).await?;
        }
        let del = p.get("delete_protection").bool() == Some(true);
        let reb = p.get("rebuild_protection").bool() == Some(true);
        if del || reb {
            c.action(
                "servers",
                &id,
                "change_protection",
                json!({"delete": del, "rebuild": reb}),
            )
            .await?;
        }
        if p.get("backups").bool() == Some(true) {
            c.action("servers", &id, "enable_backup", json!({})).await?;
        }
        R::Ok(())
    };
    let result = steps.await;
    let now = match c.get_opt(&format!("/servers/{id}")).await {
        Ok(Some(s)) => server_state(c, &s["server"], p).await.ok(),
        _ => None,
    };
    match (result, now) {
        (Ok(()), Some(st)) => Ok(st),
        (Ok(()), None) => Err(Partial::from(ApiError::other(
            "GET /servers",
            "server gone after create",
        ))),
        (Err(err), st) => Err(Partial { state: st, err }),
    }
}

pub(crate) async fn update(c: &Client, prior: &V, p: &V) -> R<()> {
    let id = state_id(prior);
    if changed(prior, p, "server_type") {
        c.action("servers", &id, "poweroff", json!({})).await?;
        c.action(
            "servers",
            &id,
            "change_type",
            json!({"server_type": p.get("server_type").to_json(), "upgrade_disk": p.get("keep_disk").bool() != Some(true)}),
        )
        .await?;
        c.action("servers", &id, "poweron", json!({})).await?;
    }
    if changed(prior, p, "delete_protection") || changed(prior, p, "rebuild_protection") {
        c.action(
            "servers",
            &id,
            "change_protection",
            json!({"delete": p.get("delete_protection").bool().unwrap_or(false), "rebuild": p.get("rebuild_protection").bool().unwrap_or(false)}),
        )
        .await?;
    }
    if p.get("firewall_ids").wholly_known()
        && !value::typed_eq(&set(Ty::Num), prior.get("firewall_ids"), p.get("firewall_ids"))
    {
        let old: Vec<i64> = prior
            .get("firewall_ids")
            .list()
            .iter()
            .filter_map(V::num)
            .collect();
        let new: Vec<i64> = p.get("firewall_ids").list().iter().filter_map(V::num).collect();
        let target = json!([{"type": "server", "server": {"id": id.parse::<u64>().unwrap_or_default()}}]);
        for f in old.iter().filter(|f| !new.contains(f)) {
            c.action(
                "firewalls",
                &f.to_string(),
                "remove_from_resources",
                json!({"remove_from": target}),
            )
            .await?;
        }
        for f in new.iter().filter(|f| !old.contains(f)) {
            c.action(
                "firewalls",
                &f.to_string(),
                "apply_to_resources",
                json!({"apply_to": target}),
            )
            .await?;
        }
    }
    let key = |n: &V| (n.get("network_id").num(), n.get("ip").str().map(str::to_owned));
    let old: Vec<_> = prior.get("network").list().iter().map(key).collect();
    let new: Vec<&V> = p.get("network").list().iter().collect();
    for (nid, ip) in &old {
        if !new.iter().any(|n| {
            key(n) == (*nid, ip.clone()) || (n.get("ip").is_unknown() && n.get("network_id").num() == *nid)
        }) {
            c.action("servers", &id, "detach_from_network", json!({"network": nid}))
                .await?;
        }
    }
    for n in new {
        let (nid, ip) = key(n);
        if !old
            .iter()
            .any(|(o, oip)| *o == nid && (oip == &ip || n.get("ip").is_unknown()))
        {
            let mut b = json!({"network": nid});
            if let Some(ip) = ip {
                b["ip"] = json!(ip);
            }
            c.action("servers", &id, "attach_to_network", b).await?;
        }
    }
    Ok(())
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    if st.get("shutdown_before_deletion").bool() == Some(true) {
        gone_ok(c.action("servers", &id, "shutdown", json!({})).await.map(|_| ()))?;
    }
    match c.delete(&format!("/servers/{id}")).await {
        Ok(r) => c.wait_all(&r).await,
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

pub(crate) async fn server_state(c: &Client, j: &Json, hint: &V) -> R<V> {
    let ipv4 = &j["public_net"]["ipv4"];
    let ipv6 = &j["public_net"]["ipv6"];
    let v6net = ipv6["ip"].as_str().unwrap_or_default().to_owned();
    let v6addr = match v6net.split_once('/') {
        Some((base, _)) => format!("{base}1"),
        None => String::new(),
    };
    let public_net = if hint.get("public_net").list().is_empty() {
        V::List(vec![])
    } else {
        V::List(vec![value::map(vec![
            ("ipv4_enabled", V::Bool(!ipv4.is_null())),
            ("ipv6_enabled", V::Bool(!ipv6.is_null())),
            ("ipv4", ipv4["id"].as_i64().map(V::Num).unwrap_or(V::Null)),
            ("ipv6", ipv6["id"].as_i64().map(V::Num).unwrap_or(V::Null)),
        ])])
    };
    let mut networks = Vec::new();
    for p in j["private_net"].as_array().cloned().unwrap_or_default() {
        let nid = p["network"].as_i64().unwrap_or_default();
        let ip = p["ip"].as_str().unwrap_or_default().to_owned();
        let subnet = match c.get_opt(&format!("/networks/{nid}")).await? {
            Some(n) => n["network"]["subnets"]
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .find(|s| cidr_contains(s["ip_range"].as_str().unwrap_or(""), &ip))
                        .map(|s| format!("{nid}-{}", s["ip_range"].as_str().unwrap_or("")))
                })
                .map(V::s)
                .unwrap_or(V::Null),
            None => V::Null,
        };
        networks.push(value::map(vec![
            ("network_id", V::Num(nid)),
            ("subnet_id", subnet),
            ("ip", V::s(ip)),
            (
                "alias_ips",
                match &p["alias_ips"] {
                    Json::Array(a) => V::List(a.iter().map(V::from_json).collect()),
                    _ => V::List(vec![]),
                },
            ),
            ("mac_address", V::from_json(&p["mac_address"])),
        ]));
    }
    let firewall_ids = if hint.get("ignore_remote_firewall_ids").bool() == Some(true) {
        hint.get("firewall_ids").clone()
    } else {
        V::List(
            j["public_net"]["firewalls"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|f| V::from_json(&f["id"]))
                .collect(),
        )
    };
    let keep = |k: &str, d: V| match hint.get(k) {
        V::Null | V::Unknown => d,
        x => x.clone(),
    };
    let image = match hint.get("image") {
        V::Str(s) => V::s(s.clone()),
        _ => V::from_json(&j["image"]["name"]),
    };
    Ok(value::map(vec![
        ("id", id_of(j)),
        ("name", V::from_json(&j["name"])),
        ("server_type", V::from_json(&j["server_type"]["name"])),
        ("image", image),
        ("location", V::from_json(&j["datacenter"]["location"]["name"])),
        ("datacenter", V::from_json(&j["datacenter"]["name"])),
        ("user_data", keep("user_data", V::Null)),
        ("ssh_keys", keep("ssh_keys", V::Null)),
        ("keep_disk", keep("keep_disk", V::Bool(false))),
        ("backups", V::Bool(!j["backup_window"].is_null())),
        ("ipv4_address", V::s(ipv4["ip"].as_str().unwrap_or_default())),
        ("ipv6_address", V::s(v6addr)),
        ("ipv6_network", V::s(v6net)),
        ("status", V::from_json(&j["status"])),
        ("iso", keep("iso", V::Null)),
        ("rescue", keep("rescue", V::Null)),
        ("labels", labels_v(j)),
        (
            "ignore_remote_firewall_ids",
            keep("ignore_remote_firewall_ids", V::Bool(false)),
        ),
        ("firewall_ids", firewall_ids),
        ("placement_group_id", V::from_json(&j["placement_group"]["id"])),
        ("delete_protection", V::Bool(j["protection"]["delete"] == true)),
        ("rebuild_protection", V::Bool(j["protection"]["rebuild"] == true)),
        (
            "shutdown_before_deletion",
            keep("shutdown_before_deletion", V::Bool(false)),
        ),
        (
            "allow_deprecated_images",
            keep("allow_deprecated_images", V::Bool(false)),
        ),
        ("primary_disk_size", V::from_json(&j["primary_disk_size"])),
        ("public_net", public_net),
        ("network", V::List(networks)),
    ]))
}

pub(crate) fn parse_v4(ip: &str) -> Option<u32> {
    ip.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

pub(crate) fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let Some((base, len)) = cidr.split_once('/') else {
        return false;
    };
    let (Some(base), Ok(len), Some(ip)) = (parse_v4(base), len.parse::<u32>(), parse_v4(ip)) else {
        return false;
    };
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip & mask == base & mask
}
