//! The resource types the module uses: which there are, dispatch to each
//! one's module, and the conversions they share.
use crate::*;

mod firewall;
mod lb_network;
mod lb_service;
mod lb_target;
mod load_balancer;
mod network;
mod server;
mod ssh_key;
mod subnet;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
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

pub(crate) const KINDS: [(&str, Kind); 9] = [
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

pub(crate) fn id_attr() -> A {
    a("id", Ty::Str, C::Comp)
}

/// The kind's schema, as the real provider's (see each resource's module).
pub(crate) fn schema_of(k: Kind) -> Blk {
    match k {
        Kind::SshKey => ssh_key::schema(),
        Kind::Network => network::schema(),
        Kind::NetworkSubnet => subnet::schema(),
        Kind::Firewall => firewall::schema(),
        Kind::Server => server::schema(),
        Kind::LoadBalancer => load_balancer::schema(),
        Kind::LoadBalancerNetwork => lb_network::schema(),
        Kind::LoadBalancerTarget => lb_target::schema(),
        Kind::LoadBalancerService => lb_service::schema(),
    }
}

/// The object as the API has it now; `None` when it is gone (a 404).
pub(crate) async fn read(k: Kind, c: &Client, st: &V) -> R<Option<V>> {
    match k {
        Kind::SshKey => ssh_key::read(c, st).await,
        Kind::Network => network::read(c, st).await,
        Kind::NetworkSubnet => subnet::read(c, st).await,
        Kind::Firewall => firewall::read(c, st).await,
        Kind::Server => server::read(c, st).await,
        Kind::LoadBalancer => load_balancer::read(c, st).await,
        Kind::LoadBalancerNetwork => lb_network::read(c, st).await,
        Kind::LoadBalancerTarget => lb_target::read(c, st).await,
        Kind::LoadBalancerService => lb_service::read(c, st).await,
    }
}

pub(crate) async fn create(k: Kind, c: &Client, p: &V) -> Result<V, Partial> {
    match k {
        Kind::SshKey => ssh_key::create(c, p).await,
        Kind::Network => network::create(c, p).await,
        Kind::NetworkSubnet => subnet::create(c, p).await,
        Kind::Firewall => firewall::create(c, p).await,
        Kind::Server => server::create(c, p).await,
        Kind::LoadBalancer => load_balancer::create(c, p).await,
        Kind::LoadBalancerNetwork => lb_network::create(c, p).await,
        Kind::LoadBalancerTarget => lb_target::create(c, p).await,
        Kind::LoadBalancerService => lb_service::create(c, p).await,
    }
}

/// Renames and relabels are the same call for every type that has them;
/// the rest is each type's own.
pub(crate) async fn update(k: Kind, c: &Client, prior: &V, p: &V) -> R<V> {
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
        Kind::Network => network::update(c, prior, p).await?,
        Kind::Firewall => firewall::update(c, prior, p).await?,
        Kind::Server => server::update(c, prior, p).await?,
        Kind::LoadBalancer => load_balancer::update(c, prior, p).await?,
        Kind::LoadBalancerNetwork => lb_network::update(c, prior, p).await?,
        Kind::LoadBalancerService => lb_service::update(c, prior, p).await?,
        Kind::LoadBalancerTarget => {
            if let Some(replaced) = lb_target::update(c, prior, p).await? {
                return Ok(replaced);
            }
        }
        Kind::SshKey | Kind::NetworkSubnet => {}
    }
    Ok(read(k, c, p).await?.unwrap_or_else(|| p.clone()))
}

pub(crate) async fn delete(k: Kind, c: &Client, st: &V) -> R<()> {
    match k {
        Kind::SshKey => ssh_key::delete(c, st).await,
        Kind::Network => network::delete(c, st).await,
        Kind::NetworkSubnet => subnet::delete(c, st).await,
        Kind::Firewall => firewall::delete(c, st).await,
        Kind::Server => server::delete(c, st).await,
        Kind::LoadBalancer => load_balancer::delete(c, st).await,
        Kind::LoadBalancerNetwork => lb_network::delete(c, st).await,
        Kind::LoadBalancerTarget => lb_target::delete(c, st).await,
        Kind::LoadBalancerService => lb_service::delete(c, st).await,
    }
}

pub(crate) fn id_of(v: &Json) -> V {
    v["id"].as_u64().map(|i| V::s(i.to_string())).unwrap_or(V::Null)
}

pub(crate) fn labels_v(j: &Json) -> V {
    match &j["labels"] {
        Json::Object(_) => V::from_json(&j["labels"]),
        _ => V::Map(BTreeMap::new()),
    }
}

pub(crate) fn labels_json(v: &V) -> Json {
    match v {
        V::Map(_) => v.to_json(),
        _ => json!({}),
    }
}

pub(crate) fn state_id(v: &V) -> String {
    v.get("id").str().unwrap_or_default().to_owned()
}

/// A failed create that still made something: the engine keeps it (tainted).
pub(crate) struct Partial {
    pub(crate) state: Option<V>,
    pub(crate) err: ApiError,
}

impl From<ApiError> for Partial {
    fn from(err: ApiError) -> Partial {
        Partial { state: None, err }
    }
}

pub(crate) fn changed(prior: &V, planned: &V, key: &str) -> bool {
    prior.get(key) != planned.get(key)
}

pub(crate) fn gone_ok(r: R<()>) -> R<()> {
    match r {
        Err(e) if e.not_found() => Ok(()),
        other => other,
    }
}
