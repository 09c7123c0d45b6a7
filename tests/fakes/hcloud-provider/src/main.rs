//! Stand-in for `terraform-provider-hcloud` (hetznercloud/hcloud), the
//! Terraform/OpenTofu provider the app's OpenTofu module uses, for tests
//! only. It speaks the real plugin protocol (tfplugin6 over go-plugin with
//! mTLS, through the `tf-provider` crate), so a real engine (OpenTofu, or
//! Terraform in tests) loads it from a filesystem mirror exactly like the
//! real provider, and talks to `HCLOUD_ENDPOINT` (the tests' fake Hetzner
//! API) with `HCLOUD_TOKEN`.
//!
//! It implements the resource types the module uses, generically per type
//! as the engine asks (plan, create, read, update, delete): the schemas
//! follow the real provider's (required / optional / computed, force-new
//! attributes planned as replacements, the same ids), every create, update
//! and delete is a real API call, mutating calls wait on their actions
//! (`GET /actions/{id}`), a 404 on read drops the object from state, and
//! API errors become diagnostics with the API's message and code.
//!
//! Differences from the real provider worth knowing: the real one is built
//! on the SDKv2 "legacy type system", which lets it plan values the engine
//! would otherwise refuse; this one is strict, so attributes with an SDK
//! `Default` are optional+computed here, and `user_data` is kept as given
//! (the real one stores a hash).

mod api;
mod value;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueEmpty;
use tf_provider::{map, serve, AttributePath, Diagnostics, DynamicResource, Provider, Resource};

use api::{ApiError, Client, R};
use value::{a, labels, list, set, with_default, Blk, Dyn, Ty, A, C, N, V};

const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

type Shared = Arc<RwLock<Option<Client>>>;

// ---------------------------------------------------------------- kinds

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    SshKey,
    Network,
    NetworkSubnet,
    Firewall,
    Server,
    LoadBalancer,
    LoadBalancerNetwork,
    LoadBalancerTarget,
    LoadBalancerService,
}

const KINDS: [(&str, Kind); 9] = [
    ("ssh_key", Kind::SshKey),
    ("network", Kind::Network),
    ("network_subnet", Kind::NetworkSubnet),
    ("firewall", Kind::Firewall),
    ("server", Kind::Server),
    ("load_balancer", Kind::LoadBalancer),
    ("load_balancer_network", Kind::LoadBalancerNetwork),
    ("load_balancer_target", Kind::LoadBalancerTarget),
    ("load_balancer_service", Kind::LoadBalancerService),
];

fn id_attr() -> A {
    a("id", Ty::Str, C::Comp)
}

fn schema_of(k: Kind) -> Blk {
    use Ty::*;
    use C::*;
    match k {
        Kind::SshKey => Blk::new(vec![
            id_attr(),
            a("name", Str, Req),
            a("public_key", Str, Req).fnew(),
            a("fingerprint", Str, Comp),
            labels(),
        ]),
        Kind::Network => Blk::new(vec![
            id_attr(),
            a("name", Str, Req),
            a("ip_range", Str, Req).fnew(),
            labels(),
            with_default("delete_protection", Bool, V::Bool(false)),
            with_default("expose_routes_to_vswitch", Bool, V::Bool(false)),
        ]),
        Kind::NetworkSubnet => Blk::new(vec![
            id_attr(),
            a("network_id", Num, Req).fnew(),
            a("type", Str, Req).fnew(),
            a("network_zone", Str, Req).fnew(),
            a("ip_range", Str, Req).fnew(),
            a("gateway", Str, Comp),
            a("vswitch_id", Num, Opt).fnew(),
        ]),
        Kind::Firewall => Blk::new(vec![id_attr(), a("name", Str, Req), labels()])
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
            ),
        Kind::Server => Blk::new(vec![
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
        ),
        Kind::LoadBalancer => Blk::new(vec![
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
        ),
        Kind::LoadBalancerNetwork => Blk::new(vec![
            id_attr(),
            a("load_balancer_id", Num, Req).fnew(),
            a("network_id", Num, OptComp).fnew(),
            a("subnet_id", Str, Opt).fnew(),
            a("ip", Str, OptComp).fnew(),
            with_default("enable_public_interface", Bool, V::Bool(true)),
        ]),
        Kind::LoadBalancerTarget => Blk::new(vec![
            id_attr(),
            a("type", Str, Req),
            a("load_balancer_id", Num, Req).fnew(),
            a("server_id", Num, Opt).fnew(),
            a("label_selector", Str, Opt).fnew(),
            a("ip", Str, Opt).fnew(),
            a("use_private_ip", Bool, OptComp),
        ]),
        Kind::LoadBalancerService => Blk::new(vec![
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
        ),
    }
}

// ---------------------------------------------------------------- helpers

fn id_of(v: &Json) -> V {
    v["id"].as_u64().map(|i| V::s(i.to_string())).unwrap_or(V::Null)
}

fn labels_v(j: &Json) -> V {
    match &j["labels"] {
        Json::Object(_) => V::from_json(&j["labels"]),
        _ => V::Map(BTreeMap::new()),
    }
}

fn labels_json(v: &V) -> Json {
    match v {
        V::Map(_) => v.to_json(),
        _ => json!({}),
    }
}

/// A list of strings from the API as a set attribute: empty is null when
/// the configuration left it null (SDKv2 does not tell them apart).
fn strs_or_null(j: &Json, hint: &V) -> V {
    match j.as_array() {
        Some(a) if !a.is_empty() => V::List(a.iter().map(V::from_json).collect()),
        Some(_) if matches!(hint, V::List(_)) => V::List(vec![]),
        _ => V::Null,
    }
}

fn state_id(v: &V) -> String {
    v.get("id").str().unwrap_or_default().to_owned()
}

fn parse_v4(ip: &str) -> Option<u32> {
    ip.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let Some((base, len)) = cidr.split_once('/') else {
        return false;
    };
    let (Some(base), Ok(len), Some(ip)) = (parse_v4(base), len.parse::<u32>(), parse_v4(ip)) else {
        return false;
    };
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip & mask == base & mask
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A failed create that still made something: the engine keeps it (tainted).
struct Partial {
    state: Option<V>,
    err: ApiError,
}

impl From<ApiError> for Partial {
    fn from(err: ApiError) -> Partial {
        Partial { state: None, err }
    }
}

// ---------------------------------------------------------------- reads

async fn read(k: Kind, c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    match k {
        Kind::SshKey => {
            let Some(r) = c.get_opt(&format!("/ssh_keys/{id}")).await? else {
                return Ok(None);
            };
            let j = &r["ssh_key"];
            let pk = j["public_key"].as_str().unwrap_or_default();
            // The API trims the key; keep the configured spelling when equal.
            let public_key = match st.get("public_key").str() {
                Some(p) if p.trim() == pk => V::s(p),
                _ => V::s(pk),
            };
            Ok(Some(value::map(vec![
                ("id", id_of(j)),
                ("name", V::from_json(&j["name"])),
                ("public_key", public_key),
                ("fingerprint", V::from_json(&j["fingerprint"])),
                ("labels", labels_v(j)),
            ])))
        }
        Kind::Network => {
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
        Kind::NetworkSubnet => {
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
        Kind::Firewall => {
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
        Kind::Server => {
            let Some(r) = c.get_opt(&format!("/servers/{id}")).await? else {
                return Ok(None);
            };
            server_state(c, &r["server"], st).await.map(Some)
        }
        Kind::LoadBalancer => {
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
        Kind::LoadBalancerNetwork => {
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
        Kind::LoadBalancerTarget => {
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
        Kind::LoadBalancerService => {
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
    }
}

fn target_state(lb: i64, t: &Json) -> V {
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

fn service_state(lb: &str, s: &Json, hint: &V) -> V {
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

async fn server_state(c: &Client, j: &Json, hint: &V) -> R<V> {
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

// ---------------------------------------------------------------- creates

fn rule_json(r: &V) -> Json {
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

fn apply_to_json(e: &V) -> Json {
    match e.get("server").num() {
        Some(sid) => json!({"type": "server", "server": {"id": sid}}),
        None => {
            json!({"type": "label_selector", "label_selector": {"selector": e.get("label_selector").to_json()}})
        }
    }
}

fn health_json(hc: &V) -> Json {
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

fn service_json(p: &V) -> Json {
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

async fn create(k: Kind, c: &Client, p: &V) -> Result<V, Partial> {
    match k {
        Kind::SshKey => {
            let r = c
                .post(
                    "/ssh_keys",
                    &json!({"name": p.get("name").to_json(), "public_key": p.get("public_key").to_json(), "labels": labels_json(p.get("labels"))}),
                )
                .await?;
            let st = value::map(vec![
                ("id", id_of(&r["ssh_key"])),
                ("public_key", p.get("public_key").clone()),
            ]);
            Ok(read(k, c, &st).await?.unwrap_or(st))
        }
        Kind::Network => {
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
                        state: read(k, c, &st).await.ok().flatten(),
                        err,
                    });
                }
            }
            Ok(read(k, c, &st).await?.unwrap_or(st))
        }
        Kind::NetworkSubnet => {
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
            read(k, c, &st).await?.ok_or_else(|| {
                Partial::from(ApiError::other(
                    "GET /networks",
                    "subnet not found after add_subnet",
                ))
            })
        }
        Kind::Firewall => {
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
                    state: read(k, c, &st).await.ok().flatten(),
                    err,
                });
            }
            Ok(read(k, c, &st).await?.unwrap_or(st))
        }
        Kind::Server => create_server(c, p).await,
        Kind::LoadBalancer => {
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
                    state: read(k, c, &st).await.ok().flatten(),
                    err,
                });
            }
            Ok(read(k, c, &st).await?.unwrap_or(st))
        }
        Kind::LoadBalancerNetwork => {
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
                        state: read(k, c, &st).await.ok().flatten(),
                        err,
                    });
                }
            }
            read(k, c, &st).await?.ok_or_else(|| {
                Partial::from(ApiError::other(
                    "GET /load_balancers",
                    "network not attached after attach_to_network",
                ))
            })
        }
        Kind::LoadBalancerTarget => {
            let lb = p.get("load_balancer_id").num().unwrap_or_default();
            let ty = p.get("type").str().unwrap_or_default().to_owned();
            let mut body = json!({"type": ty});
            match ty.as_str() {
                "server" => body["server"] = json!({"id": p.get("server_id").to_json()}),
                "label_selector" => {
                    body["label_selector"] = json!({"selector": p.get("label_selector").to_json()})
                }
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
            read(k, c, &st).await?.ok_or_else(|| {
                Partial::from(ApiError::other(
                    "GET /load_balancers",
                    "target not found after add_target",
                ))
            })
        }
        Kind::LoadBalancerService => {
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
            read(k, c, &st).await?.ok_or_else(|| {
                Partial::from(ApiError::other(
                    "GET /load_balancers",
                    "service not found after add_service",
                ))
            })
        }
    }
}

async fn create_server(c: &Client, p: &V) -> Result<V, Partial> {
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

// ---------------------------------------------------------------- updates

fn changed(prior: &V, planned: &V, key: &str) -> bool {
    prior.get(key) != planned.get(key)
}

async fn update(k: Kind, c: &Client, prior: &V, p: &V) -> R<V> {
    let id = state_id(prior);
    let coll = match k {
        Kind::SshKey => "ssh_keys",
        Kind::Network => "networks",
        Kind::Firewall => "firewalls",
        Kind::Server => "servers",
        Kind::LoadBalancer => "load_balancers",
        _ => "",
    };
    if !coll.is_empty() && (changed(prior, p, "name") || changed(prior, p, "labels")) {
        c.put(
            &format!("/{coll}/{id}"),
            &json!({"name": p.get("name").to_json(), "labels": labels_json(p.get("labels"))}),
        )
        .await?;
    }
    match k {
        Kind::Network => {
            if changed(prior, p, "delete_protection") {
                c.action(
                    coll,
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
        }
        Kind::Firewall => {
            if !value::typed_eq(&set(Ty::Str), prior.get("rule"), p.get("rule")) {
                let rules: Vec<Json> = p.get("rule").list().iter().map(rule_json).collect();
                c.action(coll, &id, "set_rules", json!({"rules": rules})).await?;
            }
            let old: Vec<Json> = prior.get("apply_to").list().iter().map(apply_to_json).collect();
            let new: Vec<Json> = p.get("apply_to").list().iter().map(apply_to_json).collect();
            let add: Vec<Json> = new.iter().filter(|e| !old.contains(e)).cloned().collect();
            let remove: Vec<Json> = old.iter().filter(|e| !new.contains(e)).cloned().collect();
            if !remove.is_empty() {
                c.action(coll, &id, "remove_from_resources", json!({"remove_from": remove}))
                    .await?;
            }
            if !add.is_empty() {
                c.action(coll, &id, "apply_to_resources", json!({"apply_to": add}))
                    .await?;
            }
        }
        Kind::Server => {
            if changed(prior, p, "server_type") {
                c.action(coll, &id, "poweroff", json!({})).await?;
                c.action(
                    coll,
                    &id,
                    "change_type",
                    json!({"server_type": p.get("server_type").to_json(), "upgrade_disk": p.get("keep_disk").bool() != Some(true)}),
                )
                .await?;
                c.action(coll, &id, "poweron", json!({})).await?;
            }
            if changed(prior, p, "delete_protection") || changed(prior, p, "rebuild_protection") {
                c.action(
                    coll,
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
                let target =
                    json!([{"type": "server", "server": {"id": id.parse::<u64>().unwrap_or_default()}}]);
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
                    key(n) == (*nid, ip.clone())
                        || (n.get("ip").is_unknown() && n.get("network_id").num() == *nid)
                }) {
                    c.action(coll, &id, "detach_from_network", json!({"network": nid}))
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
                    c.action(coll, &id, "attach_to_network", b).await?;
                }
            }
        }
        Kind::LoadBalancer => {
            if changed(prior, p, "load_balancer_type") {
                c.action(
                    coll,
                    &id,
                    "change_type",
                    json!({"load_balancer_type": p.get("load_balancer_type").to_json()}),
                )
                .await?;
            }
            if changed(prior, p, "algorithm") {
                if let Some(al) = p.get("algorithm").list().first() {
                    c.action(
                        coll,
                        &id,
                        "change_algorithm",
                        json!({"type": al.get("type").to_json()}),
                    )
                    .await?;
                }
            }
            if changed(prior, p, "delete_protection") {
                c.action(
                    coll,
                    &id,
                    "change_protection",
                    json!({"delete": p.get("delete_protection").bool().unwrap_or(false)}),
                )
                .await?;
            }
        }
        Kind::LoadBalancerNetwork => {
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
        }
        Kind::LoadBalancerTarget => {
            if changed(prior, p, "use_private_ip") || changed(prior, p, "type") {
                delete(k, c, prior).await?;
                return create(k, c, p).await.map_err(|e| e.err);
            }
        }
        Kind::LoadBalancerService => {
            let lb = prior.get("load_balancer_id").str().unwrap_or_default().to_owned();
            c.action("load_balancers", &lb, "update_service", service_json(p))
                .await?;
        }
        Kind::SshKey | Kind::NetworkSubnet => {}
    }
    Ok(read(k, c, p).await?.unwrap_or_else(|| p.clone()))
}

// ---------------------------------------------------------------- deletes

fn gone_ok(r: R<()>) -> R<()> {
    match r {
        Err(e) if e.not_found() => Ok(()),
        other => other,
    }
}

async fn delete(k: Kind, c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    match k {
        Kind::SshKey => gone_ok(c.delete(&format!("/ssh_keys/{id}")).await.map(|_| ())),
        Kind::Network => gone_ok(c.delete(&format!("/networks/{id}")).await.map(|_| ())),
        Kind::NetworkSubnet => {
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
        Kind::Firewall => {
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
        Kind::Server => {
            if st.get("shutdown_before_deletion").bool() == Some(true) {
                gone_ok(c.action("servers", &id, "shutdown", json!({})).await.map(|_| ()))?;
            }
            match c.delete(&format!("/servers/{id}")).await {
                Ok(r) => c.wait_all(&r).await,
                Err(e) if e.not_found() => Ok(()),
                Err(e) => Err(e),
            }
        }
        Kind::LoadBalancer => gone_ok(c.delete(&format!("/load_balancers/{id}")).await.map(|_| ())),
        Kind::LoadBalancerNetwork => {
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
        Kind::LoadBalancerTarget => {
            let lb = st.get("load_balancer_id").num().unwrap_or_default();
            let ty = st.get("type").str().unwrap_or_default().to_owned();
            let mut body = json!({"type": ty});
            match ty.as_str() {
                "server" => body["server"] = json!({"id": st.get("server_id").to_json()}),
                "label_selector" => {
                    body["label_selector"] = json!({"selector": st.get("label_selector").to_json()})
                }
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
        Kind::LoadBalancerService => {
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
    }
}

// ---------------------------------------------------------------- plumbing

fn api_diag(diags: &mut Diagnostics, e: &ApiError) {
    diags.root_error(e.summary(), e.detail());
}

struct Res {
    kind: Kind,
    schema: Blk,
    client: Shared,
}

impl Res {
    fn client(&self, diags: &mut Diagnostics) -> Option<Client> {
        let c = self.client.read().ok().and_then(|g| g.clone());
        if c.is_none() {
            diags.root_error_short("the hcloud provider is not configured");
        }
        c
    }
}

type St<'a> = Dyn;

#[async_trait]
impl Resource for Res {
    type State<'a> = Dyn;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = Dyn;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: self.schema.to_tf(),
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: St<'a>,
        private_state: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match read(self.kind, &c, &state.0).await {
            Ok(Some(v)) => Some((Dyn(self.schema.conform(&v)), private_state)),
            Ok(None) => None,
            Err(e) => {
                api_diag(diags, &e);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: St<'a>,
        _config: St<'a>,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let mut planned = value::plan_create(&self.schema, &proposed.0);
        if self.kind == Kind::LoadBalancerService && planned.get("destination_port").is_unknown() {
            // The API defaults the destination to the listen port for tcp.
            if planned.get("protocol").str() == Some("tcp") {
                let lp = planned.get("listen_port").clone();
                planned.set("destination_port", lp);
            }
        }
        Some((Dyn(planned), ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: St<'a>,
        proposed: St<'a>,
        config: St<'a>,
        prior_private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty, Vec<AttributePath>)> {
        let (planned, replace) = value::plan_update(&self.schema, &prior.0, &proposed.0, &config.0);
        let paths = replace.into_iter().map(AttributePath::new).collect();
        Some((Dyn(planned), prior_private, paths))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: St<'a>,
        prior_private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<ValueEmpty> {
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: St<'a>,
        _config: St<'a>,
        private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match create(self.kind, &c, &planned.0).await {
            Ok(actual) => Some((
                Dyn(value::fill_unknowns(&self.schema, &planned.0, &actual)),
                private,
            )),
            Err(Partial { state, err }) => {
                api_diag(diags, &err);
                state.map(|s| (Dyn(value::fill_unknowns(&self.schema, &planned.0, &s)), private))
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: St<'a>,
        planned: St<'a>,
        _config: St<'a>,
        private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match update(self.kind, &c, &prior.0, &planned.0).await {
            Ok(actual) => Some((
                Dyn(value::fill_unknowns(&self.schema, &planned.0, &actual)),
                private,
            )),
            Err(e) => {
                api_diag(diags, &e);
                // Keep what exists now; the engine records the error.
                match read(self.kind, &c, &prior.0).await {
                    Ok(Some(v)) => Some((Dyn(self.schema.conform(&v)), private)),
                    _ => Some((prior, private)),
                }
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: St<'a>,
        _private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<()> {
        let c = self.client(diags)?;
        match delete(self.kind, &c, &prior.0).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_diag(diags, &e);
                Some(())
            }
        }
    }
}

struct Hcloud {
    client: Shared,
}

#[async_trait]
impl Provider for Hcloud {
    type Config<'a> = Dyn;
    type MetaState<'a> = Dyn;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let b = Blk::new(vec![
            a("token", Ty::Str, C::Opt).sens(),
            a("endpoint", Ty::Str, C::Opt),
            a("poll_interval", Ty::Str, C::Opt),
            a("poll_function", Ty::Str, C::Opt),
        ]);
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("The Hetzner Cloud provider (test stand-in)."),
                ..b.to_tf()
            },
        })
    }

    async fn configure<'a>(&self, diags: &mut Diagnostics, _tf_version: String, config: Dyn) -> Option<()> {
        let cfg = &config.0;
        let token = cfg
            .get("token")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_TOKEN").ok())
            .unwrap_or_default();
        let endpoint = cfg
            .get("endpoint")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_ENDPOINT").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let poll = cfg
            .get("poll_interval")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_POLL_INTERVAL").ok())
            .and_then(|s| parse_duration(&s))
            .unwrap_or(Duration::from_millis(100));
        if token.is_empty() {
            diags.root_error(
                "no token configured",
                "Set HCLOUD_TOKEN in the environment or `token` in the provider block.",
            );
            return None;
        }
        if let Ok(mut g) = self.client.write() {
            *g = Some(Client::new(endpoint, token, poll));
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<std::collections::HashMap<String, Box<dyn DynamicResource>>> {
        let mut m: std::collections::HashMap<String, Box<dyn DynamicResource>> = map! {};
        for (name, kind) in KINDS {
            m.insert(
                name.to_owned(),
                Box::new(Res {
                    kind,
                    schema: schema_of(kind),
                    client: self.client.clone(),
                }),
            );
        }
        Some(m)
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(sec) = s.strip_suffix('s') {
        return sec.parse::<f64>().ok().map(Duration::from_secs_f64);
    }
    None
}

fn main() -> anyhow::Result<()> {
    // Diagnostics carry a Rust backtrace when RUST_BACKTRACE is set; the
    // real provider's never do.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(serve(
        "hcloud",
        Hcloud {
            client: Arc::new(RwLock::new(None)),
        },
    ))
}
