//! Creating, deleting and refreshing each resource through the API.
use crate::*;

pub(crate) fn id_of(st: &State, addr: &str) -> Result<u64, ApiError> {
    st.resources.get(addr).map(|r| r.id).ok_or_else(|| ApiError {
        code: "dependency".into(),
        message: format!("{addr} is not in the state"),
    })
}

pub(crate) async fn create(api: &Api, st: &State, r: &Res) -> Result<Rec, ApiError> {
    let s = &r.spec;
    let rec = |id: u64, attrs: Value| Rec {
        kind: r.kind,
        id,
        attrs,
    };
    match r.kind {
        Kind::SshKey => {
            let v = api.post("/ssh_keys", s).await?;
            Ok(rec(
                v["ssh_key"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Network => {
            let v = api.post("/networks", s).await?;
            Ok(rec(
                v["network"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Subnet => {
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            let body =
                json!({"type": s["type"], "ip_range": s["ip_range"], "network_zone": s["network_zone"]});
            api.post(&format!("/networks/{nid}/actions/add_subnet"), &body)
                .await?;
            Ok(rec(nid, json!({"ip_range": s["ip_range"]})))
        }
        Kind::Firewall => {
            let v = api.post("/firewalls", s).await?;
            Ok(rec(
                v["firewall"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Server => {
            let key = match s["existing_ssh_key_id"].as_u64() {
                Some(id) => id,
                None => id_of(st, s["ssh_key"].as_str().unwrap_or_default())?,
            };
            let fw = id_of(st, s["firewall"].as_str().unwrap_or_default())?;
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            let body = json!({
                "name": s["name"], "server_type": s["server_type"], "image": s["image"],
                "location": s["location"], "ssh_keys": [key], "firewalls": [{"firewall": fw}],
                "user_data": s["user_data"], "labels": s["labels"], "start_after_create": true,
                "public_net": {"enable_ipv4": true, "enable_ipv6": true},
            });
            let v = api.post("/servers", &body).await?;
            let id = v["server"]["id"].as_u64().unwrap_or(0);
            let ipv4 = v["server"]["public_net"]["ipv4"]["ip"].clone();
            let attach = json!({"network": nid, "ip": s["ip"], "alias_ips": []});
            api.post(&format!("/servers/{id}/actions/attach_to_network"), &attach)
                .await?;
            Ok(rec(
                id,
                json!({"name": s["name"], "ipv4_address": ipv4, "private_ip": s["ip"]}),
            ))
        }
        Kind::LoadBalancer => {
            let body = json!({
                "name": s["name"], "load_balancer_type": s["load_balancer_type"], "location": s["location"],
                "labels": s["labels"], "algorithm": {"type": "round_robin"},
            });
            let v = api.post("/load_balancers", &body).await?;
            let ipv4 = v["load_balancer"]["public_net"]["ipv4"]["ip"].clone();
            Ok(rec(
                v["load_balancer"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"], "ipv4": ipv4}),
            ))
        }
        Kind::LbNetwork => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            api.post(
                &format!("/load_balancers/{lb}/actions/attach_to_network"),
                &json!({"network": nid, "ip": s["ip"]}),
            )
            .await?;
            Ok(rec(lb, json!({"network": nid})))
        }
        Kind::LbTarget => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let server = id_of(st, s["server"].as_str().unwrap_or_default())?;
            let body = json!({"type": "server", "server": {"id": server}, "use_private_ip": true});
            api.post(&format!("/load_balancers/{lb}/actions/add_target"), &body)
                .await?;
            Ok(rec(lb, json!({"server": server})))
        }
        Kind::LbService => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let port = &s["port"];
            let body = json!({
                "protocol": "tcp", "listen_port": port, "destination_port": port, "proxyprotocol": false,
                "health_check": {"protocol": "tcp", "port": port, "interval": 15, "timeout": 10, "retries": 3},
            });
            api.post(&format!("/load_balancers/{lb}/actions/add_service"), &body)
                .await?;
            Ok(rec(lb, json!({"listen_port": port})))
        }
    }
}

pub(crate) async fn delete(api: &Api, rec: &Rec) -> Result<(), ApiError> {
    use reqwest::Method;
    let a = &rec.attrs;
    let id = rec.id;
    let r = match rec.kind {
        k if k.collection().is_some() => {
            api.call(
                Method::DELETE,
                &format!("/{}/{id}", k.collection().unwrap_or_default()),
                None,
            )
            .await
        }
        Kind::Subnet => {
            api.call(
                Method::POST,
                &format!("/networks/{id}/actions/delete_subnet"),
                Some(&json!({"ip_range": a["ip_range"]})),
            )
            .await
        }
        Kind::LbNetwork => {
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/detach_from_network"),
                Some(&json!({"network": a["network"]})),
            )
            .await
        }
        Kind::LbTarget => {
            let body = json!({"type": "server", "server": {"id": a["server"]}});
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/remove_target"),
                Some(&body),
            )
            .await
        }
        _ => {
            let body = json!({"listen_port": a["listen_port"]});
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/delete_service"),
                Some(&body),
            )
            .await
        }
    };
    api.gone(r).await
}

/// Drops what the API no longer has (refresh), and sub-resources of it.
pub(crate) async fn refresh(ui: &Ui, api: &Api, st: &mut State) -> Result<(), Diag> {
    let mut gone_ids: BTreeSet<(Kind, u64)> = BTreeSet::new();
    let addrs: Vec<String> = st.resources.keys().cloned().collect();
    for addr in &addrs {
        let rec = st.resources[addr].clone();
        let Some(coll) = rec.kind.collection() else {
            continue;
        };
        ui.hook(
            "refresh_start",
            "Refreshing state...",
            addr,
            "read",
            json!({"id_key": "id", "id_value": rec.id.to_string()}),
        );
        match api
            .call(reqwest::Method::GET, &format!("/{coll}/{}", rec.id), None)
            .await
        {
            Ok(_) => ui.hook(
                "refresh_complete",
                "Refresh complete",
                addr,
                "read",
                json!({"id_key": "id", "id_value": rec.id.to_string()}),
            ),
            Err(e) if e.code == "not_found" => {
                st.resources.remove(addr);
                gone_ids.insert((rec.kind, rec.id));
            }
            Err(e) => {
                return Err(Diag {
                    summary: e.summary(),
                    detail: String::new(),
                    address: Some(addr.clone()),
                });
            }
        }
    }
    st.resources.retain(|_, r| {
        let parent = match r.kind {
            Kind::Subnet => Some(Kind::Network),
            Kind::LbNetwork | Kind::LbTarget | Kind::LbService => Some(Kind::LoadBalancer),
            _ => None,
        };
        !parent.is_some_and(|p| gone_ids.contains(&(p, r.id)))
    });
    Ok(())
}
