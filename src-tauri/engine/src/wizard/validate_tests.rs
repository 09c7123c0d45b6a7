//! Table-driven validation tests: every case starts from valid answers,
//! changes one thing, and names the field and message it expects (or none).

use super::super::model::*;
use super::{Context, check_cidr, validate_step};
use crate::catalog::snapshot;

/// Answers that pass every step.
fn valid() -> WizardAnswers {
    let mut a = WizardAnswers::defaults();
    a.organisation.name = "Omantel".into();
    a.credentials.token_validated = true;
    a.credentials.ssh_public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0lM4mCJv2NkD4jN2XfQXv6rJbq0ih6N0E3cW1sWq9 catalyst@omantel.omani.works"
            .into();
    a.domain.subdomain = "omantel-prod".into();
    a.domain.admin_email = "platform@omantel.om".into();
    checked(&mut a);
    a
}

/// Records the demo pool's answer for the current name, as the window does
/// after `domain_check` (the demo pool holds demo, acme, omantel, taken).
fn checked(a: &mut WizardAnswers) {
    a.domain.availability = Some(crate::demo::pdm::check(
        &a.domain.pool_domain,
        &a.domain.subdomain,
    ));
}

type Mutate = fn(&mut WizardAnswers);

struct Case {
    step: Step,
    mutate: Mutate,
    want: Option<(&'static str, &'static str)>,
}

fn check(cases: &[Case]) -> usize {
    let pools: Vec<String> = crate::pdm::DEFAULT_POOLS.iter().map(|s| s.to_string()).collect();
    let offers = snapshot();
    let ctx = Context {
        offers,
        pools: &pools,
    };
    for (i, c) in cases.iter().enumerate() {
        let mut a = valid();
        (c.mutate)(&mut a);
        let errs = validate_step(c.step, &a, &ctx);
        match c.want {
            None => assert!(errs.is_empty(), "case {i} ({:?}) should pass: {errs:?}", c.step),
            Some((field, message)) => {
                assert!(
                    errs.iter().any(|e| e.field == field && e.message == message),
                    "case {i} ({:?}): want {field}: {message}\n got {errs:?}",
                    c.step
                );
            }
        }
    }
    cases.len()
}

macro_rules! cases {
    ($( $step:ident, $m:expr, $want:expr; )*) => {
        [ $( Case { step: Step::$step, mutate: $m, want: $want }, )* ]
    };
}

#[test]
fn the_valid_answers_pass_every_step_including_review() {
    let n = check(&cases![
        Organisation, |_| {}, None;
        Topology, |_| {}, None;
        Provider, |_| {}, None;
        Credentials, |_| {}, None;
        Components, |_| {}, None;
        Domain, |_| {}, None;
        Review, |_| {}, None;
    ]);
    assert_eq!(n, 7);
}

const NAME: &str = "organisation.name";

#[test]
fn organisation() {
    check(&cases![
        Organisation, |a| a.organisation.name = "".into(), Some((NAME, "Enter your organisation's name."));
        Organisation, |a| a.organisation.name = "   ".into(), Some((NAME, "Enter your organisation's name."));
        Organisation, |a| a.organisation.name = "\t".into(), Some((NAME, "Enter your organisation's name."));
        Organisation, |a| a.organisation.name = "A".into(), Some((NAME, "The organisation name needs at least 2 characters."));
        Organisation, |a| a.organisation.name = " A ".into(), Some((NAME, "The organisation name needs at least 2 characters."));
        Organisation, |a| a.organisation.name = "Ö".into(), Some((NAME, "The organisation name needs at least 2 characters."));
        Organisation, |a| a.organisation.name = "x".repeat(101), Some((NAME, "The organisation name can have at most 100 characters (it has 101)."));
        Organisation, |a| a.organisation.name = "é".repeat(150), Some((NAME, "The organisation name can have at most 100 characters (it has 150)."));
        Organisation, |a| a.organisation.name = "bad\u{7}name".into(), Some((NAME, "The organisation name cannot contain control characters."));
        Organisation, |a| a.organisation.name = "two\nlines".into(), Some((NAME, "The organisation name cannot contain control characters."));
        Organisation, |a| a.organisation.name = "Om".into(), None;
        Organisation, |a| a.organisation.name = "x".repeat(100), None;
        Organisation, |a| a.organisation.name = "é".repeat(100), None;
        Organisation, |a| a.organisation.name = "Ünïcödé GmbH & Co. KG".into(), None;
        Organisation, |a| a.organisation.name = "عمانتل".into(), None;
        Organisation, |a| a.organisation.name = "  Padded  ".into(), None;
        Organisation, |a| a.organisation.headquarters = "Muscat, Oman".into(), None;
        Organisation, |a| a.organisation.headquarters = "".into(), None;
        Organisation, |a| a.organisation.headquarters = "h".repeat(100), None;
        Organisation, |a| a.organisation.headquarters = "h".repeat(101), Some(("organisation.headquarters", "Headquarters can have at most 100 characters."));
        Organisation, |a| a.organisation.headquarters = "a\u{0}b".into(), Some(("organisation.headquarters", "Headquarters cannot contain control characters."));
        Organisation, |a| a.organisation.industry = "Banking".into(), None;
        Organisation, |a| a.organisation.industry = "Energy & Utilities".into(), None;
        Organisation, |a| a.organisation.industry = "".into(), None;
        Organisation, |a| a.organisation.industry = "Mining".into(), Some(("organisation.industry", "Choose an industry from the list, or leave it empty."));
        Organisation, |a| a.organisation.industry = "banking".into(), Some(("organisation.industry", "Choose an industry from the list, or leave it empty."));
        Organisation, |a| a.organisation.size = "10,000+".into(), None;
        Organisation, |a| a.organisation.size = "Under 100".into(), None;
        Organisation, |a| a.organisation.size = "huge".into(), Some(("organisation.size", "Choose a size from the list, or leave it empty."));
        Organisation, |a| a.organisation.compliance = vec!["GDPR".into(), "DORA".into()], None;
        Organisation, |a| a.organisation.compliance = vec!["PCI DSS".into()], None;
        Organisation, |a| a.organisation.compliance = vec!["SOX".into()], Some(("organisation.compliance", "\"SOX\" is not a framework the wizard knows."));
        Organisation, |a| a.organisation.compliance = vec!["GDPR".into(), "GDPR".into()], Some(("organisation.compliance", "GDPR is listed twice."));
        Organisation, |a| a.organisation.compliance = vec!["gdpr".into()], Some(("organisation.compliance", "\"gdpr\" is not a framework the wizard knows."));
    ]);
}

fn regions(a: &mut WizardAnswers, t: Topology, locs: &[&str]) {
    a.topology = t;
    a.regions = locs
        .iter()
        .map(|l| Region {
            location: l.to_string(),
            ..a.regions[0].clone()
        })
        .collect();
}

#[test]
fn topology_and_provider() {
    check(&cases![
        Topology, |a| regions(a, Topology::Dual, &["fsn1", "hel1"]), None;
        Topology, |a| regions(a, Topology::Triangle, &["fsn1", "nbg1", "hel1"]), None;
        Topology, |a| { regions(a, Topology::Triangle, &["fsn1", "nbg1", "hel1"]); a.ha = true; }, None;
        Topology, |a| a.topology = Topology::Dual, Some(("regions", "DUAL needs 2 region(s); 1 are set up."));
        Topology, |a| a.topology = Topology::Triangle, Some(("regions", "TRIANGLE needs 3 region(s); 1 are set up."));
        Topology, |a| regions(a, Topology::Solo, &["fsn1", "hel1"]), Some(("regions", "SOLO needs 1 region(s); 2 are set up."));
        Topology, |a| a.regions.clear(), Some(("regions", "SOLO needs 1 region(s); 0 are set up."));
        Provider, |a| a.regions.clear(), Some(("regions", "SOLO needs 1 region(s); 0 are set up."));
        Provider, |a| a.regions[0].location = "".into(), Some(("regions.0.location", "Choose a location for region 1."));
        Provider, |a| a.regions[0].location = "fra1".into(), Some(("regions.0.location", "\"fra1\" is not a Hetzner location; choose fsn1, nbg1, hel1, ash, hil or sin."));
        Provider, |a| a.regions[0].location = "FSN1".into(), Some(("regions.0.location", "\"FSN1\" is not a Hetzner location; choose fsn1, nbg1, hel1, ash, hil or sin."));
        Provider, |a| a.regions[0].location = "eu-central".into(), Some(("regions.0.location", "\"eu-central\" is not a Hetzner location; choose fsn1, nbg1, hel1, ash, hil or sin."));
        Provider, |a| a.regions[0].location = "fsn1".into(), None;
        Provider, |a| a.regions[0].location = "nbg1".into(), None;
        Provider, |a| a.regions[0].location = "hel1".into(), None;
        Provider, |a| a.regions[0].location = "ash".into(), None;
        Provider, |a| a.regions[0].location = "hil".into(), None;
        Provider, |a| a.regions[0].location = "sin".into(), None;
        Provider, |a| regions(a, Topology::Dual, &["fsn1", "fsn1"]), Some(("regions.0.location", "Region 1 uses fsn1, as region 2 does; each region needs its own location."));
        Provider, |a| regions(a, Topology::Triangle, &["fsn1", "hel1", "hel1"]), Some(("regions.1.location", "Region 2 uses hel1, as region 3 does; each region needs its own location."));
        Provider, |a| regions(a, Topology::Dual, &["fsn1", "fsn1"]), Some(("regions.1.location", "Region 2 uses fsn1, as region 1 does; each region needs its own location."));
        Provider, |a| regions(a, Topology::Triangle, &["nbg1", "nbg1", "nbg1"]), Some(("regions.0.location", "Region 1 uses nbg1, as regions 2 and 3 do; each region needs its own location."));
        Provider, |a| regions(a, Topology::Triangle, &["ash", "hil", "sin"]), None;
        Provider, |a| a.regions[0].control_plane_type = "".into(), Some(("regions.0.control_plane_type", "Choose a control-plane server type."));
        Provider, |a| a.regions[0].control_plane_type = "cx42".into(), Some(("regions.0.control_plane_type", "\"cx42\" is not a Hetzner server type on offer."));
        Provider, |a| a.regions[0].control_plane_type = "cpx11".into(), Some(("regions.0.control_plane_type", "\"cpx11\" is not a Hetzner server type on offer."));
        Provider, |a| a.regions[0].control_plane_type = "m6i.xlarge".into(), Some(("regions.0.control_plane_type", "\"m6i.xlarge\" is not a Hetzner server type on offer."));
        Provider, |a| a.regions[0].control_plane_type = "CPX42".into(), Some(("regions.0.control_plane_type", "\"CPX42\" is not a Hetzner server type on offer."));
        Provider, |a| { a.regions[0].location = "ash".into(); a.regions[0].control_plane_type = "cx43".into(); }, Some(("regions.0.control_plane_type", "cx43 cannot be ordered in ash; choose another type or location."));
        Provider, |a| { a.regions[0].location = "sin".into(); a.regions[0].control_plane_type = "cax31".into(); }, Some(("regions.0.control_plane_type", "cax31 cannot be ordered in sin; choose another type or location."));
        Provider, |a| { a.regions[0].location = "sin".into(); a.regions[0].control_plane_type = "cpx52".into(); }, Some(("regions.0.control_plane_type", "cpx52 cannot be ordered in sin; choose another type or location."));
        Provider, |a| { a.regions[0].location = "hil".into(); a.regions[0].control_plane_type = "cpx52".into(); }, None;
        Provider, |a| a.regions[0].control_plane_type = "cx43".into(), None;
        Provider, |a| a.regions[0].control_plane_type = "ccx33".into(), None;
        Provider, |a| a.regions[0].control_plane_type = "cax41".into(), None;
        Provider, |a| { a.regions[0].worker_count = 3; a.regions[0].worker_type = "cpx42".into(); }, None;
        Provider, |a| { a.regions[0].worker_count = 50; a.regions[0].worker_type = "cpx22".into(); }, None;
        Provider, |a| { a.regions[0].worker_count = 51; a.regions[0].worker_type = "cpx22".into(); }, Some(("regions.0.worker_count", "At most 50 workers per region."));
        Provider, |a| { a.regions[0].worker_count = 1000; a.regions[0].worker_type = "cpx22".into(); }, Some(("regions.0.worker_count", "At most 50 workers per region."));
        Provider, |a| a.regions[0].worker_count = 2, Some(("regions.0.worker_type", "Choose a worker server type. Or set the workers to 0."));
        Provider, |a| { a.regions[0].worker_count = 2; a.regions[0].worker_type = "huge".into(); }, Some(("regions.0.worker_type", "\"huge\" is not a Hetzner server type on offer."));
        Provider, |a| { a.regions[0].location = "ash".into(); a.regions[0].worker_count = 2; a.regions[0].worker_type = "cx23".into(); }, Some(("regions.0.worker_type", "cx23 cannot be ordered in ash; choose another type or location."));
        Provider, |a| { a.regions[0].worker_count = 0; a.regions[0].worker_type = "anything".into(); }, None;
        Provider, |a| { a.regions[0].worker_count = 2; a.regions[0].worker_type = "cax21".into(); }, Some(("regions.0.worker_type", "Workers (arm) and the control plane (x86) must share one CPU architecture."));
        Provider, |a| { a.regions[0].control_plane_type = "cax31".into(); a.regions[0].worker_count = 1; a.regions[0].worker_type = "cax21".into(); }, None;
        Provider, |a| { a.regions[0].control_plane_type = "cax31".into(); a.regions[0].worker_count = 1; a.regions[0].worker_type = "cpx32".into(); }, Some(("regions.0.worker_type", "Workers (x86) and the control plane (arm) must share one CPU architecture."));
        Provider, |a| { regions(a, Topology::Dual, &["fsn1", "ash"]); a.regions[1].control_plane_type = "cx33".into(); }, Some(("regions.1.control_plane_type", "cx33 cannot be ordered in ash; choose another type or location."));
        Provider, |a| { regions(a, Topology::Dual, &["fsn1", ""]); }, Some(("regions.1.location", "Choose a location for region 2."));
        Review, |a| a.regions[0].location = "".into(), Some(("regions.0.location", "Choose a location for region 1."));
    ]);
}

const KEY: &str = "credentials.ssh_public_key";

#[test]
fn credentials() {
    check(&cases![
        Credentials, |a| a.credentials.token_validated = false, Some(("credentials.token", "Validate a read-write Hetzner API token first."));
        Credentials, |a| a.credentials.cluster_token = ClusterToken::Separate, Some(("credentials.cluster_token", "Validate the cluster's own read-write token, or let the cluster use the provisioning token."));
        Credentials, |a| { a.credentials.cluster_token = ClusterToken::Separate; a.credentials.cluster_token_validated = true; }, None;
        Credentials, |a| a.credentials.ssh_public_key = "".into(), Some((KEY, "Generate an admin key or paste a public key."));
        Credentials, |a| a.credentials.ssh_public_key = "  \n ".into(), Some((KEY, "Generate an admin key or paste a public key."));
        Credentials, |a| a.credentials.ssh_public_key = "ssh-dss AAAAB3NzaC1kc3MAAACBAP".into(), Some((KEY, "DSA (ssh-dss) keys are insecure and refused by current OpenSSH. Create an ed25519 key with `ssh-keygen -t ed25519` and paste that."));
        Credentials, |a| a.credentials.ssh_public_key = "ecdsa-sha2-nistp384 AAAAE2VjZHNh".into(), Some((KEY, "ECDSA keys on curve nistp384 are not accepted; only nistp256 is. Create an ed25519 key with `ssh-keygen -t ed25519` and paste that."));
        Credentials, |a| a.credentials.ssh_public_key = "-----BEGIN OPENSSH PRIVATE KEY-----".into(), Some((KEY, "This is a private key. Never share it: paste the public key instead, the one line in the file ending in .pub."));
        Credentials, |a| a.credentials.ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0lM4mC".into(), Some((KEY, "The key data is cut off. Copy the whole line of the .pub file again, making sure nothing at its end is missing."));
        Credentials, |a| a.credentials.ssh_public_key = "ssh-ed25519".into(), Some((KEY, "The key type is missing its key data. Paste the whole line of the .pub file: type, key data, comment."));
        Credentials, |a| a.credentials.ssh_public_key = format!("{}\n{}", valid().credentials.ssh_public_key, valid().credentials.ssh_public_key), Some((KEY, "2 public keys were pasted. Paste exactly one; add further keys after provisioning."));
        Credentials, |a| a.credentials.ssh_public_key = format!("  {}  ", valid().credentials.ssh_public_key), None;
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["203.0.113.0/24".into()], None;
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["203.0.113.7/32".into(), "2001:db8::/32".into()], None;
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["203.0.113.7".into()], Some(("credentials.ssh_allowed_cidrs.0", "Add the prefix length: 203.0.113.7/32 for this one address."));
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["10.0.0.0/8".into(), "10.0.0.1/8".into()], Some(("credentials.ssh_allowed_cidrs.1", "10.0.0.1/8 has host bits set; write the network address of the range."));
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["0.0.0.0/0".into()], Some(("credentials.ssh_allowed_cidrs.0", "A /0 range opens SSH to everyone; leave the list empty for \"anywhere, key-only\" instead."));
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["300.1.1.0/24".into()], Some(("credentials.ssh_allowed_cidrs.0", "\"300.1.1.0\" is not an IPv4 or IPv6 address."));
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["10.0.0.0/33".into()], Some(("credentials.ssh_allowed_cidrs.0", "The prefix length after \"/\" must be a number from 0 to 32."));
        Credentials, |a| a.credentials.ssh_allowed_cidrs = vec!["".into()], Some(("credentials.ssh_allowed_cidrs.0", "Enter an address range like 203.0.113.0/24, or remove the line."));
        Review, |a| a.credentials.token_validated = false, Some(("credentials.token", "Validate a read-write Hetzner API token first."));
    ]);
}

#[test]
fn cidr_rules() {
    let cases: &[(&str, bool)] = &[
        ("192.0.2.0/24", true),
        ("192.0.2.128/25", true),
        ("192.0.2.129/25", false),
        ("2001:db8::/48", true),
        ("2001:db8::1/128", true),
        ("2001:db8::1/64", false),
        ("2001:db8::/129", false),
        ("::/0", false),
        ("10.0.0.0/abc", false),
        ("10.0.0.0/", false),
        ("/24", false),
        ("not a cidr", false),
        ("fe80::1", false),
        (" 10.1.0.0/16 ", true),
    ];
    for (c, ok) in cases {
        assert_eq!(check_cidr(c).is_ok(), *ok, "{c}: {:?}", check_cidr(c));
    }
}

#[test]
fn components() {
    check(&cases![
        Components, |a| a.components.retain(|c| c != "cilium"), Some(("components", "Cilium is mandatory and must stay selected."));
        Components, |a| a.components.retain(|c| c != "cnpg"), Some(("components", "CloudNativePG is mandatory and must stay selected."));
        Components, |a| a.components.push("specter".into()), Some(("components", "Specter needs BGE embeddings, which is not selected."));
        Components, |a| a.components.push("debezium".into()), None;
        Components, |a| a.components.retain(|c| c != "strimzi"), Some(("components", "Debezium needs Strimzi, which is not selected."));
        Components, |a| a.components.push("nginx".into()), Some(("components", "\"nginx\" is not a component of the catalog."));
        Components, |a| a.components.push("temporal".into()), None;
        Components, |a| a.components.retain(|c| c != "grafana"), None;
        Components, |a| a.components = crate::catalog::catalog().mandatory().into_iter().collect(), None;
        Components, |a| a.components.clear(), Some(("components", "Flux is mandatory and must stay selected."));
    ]);
}

const SUB: &str = "domain.subdomain";
const BYO: &str = "domain.byo_domain";
const EMAIL: &str = "domain.admin_email";

#[test]
fn domain() {
    check(&cases![
        Domain, |a| a.domain.subdomain = "".into(), Some((SUB, "Enter a subdomain, for example \"acme-prod\"."));
        Domain, |a| { a.domain.subdomain = "Omantel-Prod".into(); checked(a); }, None;
        Domain, |a| a.domain.subdomain = "om_antel".into(), Some((SUB, "The subdomain can only contain the letters a-z, digits and hyphens; \"_\" is not allowed."));
        Domain, |a| a.domain.subdomain = "console".into(), Some((SUB, "\"console\" is reserved by the pool (it names a service under every Sovereign); choose another subdomain."));
        Domain, |a| a.domain.subdomain = "api".into(), Some((SUB, "\"api\" is reserved by the pool (it names a service under every Sovereign); choose another subdomain."));
        Domain, |a| a.domain.subdomain = "9lives".into(), Some((SUB, "The subdomain must start with a letter, not a digit."));
        Domain, |a| a.domain.subdomain = "a-".into(), Some((SUB, "The subdomain cannot end with a hyphen."));
        Domain, |a| a.domain.subdomain = "x".repeat(64), Some((SUB, "The subdomain can have at most 63 characters (it has 64)."));
        Domain, |a| a.domain.subdomain = "omantel.prod".into(), Some((SUB, "The subdomain can only contain the letters a-z, digits and hyphens; \".\" is not allowed."));
        Domain, |a| { a.domain.subdomain = "t2".into(); checked(a); }, None;
        Domain, |a| { a.domain.subdomain = "omantel-prod-2".into(); checked(a); }, None;
        Domain, |a| { a.domain.pool_domain = "omantel.biz".into(); checked(a); }, None;
        // Availability: PDM must have said the current name is free.
        Domain, |a| a.domain.availability = None, Some((SUB, "Checking whether omantel-prod.omani.works is available…"));
        Domain, |a| a.domain.subdomain = "omantel-prod-2".into(), Some((SUB, "Checking whether omantel-prod-2.omani.works is available…"));
        Domain, |a| a.domain.pool_domain = "omani.homes".into(), Some((SUB, "Checking whether omantel-prod.omani.homes is available…"));
        Domain, |a| { a.domain.subdomain = "acme".into(); checked(a); }, Some((SUB, "\"acme.omani.works\" is already used by a live Sovereign; choose another subdomain."));
        Domain, |a| { a.domain.subdomain = "taken".into(); checked(a); }, Some((SUB, "\"taken.omani.works\" is already used by a live Sovereign; choose another subdomain."));
        Domain, |a| { a.domain.subdomain = "acme".into(); checked(a); a.domain.subdomain = "acme-2".into(); }, Some((SUB, "Checking whether acme-2.omani.works is available…"));
        Domain, |a| { a.domain.subdomain = "omantel".into(); checked(a); if let Some(c) = a.domain.availability.as_mut() { c.reason = Some(crate::pdm::CheckReason::ReservedState); } }, Some((SUB, "\"omantel.omani.works\" is reserved by another deployment in progress; try again in a few minutes or choose another subdomain."));
        Domain, |a| { a.domain.subdomain = "omantel".into(); checked(a); if let Some(c) = a.domain.availability.as_mut() { c.reason = None; } }, Some((SUB, "omantel.omani.works is taken; choose another subdomain."));
        Domain, |a| { a.domain.subdomain = "omantel".into(); checked(a); a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "acme.com".into(); }, None;
        Review, |a| a.domain.availability = None, Some((SUB, "Checking whether omantel-prod.omani.works is available…"));
        Review, |a| { a.domain.subdomain = "demo".into(); checked(a); }, Some((SUB, "\"demo.omani.works\" is already used by a live Sovereign; choose another subdomain."));
        Domain, |a| a.domain.pool_domain = "evil.com".into(), Some(("domain.pool_domain", "Choose one of the pool domains offered."));
        Domain, |a| a.domain.pool_domain = "".into(), Some(("domain.pool_domain", "Choose one of the pool domains offered."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "acme.com".into(); }, None;
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "apps.acme.com".into(); }, None;
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "1password.com".into(); }, None;
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; }, Some((BYO, "Enter your domain, e.g. acme.com or apps.acme.com."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "acme".into(); }, Some((BYO, "Enter a full domain with at least one dot, e.g. acme.com."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "https://acme.com/".into(); }, Some((BYO, "Enter only the domain name, without https:// or a path."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "Acme.com".into(); }, Some((BYO, "Use lower-case letters in the domain."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "acme..com".into(); }, Some((BYO, "The domain has an empty part (two dots in a row, or a dot at an end)."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "192.168.1.1".into(); }, Some((BYO, "That looks like an IP address; enter a domain name."));
        Domain, |a| { a.domain.mode = DomainMode::ByoManual; a.domain.byo_domain = "ac me.com".into(); }, Some((BYO, "The domain can only use a–z, 0–9 and \"-\"; it contains a space."));
        Domain, |a| { a.domain.mode = DomainMode::ByoApi; a.domain.byo_domain = "acme.com".into(); }, Some(("domain.registrar", "Choose your registrar."));
        Domain, |a| { a.domain.mode = DomainMode::ByoApi; a.domain.byo_domain = "acme.com".into(); a.domain.registrar = Some("gandi".into()); }, Some(("domain.registrar", "There is no adapter for \"gandi\"; use manual mode."));
        Domain, |a| { a.domain.mode = DomainMode::ByoApi; a.domain.byo_domain = "acme.com".into(); a.domain.registrar = Some("ovh".into()); }, Some(("domain.registrar_credential", "Validate the registrar credential before going on."));
        Domain, |a| { a.domain.mode = DomainMode::ByoApi; a.domain.byo_domain = "acme.com".into(); a.domain.registrar = Some("ovh".into()); a.domain.registrar_validated = true; }, None;
        Domain, |a| { a.domain.mode = DomainMode::ByoApi; a.domain.byo_domain = "acme.com".into(); a.domain.registrar = Some("cloudflare".into()); a.domain.registrar_validated = true; }, None;
        Domain, |a| a.domain.admin_email = "".into(), Some((EMAIL, "Enter the admin email; it receives certificate notices and the handover."));
        Domain, |a| a.domain.admin_email = "platform".into(), Some((EMAIL, "\"platform\" is not an email address: it has no \"@\"."));
        Domain, |a| a.domain.admin_email = "platform@omantel".into(), Some((EMAIL, "The part after \"@\" in \"platform@omantel\" is not a domain."));
        Domain, |a| a.domain.admin_email = "a b@omantel.om".into(), Some((EMAIL, "An email address cannot contain spaces."));
        Domain, |a| a.domain.admin_email = "@omantel.om".into(), Some((EMAIL, "\"@omantel.om\" is not an email address."));
        Domain, |a| a.domain.admin_email = " ops@omantel.om ".into(), None;
        Domain, |a| a.domain.admin_email = "Ops.Team+tls@Omantel.OM".into(), None;
        Review, |a| a.domain.subdomain = "".into(), Some((SUB, "Enter a subdomain, for example \"acme-prod\"."));
        Review, |a| a.organisation.name = "".into(), Some((NAME, "Enter your organisation's name."));
    ]);
}

#[test]
fn there_are_at_least_150_cases() {
    // Counted from this file so the table cannot silently shrink.
    let src = include_str!("validate_tests.rs");
    let rows = src.lines().filter(|l| {
        let t = l.trim_start();
        [
            "Organisation,",
            "Topology,",
            "Provider,",
            "Credentials,",
            "Components,",
            "Domain,",
            "Review,",
        ]
        .iter()
        .any(|p| t.starts_with(p))
    });
    let cidr = src
        .lines()
        .filter(|l| l.trim_start().starts_with("(\"") && l.contains("\", "))
        .count();
    let n = rows.count() + cidr;
    assert!(n >= 150, "only {n} validation cases");
}
