//! Per-field validation, the same for the window, the bridge and the CLI.
//! Messages are written for the operator and shown next to the field named
//! by `field` (a dotted path into `WizardAnswers`, e.g. `regions.1.location`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::model::*;
use crate::catalog::{ServerOffers, Tier, catalog};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldError {
    /// Dotted path into the answers, e.g. `organisation.name` or `regions.1.location`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What validation needs besides the answers.
pub struct Context<'a> {
    pub offers: &'a ServerOffers,
    pub pools: &'a [String],
}

/// Validates one step. An empty list means the step may be left. Review
/// repeats every step, so nothing invalid can be provisioned.
pub fn validate_step(step: Step, a: &WizardAnswers, ctx: &Context) -> Vec<FieldError> {
    let mut e = Vec::new();
    match step {
        Step::Organisation => organisation(a, &mut e),
        Step::Topology => topology(a, &mut e),
        Step::Provider => provider(a, ctx, &mut e),
        Step::Credentials => credentials(a, &mut e),
        Step::Components => components(a, &mut e),
        Step::Domain => domain(a, ctx, &mut e),
        Step::Review => {
            for s in &Step::ALL[..6] {
                e.extend(validate_step(*s, a, ctx));
            }
        }
    }
    e
}

fn organisation(a: &WizardAnswers, e: &mut Vec<FieldError>) {
    let o = &a.organisation;
    let name = o.name.trim();
    let len = name.chars().count();
    let f = "organisation.name";
    if len == 0 {
        e.push(FieldError::new(f, "Enter your organisation's name."));
    } else if len < 2 {
        e.push(FieldError::new(
            f,
            "The organisation name needs at least 2 characters.",
        ));
    } else if len > 100 {
        e.push(FieldError::new(
            f,
            format!("The organisation name can have at most 100 characters (it has {len})."),
        ));
    } else if name.chars().any(char::is_control) {
        e.push(FieldError::new(
            f,
            "The organisation name cannot contain control characters.",
        ));
    }
    let hq = o.headquarters.trim();
    if hq.chars().count() > 100 {
        e.push(FieldError::new(
            "organisation.headquarters",
            "Headquarters can have at most 100 characters.",
        ));
    } else if hq.chars().any(char::is_control) {
        e.push(FieldError::new(
            "organisation.headquarters",
            "Headquarters cannot contain control characters.",
        ));
    }
    if !o.industry.is_empty() && !INDUSTRIES.contains(&o.industry.as_str()) {
        e.push(FieldError::new(
            "organisation.industry",
            "Choose an industry from the list, or leave it empty.",
        ));
    }
    if !o.size.is_empty() && !ORG_SIZES.contains(&o.size.as_str()) {
        e.push(FieldError::new(
            "organisation.size",
            "Choose a size from the list, or leave it empty.",
        ));
    }
    let mut seen = BTreeSet::new();
    for c in &o.compliance {
        if !COMPLIANCE_FRAMEWORKS.contains(&c.as_str()) {
            e.push(FieldError::new(
                "organisation.compliance",
                format!("\"{c}\" is not a framework the wizard knows."),
            ));
        } else if !seen.insert(c) {
            e.push(FieldError::new(
                "organisation.compliance",
                format!("{c} is listed twice."),
            ));
        }
    }
}

fn topology(a: &WizardAnswers, e: &mut Vec<FieldError>) {
    let want = a.topology.region_count();
    if a.regions.len() != want {
        e.push(FieldError::new(
            "regions",
            format!(
                "{} needs {want} region(s); {} are set up.",
                a.topology.label(),
                a.regions.len()
            ),
        ));
    }
}

fn server_type_error(ctx: &Context, t: &str, location: &str, role: &str) -> Option<String> {
    if t.is_empty() {
        return Some(format!("Choose a {role} server type."));
    }
    let Some(st) = ctx.offers.server_type(t) else {
        return Some(format!("\"{t}\" is not a Hetzner server type on offer."));
    };
    if ctx.offers.location(location).is_some() && st.price_in(location).is_none() {
        return Some(format!(
            "{t} cannot be ordered in {location}; choose another type or location."
        ));
    }
    None
}

fn provider(a: &WizardAnswers, ctx: &Context, e: &mut Vec<FieldError>) {
    topology(a, e);
    let names: Vec<&str> = ctx.offers.locations.iter().map(|l| l.name.as_str()).collect();
    for (i, r) in a.regions.iter().enumerate() {
        let n = i + 1;
        let f = |s: &str| format!("regions.{i}.{s}");
        if r.location.is_empty() {
            e.push(FieldError::new(
                f("location"),
                format!("Choose a location for region {n}."),
            ));
        } else if !names.contains(&r.location.as_str()) {
            e.push(FieldError::new(
                f("location"),
                format!(
                    "\"{}\" is not a Hetzner location; choose {}.",
                    r.location,
                    join_or(&names)
                ),
            ));
        } else {
            // Every region of a shared location says so: the one just changed is the one the operator looks at.
            let others: Vec<String> = (0..a.regions.len())
                .filter(|&j| j != i && a.regions[j].location == r.location)
                .map(|j| (j + 1).to_string())
                .collect();
            if !others.is_empty() {
                let refs: Vec<&str> = others.iter().map(String::as_str).collect();
                let (who, verb) = if others.len() == 1 {
                    ("region", "does")
                } else {
                    ("regions", "do")
                };
                e.push(FieldError::new(
                    f("location"),
                    format!(
                        "Region {n} uses {}, as {who} {} {verb}; each region needs its own location.",
                        r.location,
                        join_and(&refs)
                    ),
                ));
            }
        }
        if let Some(m) = server_type_error(ctx, &r.control_plane_type, &r.location, "control-plane") {
            e.push(FieldError::new(f("control_plane_type"), m));
        }
        if r.worker_count > MAX_WORKERS {
            e.push(FieldError::new(
                f("worker_count"),
                format!("At most {MAX_WORKERS} workers per region."),
            ));
        }
        if r.worker_count > 0 {
            if let Some(m) = server_type_error(ctx, &r.worker_type, &r.location, "worker") {
                let m = if r.worker_type.is_empty() {
                    format!("{m} Or set the workers to 0.")
                } else {
                    m
                };
                e.push(FieldError::new(f("worker_type"), m));
            } else {
                let arch = |t: &str| ctx.offers.server_type(t).map(|s| s.architecture.clone());
                if let (Some(cp), Some(w)) = (arch(&r.control_plane_type), arch(&r.worker_type))
                    && cp != w
                {
                    e.push(FieldError::new(
                        f("worker_type"),
                        format!(
                            "Workers ({w}) and the control plane ({cp}) must share one CPU architecture."
                        ),
                    ));
                }
            }
        }
    }
}

fn join_and(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

fn join_or(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

fn credentials(a: &WizardAnswers, e: &mut Vec<FieldError>) {
    let c = &a.credentials;
    if !c.token_validated {
        e.push(FieldError::new(
            "credentials.token",
            "Validate a read-write Hetzner API token first.",
        ));
    }
    let key = c.ssh_public_key.trim();
    if key.is_empty() {
        e.push(FieldError::new(
            "credentials.ssh_public_key",
            "Generate an admin key or paste a public key.",
        ));
    } else if let Err(m) = crate::wizard::sshkey::check_public_key(key) {
        e.push(FieldError::new("credentials.ssh_public_key", m));
    }
    for (i, cidr) in c.ssh_allowed_cidrs.iter().enumerate() {
        if let Err(m) = check_cidr(cidr) {
            e.push(FieldError::new(format!("credentials.ssh_allowed_cidrs.{i}"), m));
        }
    }
    if c.cluster_token == ClusterToken::Separate && !c.cluster_token_validated {
        e.push(FieldError::new(
            "credentials.cluster_token",
            "Validate the cluster's own read-write token, or let the cluster use the provisioning token.",
        ));
    }
}

/// `203.0.113.0/24` or `2001:db8::/32`; the host part must be zero.
pub fn check_cidr(text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Enter an address range like 203.0.113.0/24, or remove the line.".into());
    }
    let Some((addr, bits)) = t.split_once('/') else {
        return match t.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => Err(format!("Add the prefix length: {t}/32 for this one address.")),
            Ok(IpAddr::V6(_)) => Err(format!("Add the prefix length: {t}/128 for this one address.")),
            Err(_) => Err(format!("\"{t}\" is not an address range like 203.0.113.0/24.")),
        };
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("\"{addr}\" is not an IPv4 or IPv6 address."))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits: u32 = bits
        .parse()
        .ok()
        .filter(|b| *b <= max)
        .ok_or_else(|| format!("The prefix length after \"/\" must be a number from 0 to {max}."))?;
    let host_bits_zero = match ip {
        IpAddr::V4(v4) => bits == 32 || u32::from(v4) & (u32::MAX >> bits) == 0,
        IpAddr::V6(v6) => bits == 128 || u128::from(v6) & (u128::MAX >> bits) == 0,
    };
    if !host_bits_zero {
        return Err(format!(
            "{t} has host bits set; write the network address of the range."
        ));
    }
    if bits == 0 {
        return Err(
            "A /0 range opens SSH to everyone; leave the list empty for \"anywhere, key-only\" instead."
                .into(),
        );
    }
    Ok(())
}

fn components(a: &WizardAnswers, e: &mut Vec<FieldError>) {
    let cat = catalog();
    let sel: BTreeSet<&str> = a.components.iter().map(String::as_str).collect();
    for id in &a.components {
        if cat.get(id).is_none() {
            e.push(FieldError::new(
                "components",
                format!("\"{id}\" is not a component of the catalog."),
            ));
        }
    }
    for c in cat.components.iter().filter(|c| c.tier == Tier::Mandatory) {
        if !sel.contains(c.id.as_str()) {
            e.push(FieldError::new(
                "components",
                format!("{} is mandatory and must stay selected.", c.name),
            ));
        }
    }
    for id in &a.components {
        if let Some(c) = cat.get(id) {
            for d in &c.dependencies {
                if !sel.contains(d.as_str()) {
                    let dn = cat.get(d).map(|x| x.name.as_str()).unwrap_or(d);
                    e.push(FieldError::new(
                        "components",
                        format!("{} needs {dn}, which is not selected.", c.name),
                    ));
                }
            }
        }
    }
}

fn domain(a: &WizardAnswers, ctx: &Context, e: &mut Vec<FieldError>) {
    let d = &a.domain;
    match d.mode {
        DomainMode::Pool => {
            if !ctx.pools.contains(&d.pool_domain) {
                e.push(FieldError::new(
                    "domain.pool_domain",
                    "Choose one of the pool domains offered.",
                ));
            }
            match crate::pdm::check_label(&d.subdomain) {
                Err(m) => e.push(FieldError::new("domain.subdomain", m.to_string())),
                Ok(label) if ctx.pools.contains(&d.pool_domain) => {
                    if let Some(m) = availability_error(d, &label) {
                        e.push(FieldError::new("domain.subdomain", m));
                    }
                }
                Ok(_) => {}
            }
        }
        DomainMode::ByoManual | DomainMode::ByoApi => {
            if let Err(m) = crate::wizard::names::check_domain(&d.byo_domain) {
                e.push(FieldError::new("domain.byo_domain", m));
            }
            if d.mode == DomainMode::ByoApi {
                match d.registrar.as_deref() {
                    None | Some("") => e.push(FieldError::new("domain.registrar", "Choose your registrar.")),
                    Some(r) if crate::pdm::RegistrarKind::from_id(r).is_none() => e.push(FieldError::new(
                        "domain.registrar",
                        format!("There is no adapter for \"{r}\"; use manual mode."),
                    )),
                    Some(_) if !d.registrar_validated => e.push(FieldError::new(
                        "domain.registrar_credential",
                        "Validate the registrar credential before going on.",
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    if let Err(m) = crate::wizard::names::check_email(&d.admin_email) {
        e.push(FieldError::new("domain.admin_email", m));
    }
}

/// A pool name passes only once PDM said it is free: a check about another
/// name (the operator typed since) counts as no check.
fn availability_error(d: &Domain, label: &str) -> Option<String> {
    let fqdn = crate::pdm::fqdn(label, &d.pool_domain);
    match &d.availability {
        Some(c) if c.fqdn == fqdn && c.available => None,
        Some(c) if c.fqdn == fqdn => Some(match c.reason {
            Some(r) => r.sentence(&fqdn, &d.pool_domain),
            None => format!("{fqdn} is taken; choose another subdomain."),
        }),
        _ => Some(unchecked_message(&fqdn)),
    }
}

/// The Domain step's reason while PDM has not (yet) answered for `fqdn`.
pub fn unchecked_message(fqdn: &str) -> String {
    format!("Checking whether {fqdn} is available…")
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
