//! The module's resources (mirroring `main.tf` by hand) and the set the inputs ask for.
use crate::*;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Kind {
    SshKey,
    Network,
    Subnet,
    Firewall,
    Server,
    LoadBalancer,
    LbNetwork,
    LbTarget,
    LbService,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_key",
            Kind::Network => "network",
            Kind::Subnet => "subnet",
            Kind::Firewall => "firewall",
            Kind::Server => "server",
            Kind::LoadBalancer => "load_balancer",
            Kind::LbNetwork => "lb_network",
            Kind::LbTarget => "lb_target",
            Kind::LbService => "lb_service",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        [
            Kind::SshKey,
            Kind::Network,
            Kind::Subnet,
            Kind::Firewall,
            Kind::Server,
            Kind::LoadBalancer,
            Kind::LbNetwork,
            Kind::LbTarget,
            Kind::LbService,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }

    /// Top-level API collection, for kinds that have their own id.
    pub(crate) fn collection(self) -> Option<&'static str> {
        match self {
            Kind::SshKey => Some("ssh_keys"),
            Kind::Network => Some("networks"),
            Kind::Firewall => Some("firewalls"),
            Kind::Server => Some("servers"),
            Kind::LoadBalancer => Some("load_balancers"),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Res {
    pub(crate) addr: String,
    pub(crate) kind: Kind,
    /// Kind-specific inputs (name, body parts, references by address).
    pub(crate) spec: Value,
}

pub(crate) fn zone(loc: &str) -> &'static str {
    match loc {
        "ash" => "us-east",
        "hil" => "us-west",
        "sin" => "ap-southeast",
        _ => "eu-central",
    }
}

/// The module's resources for these inputs, in creation order.
pub(crate) fn desired(c: &Config) -> Result<Vec<Res>, Diag> {
    let prefix = format!("catalyst-{}", c.fqdn.replace('.', "-"));
    let labels = |extra: Value| {
        let mut l = json!({
            "catalyst.openova.io/sovereign": c.fqdn,
            "catalyst.openova.io/deployment-id": c.deployment_id,
        });
        if let (Some(m), Value::Object(e)) = (l.as_object_mut(), extra) {
            m.extend(e);
        }
        l
    };
    let mut out = vec![];
    let key_addr = if c.existing_key.is_none() {
        out.push(Res {
            addr: "hcloud_ssh_key.admin[0]".into(),
            kind: Kind::SshKey,
            spec: json!({"name": format!("{prefix}-admin"), "public_key": c.admin_key, "labels": labels(json!({}))}),
        });
        Some("hcloud_ssh_key.admin[0]".to_owned())
    } else {
        None
    };
    let anywhere = json!(["0.0.0.0/0", "::/0"]);
    let ssh_sources = if c.cidrs.is_empty() {
        anywhere.clone()
    } else {
        json!(c.cidrs)
    };
    let cps: u64 = if c.ha { 3 } else { 1 };
    for r in &c.regions {
        let loc = r.location.as_str();
        let rl = labels(json!({"catalyst.openova.io/region": loc}));
        let net = format!("hcloud_network.region[\"{loc}\"]");
        let fw = format!("hcloud_firewall.region[\"{loc}\"]");
        let lb = format!("hcloud_load_balancer.region[\"{loc}\"]");
        out.push(Res {
            addr: net.clone(),
            kind: Kind::Network,
            spec: json!({"name": format!("{prefix}-{loc}-net"), "ip_range": "10.0.0.0/16", "labels": rl}),
        });
        out.push(Res {
            addr: format!("hcloud_network_subnet.region[\"{loc}\"]"),
            kind: Kind::Subnet,
            spec: json!({"network": net, "type": "cloud", "ip_range": SUBNET, "network_zone": zone(loc)}),
        });
        let rule = |d: &str, proto: &str, port: Option<&str>, src: &Value| {
            let mut r = json!({"direction": "in", "protocol": proto, "source_ips": src, "description": d});
            if let Some(p) = port {
                r["port"] = json!(p);
            }
            r
        };
        out.push(Res {
            addr: fw.clone(),
            kind: Kind::Firewall,
            spec: json!({
                "name": format!("{prefix}-{loc}-fw"),
                "labels": rl,
                "rules": [
                    rule("HTTP", "tcp", Some("80"), &anywhere),
                    rule("HTTPS", "tcp", Some("443"), &anywhere),
                    rule("Kubernetes API", "tcp", Some("6443"), &anywhere),
                    rule("ICMP", "icmp", None, &anywhere),
                    rule("SSH", "tcp", Some("22"), &ssh_sources),
                ],
            }),
        });
        let mut servers = vec![];
        for i in 1..=cps {
            let key = format!("{loc}-cp{i}");
            let user_data = c.cp_user_data.get(loc).ok_or_else(|| Diag {
                summary: "Invalid index".into(),
                detail: format!("The given key does not identify an element in this collection value: \"{loc}\" (var.cloud_init_control_plane)."),
                address: Some(format!("hcloud_server.control_plane[\"{key}\"]")),
            })?;
            servers.push((
                format!("hcloud_server.control_plane[\"{key}\"]"),
                key,
                &r.cp_type,
                "control-plane",
                1 + i,
                user_data,
            ));
        }
        for i in 1..=r.workers {
            let key = format!("{loc}-w{i}");
            let user_data = c.worker_user_data.get(loc).ok_or_else(|| Diag {
                summary: "Invalid index".into(),
                detail: format!("The given key does not identify an element in this collection value: \"{loc}\" (var.cloud_init_worker)."),
                address: Some(format!("hcloud_server.worker[\"{key}\"]")),
            })?;
            servers.push((
                format!("hcloud_server.worker[\"{key}\"]"),
                key,
                &r.worker_type,
                "worker",
                9 + i,
                user_data,
            ));
        }
        for (addr, key, stype, role, host, user_data) in &servers {
            out.push(Res {
                addr: addr.clone(),
                kind: Kind::Server,
                spec: json!({
                    "name": format!("{prefix}-{key}"),
                    "server_type": stype,
                    "image": c.image,
                    "location": loc,
                    "user_data": user_data,
                    "labels": labels(json!({"catalyst.openova.io/region": loc, "catalyst.openova.io/role": role})),
                    "ssh_key": key_addr,
                    "existing_ssh_key_id": c.existing_key,
                    "firewall": fw,
                    "network": net,
                    "ip": format!("10.0.1.{host}"),
                }),
            });
        }
        out.push(Res {
            addr: lb.clone(),
            kind: Kind::LoadBalancer,
            spec: json!({"name": format!("{prefix}-{loc}-lb"), "load_balancer_type": c.lb_type, "location": loc, "labels": rl}),
        });
        out.push(Res {
            addr: format!("hcloud_load_balancer_network.region[\"{loc}\"]"),
            kind: Kind::LbNetwork,
            spec: json!({"load_balancer": lb, "network": net, "ip": "10.0.1.254"}),
        });
        for (addr, key, ..) in &servers {
            out.push(Res {
                addr: format!("hcloud_load_balancer_target.node[\"{key}\"]"),
                kind: Kind::LbTarget,
                spec: json!({"load_balancer": lb, "server": addr}),
            });
        }
        for port in [80, 443] {
            out.push(Res {
                addr: format!("hcloud_load_balancer_service.region[\"{loc}-{port}\"]"),
                kind: Kind::LbService,
                spec: json!({"load_balancer": lb, "port": port}),
            });
        }
    }
    Ok(out)
}
