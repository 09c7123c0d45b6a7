//! Static checks of the embedded OpenTofu module, parsed with an HCL parser
//! (no tofu binary exists here): variables declared and set, labels on every
//! labelable resource, no plan cycle through user_data (F-1), token only from
//! the environment, state and plan encrypted (through TF_ENCRYPTION).

use std::collections::{BTreeMap, BTreeSet};

use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};

use catalyst_provisioner::engine::tofu::{
    BootInputs, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec, Secret, TofuEnvOptions,
    TofuSecrets, Topology, cloudinit, module,
};

const LABELABLE: [&str; 12] = [
    "hcloud_network",
    "hcloud_firewall",
    "hcloud_ssh_key",
    "hcloud_server",
    "hcloud_load_balancer",
    "hcloud_primary_ip",
    "hcloud_floating_ip",
    "hcloud_volume",
    "hcloud_placement_group",
    "hcloud_certificate",
    "hcloud_managed_certificate",
    "hcloud_uploaded_certificate",
];

fn parse_module() -> Vec<(String, Body)> {
    module::FILES
        .iter()
        .map(|(name, text)| {
            let body = hcl::parse(text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
            (name.to_string(), body)
        })
        .collect()
}

fn blocks<'a>(files: &'a [(String, Body)], kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    files
        .iter()
        .flat_map(move |(_, b)| b.blocks().filter(move |blk| blk.identifier() == kind))
}

fn label(b: &Block, i: usize) -> String {
    b.labels()
        .get(i)
        .map(|l| l.as_str().to_owned())
        .unwrap_or_default()
}

/// References as (root, first attribute): `var.x` -> ("var", "x").
fn refs(e: &Expression, out: &mut Vec<(String, String)>) {
    match e {
        Expression::Variable(v) => out.push((v.as_str().to_owned(), String::new())),
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                let attr = match t.operators.first() {
                    Some(TraversalOperator::GetAttr(a)) => a.as_str().to_owned(),
                    _ => String::new(),
                };
                out.push((v.as_str().to_owned(), attr));
            } else {
                refs(&t.expr, out);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    refs(i, out);
                }
            }
        }
        Expression::Array(a) => a.iter().for_each(|x| refs(x, out)),
        Expression::Object(o) => {
            for (k, v) in o {
                if let ObjectKey::Expression(k) = k {
                    refs(k, out);
                }
                refs(v, out);
            }
        }
        Expression::TemplateExpr(t) => template_refs(t, out),
        Expression::FuncCall(f) => f.args.iter().for_each(|x| refs(x, out)),
        Expression::Parenthesis(p) => refs(p, out),
        Expression::Conditional(c) => {
            refs(&c.cond_expr, out);
            refs(&c.true_expr, out);
            refs(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => refs(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                refs(&b.lhs_expr, out);
                refs(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => {
            refs(&f.collection_expr, out);
            if let Some(k) = &f.key_expr {
                refs(k, out);
            }
            refs(&f.value_expr, out);
            if let Some(c) = &f.cond_expr {
                refs(c, out);
            }
        }
        _ => {}
    }
}

fn template_refs(t: &TemplateExpr, out: &mut Vec<(String, String)>) {
    let Ok(tpl) = Template::from_expr(t) else {
        panic!("template does not parse: {t:?}");
    };
    elements_refs(&tpl, out);
}

fn elements_refs(tpl: &Template, out: &mut Vec<(String, String)>) {
    for el in tpl.elements() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => refs(&i.expr, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(i) => {
                    refs(&i.cond_expr, out);
                    elements_refs(&i.true_template, out);
                    if let Some(f) = &i.false_template {
                        elements_refs(f, out);
                    }
                }
                Directive::For(f) => {
                    refs(&f.collection_expr, out);
                    elements_refs(&f.template, out);
                }
            },
        }
    }
}

fn body_refs(body: &Body, out: &mut Vec<(String, String)>) {
    for a in body.attributes() {
        refs(a.expr(), out);
    }
    for b in body.blocks() {
        body_refs(b.body(), out);
    }
}

fn locals(files: &[(String, Body)]) -> BTreeMap<String, Expression> {
    blocks(files, "locals")
        .flat_map(|b| {
            b.body()
                .attributes()
                .map(|a| (a.key().to_owned(), a.expr().clone()))
        })
        .collect()
}

fn attr<'a>(b: &'a Block, key: &str) -> Option<&'a Expression> {
    b.body().attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// All references of an expression, following `local.*` to their definitions.
fn expanded_refs(e: &Expression, locals: &BTreeMap<String, Expression>) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![e.clone()];
    let mut done_locals = BTreeSet::new();
    while let Some(e) = todo.pop() {
        let mut out = vec![];
        refs(&e, &mut out);
        for (root, attr) in out {
            if root == "local"
                && done_locals.insert(attr.clone())
                && let Some(def) = locals.get(&attr)
            {
                todo.push(def.clone());
            }
            seen.insert((root, attr));
        }
    }
    seen
}

/// Object keys a `labels` expression certainly contains (objects, merge(), locals).
fn label_keys(e: &Expression, locals: &BTreeMap<String, Expression>) -> BTreeSet<String> {
    match e {
        Expression::Object(o) => o
            .keys()
            .filter_map(|k| match k {
                ObjectKey::Identifier(i) => Some(i.as_str().to_owned()),
                ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [TraversalOperator::GetAttr(a)]) if v.as_str() == "local" => locals
                .get(a.as_str())
                .map(|d| label_keys(d, locals))
                .unwrap_or_default(),
            _ => BTreeSet::new(),
        },
        Expression::FuncCall(f) if f.name.name.as_str() == "merge" => {
            f.args.iter().flat_map(|a| label_keys(a, locals)).collect()
        }
        _ => BTreeSet::new(),
    }
}

fn sample_inputs() -> ModuleInputs {
    ModuleInputs {
        deployment_id: "5b6c7d8e-0000-4a1b-9c2d-3e4f5a6b7c8d".into(),
        sovereign_fqdn: "acme.omani.works".into(),
        topology: Topology::Solo,
        ha: false,
        regions: vec![RegionSpec {
            location: Location::Nbg1,
            control_plane_type: "cpx32".into(),
            worker_type: "cpx32".into(),
            worker_count: 1,
        }],
        admin_ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyForTestsOnly op@laptop".into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec![],
        server_image: None,
        load_balancer_type: None,
    }
}

fn engine_env(m: &ModuleInputs) -> ChildEnv {
    let boot = BootInputs {
        k3s_token: Secret::new("K3sTokenForModuleTests0123456789abcdef"),
        host_key: HostKey {
            private_openssh: Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            ),
            public_line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost host".into(),
        },
        components: vec!["cilium".into()],
        gitops: GitOpsSource {
            url: "https://github.com/openova-io/openova".into(),
            branch: "main".into(),
        },
        pull_secrets: vec![],
        registry_mirror: None,
        certificates: Default::default(),
    };
    let rendered = cloudinit::render(m, &boot).unwrap();
    ChildEnv::build(
        &TofuSecrets {
            hcloud_token: Secret::new("module-test-token-0123456789"),
            state_passphrase: Secret::new("module-test-passphrase"),
        },
        &rendered,
        &TofuEnvOptions::default(),
    )
    .unwrap()
}

struct Variable {
    has_default: bool,
    sensitive: bool,
}

fn variables(files: &[(String, Body)]) -> BTreeMap<String, Variable> {
    blocks(files, "variable")
        .map(|b| {
            let sensitive = matches!(attr(b, "sensitive"), Some(Expression::Bool(true)));
            (
                label(b, 0),
                Variable {
                    has_default: attr(b, "default").is_some(),
                    sensitive,
                },
            )
        })
        .collect()
}

#[test]
fn every_referenced_variable_and_local_is_declared_and_every_variable_used() {
    let files = parse_module();
    let vars = variables(&files);
    let locals = locals(&files);
    assert!(vars.len() >= 10 && locals.len() >= 10, "module not found");
    let mut all = vec![];
    for (_, body) in &files {
        body_refs(body, &mut all);
    }
    for (root, attr) in &all {
        if root == "var" {
            assert!(vars.contains_key(attr), "var.{attr} is not declared");
        }
        if root == "local" {
            assert!(locals.contains_key(attr), "local.{attr} is not defined");
        }
    }
    for name in vars.keys() {
        assert!(
            all.iter().any(|(r, a)| r == "var" && a == name),
            "variable {name} is declared but never used"
        );
    }
}

#[test]
fn every_required_variable_is_set_by_the_engine_and_secrets_only_by_env() {
    let files = parse_module();
    let vars = variables(&files);
    let m = sample_inputs();
    let tfvars = m.tfvars();
    let tfvars: BTreeSet<String> = tfvars.as_object().unwrap().keys().cloned().collect();
    let env = engine_env(&m);
    let from_env: BTreeSet<String> = env
        .names()
        .iter()
        .filter_map(|n| n.strip_prefix("TF_VAR_"))
        .map(str::to_owned)
        .collect();
    assert!(!from_env.is_empty());
    for (name, v) in &vars {
        if !v.has_default {
            assert!(
                tfvars.contains(name) || from_env.contains(name),
                "required variable {name} is set neither in tfvars nor in the environment"
            );
        }
    }
    for name in &tfvars {
        let v = vars
            .get(name)
            .unwrap_or_else(|| panic!("tfvars sets undeclared {name}"));
        assert!(!v.sensitive, "sensitive {name} is written to the tfvars file");
    }
    for name in &from_env {
        let v = vars
            .get(name)
            .unwrap_or_else(|| panic!("env sets undeclared {name}"));
        assert!(
            v.sensitive,
            "{name} comes from the environment but is not marked sensitive"
        );
        assert!(!tfvars.contains(name));
    }
    // Every sensitive variable is one the engine passes by environment.
    for (name, v) in &vars {
        if v.sensitive {
            assert!(
                from_env.contains(name),
                "sensitive {name} is not set through TF_VAR_"
            );
        }
    }
}

fn label_problems(files: &[(String, Body)]) -> Vec<String> {
    let locals = locals(files);
    let mut problems = vec![];
    for r in blocks(files, "resource") {
        let ty = label(r, 0);
        if !LABELABLE.contains(&ty.as_str()) {
            continue;
        }
        let name = format!("{ty}.{}", label(r, 1));
        let Some(labels) = attr(r, "labels") else {
            problems.push(format!("{name} has no labels"));
            continue;
        };
        let keys = label_keys(labels, &locals);
        for k in [
            "catalyst.openova.io/sovereign",
            "catalyst.openova.io/deployment-id",
        ] {
            if !keys.contains(k) {
                problems.push(format!("{name} lacks label {k}"));
            }
        }
    }
    problems
}

#[test]
fn every_labelable_resource_carries_the_sovereign_label() {
    let files = parse_module();
    let n = blocks(&files, "resource")
        .filter(|r| LABELABLE.contains(&label(r, 0).as_str()))
        .count();
    assert_eq!(n, 6, "ssh key, network, firewall, 2 servers, load balancer");
    assert_eq!(label_problems(&files), Vec::<String>::new());
    // The label's value is the FQDN variable itself.
    let locals = locals(&files);
    let Some(Expression::Object(o)) = locals.get("common_labels") else {
        panic!("local.common_labels is not an object")
    };
    let v = o
        .iter()
        .find(|(k, _)| matches!(k, ObjectKey::Expression(Expression::String(s)) if s == "catalyst.openova.io/sovereign"))
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut out = vec![];
    refs(&v, &mut out);
    assert_eq!(out, [("var".to_owned(), "sovereign_fqdn".to_owned())]);
}

fn user_data_problems(files: &[(String, Body)]) -> Vec<String> {
    let locals = locals(files);
    let mut problems = vec![];
    for r in blocks(files, "resource").filter(|r| label(r, 0) == "hcloud_server") {
        let name = format!("hcloud_server.{}", label(r, 1));
        let Some(ud) = attr(r, "user_data") else {
            problems.push(format!("{name} has no user_data"));
            continue;
        };
        for (root, attr) in expanded_refs(ud, &locals) {
            // Only inputs may feed user_data: a server attribute (its own
            // IP above all) would make a plan cycle.
            if !matches!(root.as_str(), "var" | "each" | "local") {
                problems.push(format!("{name}.user_data depends on {root}.{attr}"));
            }
        }
    }
    problems
}

#[test]
fn no_server_user_data_depends_on_server_attributes() {
    let files = parse_module();
    assert_eq!(
        blocks(&files, "resource")
            .filter(|r| label(r, 0) == "hcloud_server")
            .count(),
        2
    );
    assert_eq!(user_data_problems(&files), Vec::<String>::new());
}

#[test]
fn the_checks_catch_what_they_are_for() {
    let bad = r#"
locals {
  own = hcloud_server.cp.ipv4_address
  labels = { "catalyst.openova.io/sovereign" = var.sovereign_fqdn }
}
resource "hcloud_server" "cp" {
  user_data = "k3s --tls-san=${local.own}"
  labels    = merge(local.labels, { role = "cp" })
}
resource "hcloud_network" "n" {
  name = "x"
}
"#;
    let files = vec![("bad.tf".to_owned(), hcl::parse(bad).unwrap())];
    let ud = user_data_problems(&files);
    assert!(
        ud.iter()
            .any(|p| p.contains("hcloud_server.ipv4_address") || p.contains("depends on hcloud_server")),
        "{ud:?}"
    );
    let lp = label_problems(&files);
    assert!(
        lp.contains(&"hcloud_network.n has no labels".to_owned()),
        "{lp:?}"
    );
    assert!(
        lp.contains(&"hcloud_server.cp lacks label catalyst.openova.io/deployment-id".to_owned()),
        "{lp:?}"
    );
}

#[test]
fn token_comes_only_from_the_environment_and_state_is_encrypted() {
    let files = parse_module();
    let provider = blocks(&files, "provider")
        .find(|b| label(b, 0) == "hcloud")
        .expect("provider hcloud");
    assert_eq!(
        provider.body().attributes().count(),
        0,
        "the provider block must not take token or endpoint"
    );
    assert!(
        !variables(&files)
            .keys()
            .any(|k| k.contains("token") && k != "k3s_token")
    );
    let terraform = blocks(&files, "terraform").next().expect("terraform block");
    // Terraform refuses an `encryption` block, and a passphrase variable
    // would put the secret in a saved plan: neither is in the module.
    assert!(
        terraform.body().blocks().all(|b| b.identifier() != "encryption"),
        "the encryption configuration travels in TF_ENCRYPTION, not the module"
    );
    assert!(!variables(&files).contains_key("state_passphrase"));
    let providers = terraform
        .body()
        .blocks()
        .find(|b| b.identifier() == "required_providers")
        .expect("required_providers");
    let hcloud = attr(providers, "hcloud").expect("hcloud");
    let Expression::Object(o) = hcloud else {
        panic!("hcloud is not an object: {hcloud:?}")
    };
    let source = o
        .iter()
        .find(|(k, _)| matches!(k, ObjectKey::Identifier(i) if i.as_str() == "source"))
        .map(|(_, v)| v);
    assert!(
        matches!(source, Some(Expression::String(s)) if s == "registry.opentofu.org/hetznercloud/hcloud"),
        "the source names its host, so Terraform and OpenTofu find the same provider: {source:?}"
    );
    // Under OpenTofu's semantics (TF_ENCRYPTION is the body of an
    // `encryption` block) the child's environment still demands encryption
    // of both state and plan, with the passphrase from the keyring.
    let pass = "module-test-passphrase";
    let env = engine_env(&sample_inputs());
    let enc =
        hcl::parse(env.get("TF_ENCRYPTION").expect("TF_ENCRYPTION")).expect("TF_ENCRYPTION parses as HCL");
    let kp = enc
        .blocks()
        .find(|b| b.identifier() == "key_provider")
        .expect("key_provider");
    assert_eq!(label(kp, 0), "pbkdf2");
    assert!(matches!(attr(kp, "passphrase"), Some(Expression::String(s)) if s == pass));
    for part in ["state", "plan"] {
        let b = enc
            .blocks()
            .find(|b| b.identifier() == part)
            .unwrap_or_else(|| panic!("no {part} block"));
        assert!(
            matches!(attr(b, "enforced"), Some(Expression::Bool(true))),
            "{part} not enforced"
        );
        let mut out = vec![];
        refs(attr(b, "method").expect("method"), &mut out);
        assert_eq!(out, [("method".to_owned(), "aes_gcm".to_owned())], "{part}");
    }
    let rv = attr(terraform, "required_version").expect("required_version");
    assert!(matches!(rv, Expression::String(s) if s == ">= 1.8.0"));
}

#[test]
fn firewall_and_network_follow_the_design() {
    let files = parse_module();
    let fw = blocks(&files, "resource")
        .find(|b| label(b, 0) == "hcloud_firewall")
        .expect("firewall");
    let rules: Vec<(String, String)> = fw
        .body()
        .blocks()
        .filter(|b| b.identifier() == "rule")
        .map(|b| {
            let s = |k: &str| match attr(b, k) {
                Some(Expression::String(s)) => s.clone(),
                _ => String::new(),
            };
            (s("protocol"), s("port"))
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("tcp".into(), "80".into()),
            ("tcp".into(), "443".into()),
            ("tcp".into(), "6443".into()),
            ("icmp".into(), String::new()),
            ("tcp".into(), "22".into())
        ]
    );
    // 22 is open only to the answers' CIDRs (anywhere only when that list
    // is empty); no other rule looks at that list.
    for rule in fw.body().blocks().filter(|b| b.identifier() == "rule") {
        let port = match attr(rule, "port") {
            Some(Expression::String(s)) => s.clone(),
            _ => String::new(),
        };
        let mut sources = vec![];
        refs(attr(rule, "source_ips").expect("source_ips"), &mut sources);
        let from_answers = sources
            .iter()
            .any(|(r, a)| r == "var" && a == "ssh_allowed_cidrs");
        assert_eq!(from_answers, port == "22", "rule {port:?}: {sources:?}");
    }
    let lb_target = blocks(&files, "resource")
        .find(|b| label(b, 0) == "hcloud_load_balancer_target")
        .expect("lb target");
    assert!(matches!(
        attr(lb_target, "use_private_ip"),
        Some(Expression::Bool(true))
    ));
    let mut deps = vec![];
    refs(attr(lb_target, "depends_on").expect("depends_on"), &mut deps);
    assert!(deps.iter().any(|(r, _)| r == "hcloud_load_balancer_network"));
}
