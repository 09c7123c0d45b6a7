use super::*;
use crate::tofu::vars::tests::solo;
use crate::tofu::vars::{RegionSpec, Topology};

pub(crate) fn boot(components: usize) -> BootInputs {
    BootInputs {
        k3s_token: Secret::new("K3sTokenCanary0123456789abcdefABCDEF"),
        host_key: HostKey {
            private_openssh: Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nHOSTKEYCANARY\n-----END OPENSSH PRIVATE KEY-----\n",
            ),
            public_line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyPublicPart host@catalyst".into(),
        },
        components: (0..components)
            .map(|i| format!("component-number-{i:02}"))
            .collect(),
        gitops: GitOpsSource {
            url: "https://github.com/openova-io/openova".into(),
            branch: "main".into(),
        },
        pull_secrets: vec![RegistryCredential {
            registry: "ghcr.io".into(),
            username: "openova-bot".into(),
            password: Secret::new("ghcr_pull_canary_secret"),
        }],
        registry_mirror: Some(RegistryMirror {
            upstream: "docker.io".into(),
            endpoint: "https://harbor.openova.io".into(),
            rewrite: Some(("(.*)".into(), "proxy-dockerhub/$1".into())),
        }),
        certificates: Default::default(),
    }
}

pub(crate) fn triangle_ha() -> ModuleInputs {
    let mut m = solo();
    m.topology = Topology::Triangle;
    m.ha = true;
    m.regions = [Location::Fsn1, Location::Hel1, Location::Ash]
        .into_iter()
        .map(|location| RegionSpec {
            location,
            control_plane_type: "cpx42".into(),
            worker_type: "cpx32".into(),
            worker_count: 3,
        })
        .collect();
    m
}

#[test]
fn the_lets_encrypt_switch_reaches_flux_as_the_reference_names_it() {
    let m = solo();
    let mut b = boot(2);
    let prod = substitutions(&m, &b, 0);
    assert_eq!(prod["SOVEREIGN_WILDCARD_CERT_USE_STAGING"], "false");
    assert_eq!(
        prod["SOVEREIGN_ACME_SERVER"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    b.certificates = crate::settings::Certificates::Staging;
    let staging = substitutions(&m, &b, 0);
    assert_eq!(staging["SOVEREIGN_WILDCARD_CERT_USE_STAGING"], "true");
    assert_eq!(
        staging["SOVEREIGN_ACME_SERVER"],
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    );
}

#[test]
fn base64_matches_known_vectors() {
    for (i, o) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ] {
        assert_eq!(base64(i.as_bytes()), o);
    }
}

#[test]
fn sh_quote_survives_quotes() {
    assert_eq!(sh_quote("it's"), "'it'\\''s'");
}

#[test]
fn renders_per_region_and_role_and_is_deterministic() {
    let m = triangle_ha();
    let b = boot(45);
    let r = render(&m, &b).unwrap();
    assert_eq!(
        r.control_plane.keys().collect::<Vec<_>>(),
        ["ash", "fsn1", "hel1"]
    );
    assert_eq!(r.worker.len(), 3);
    let again = render(&m, &b).unwrap();
    assert_eq!(r.control_plane, again.control_plane);
    let cp = &r.control_plane["hel1"];
    assert!(cp.starts_with("#cloud-config\n"));
    assert!(
        cp.contains("\"cluster-cidr\": \"10.43.0.0/16\""),
        "hel1 is region index 1"
    );
    assert!(cp.contains("component-number-44"));
    assert!(cp.contains("ed25519_private"));
    assert!(
        !r.worker["hel1"].contains("ed25519_private"),
        "workers get no host key"
    );
    // Nothing about the server itself is templated (F-1).
    for doc in r.control_plane.values().chain(r.worker.values()) {
        assert!(!doc.contains("ipv4_address"));
    }
}

#[test]
fn worker_free_regions_get_no_worker_document_and_no_taint() {
    let mut m = solo();
    m.regions[0].worker_count = 0;
    let r = render(&m, &boot(3)).unwrap();
    assert!(r.worker.is_empty());
    assert!(!r.control_plane["fsn1"].contains("NoSchedule"));
    let m = solo();
    let r = render(&m, &boot(3)).unwrap();
    assert!(r.control_plane["fsn1"].contains("NoSchedule"));
}

#[test]
fn oversize_is_a_typed_error() {
    let mut b = boot(0);
    b.components = (0..600)
        .map(|i| format!("a-rather-long-component-name-{i:04}"))
        .collect();
    match render(&solo(), &b) {
        Err(TofuError::UserDataTooLarge { bytes, limit, .. }) => assert!(bytes > limit),
        other => panic!("expected UserDataTooLarge, got {other:?}"),
    }
}

#[test]
fn bad_boot_inputs_are_refused() {
    type Edit = Box<dyn Fn(&mut BootInputs)>;
    let cases: Vec<Edit> = vec![
        Box::new(|b| b.k3s_token = Secret::new("short")),
        Box::new(|b| b.components.push("Bad Id".into())),
        Box::new(|b| b.gitops.url = "http://x".into()),
        Box::new(|b| b.host_key.public_line = "ssh-rsa AAAA".into()),
        Box::new(|b| b.host_key.private_openssh = Secret::new("not a key at all")),
    ];
    for f in cases {
        let mut b = boot(1);
        f(&mut b);
        assert!(matches!(render(&solo(), &b), Err(TofuError::InvalidInput(_))));
    }
}

#[test]
fn scripts_lose_comments_but_keep_shebang() {
    let s = strip_comments(NODE_SH);
    assert!(s.starts_with("#!/bin/sh\n"));
    assert!(!s.lines().skip(1).any(|l| l.trim_start().starts_with('#')));
    assert!(s.len() < NODE_SH.len());
}
