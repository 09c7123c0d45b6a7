use super::*;

#[test]
fn a_url_that_does_not_parse_is_explained_in_plain_words() {
    for (text, want) in [
        (
            "pdm.example.org",
            "\"pdm.example.org\" needs https:// in front: https://pdm.example.org.",
        ),
        (
            "not a url",
            "\"not a url\" is not a URL like https://pdm.example.org.",
        ),
        ("https://", "\"https://\" has no host."),
        (
            "https://pdm.example.org:70000",
            "\"https://pdm.example.org:70000\" has a port that is not a number from 1 to 65535.",
        ),
        (
            "https://[::1",
            "\"https://[::1\" has an IP address that is not valid.",
        ),
    ] {
        let got = check_url(text, false).unwrap_err();
        assert_eq!(got, want);
        assert!(!got.contains("relative URL") && !got.contains("base"), "{got}");
    }
}

fn field_errors(v: &SettingsValues, s: &[SecretKey]) -> Vec<String> {
    v.validate(s).into_iter().map(|e| e.field).collect()
}

#[test]
fn empty_values_are_valid_and_round_trip() {
    let v = SettingsValues::default();
    assert!(v.validate(&[]).is_empty());
    let s = v.apply_to(&Settings::default());
    assert_eq!(s, Settings::default());
    assert_eq!(SettingsValues::from_settings(&s), v);
}

#[test]
fn every_field_has_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let v = SettingsValues {
        pdm_url: "http://pdm.example.org".into(),
        pool_domains: vec!["omani.works".into(), "not a domain".into()],
        nameservers: vec!["ns1".into()],
        gitops_url: "git@github.com:o/r.git".into(),
        gitops_branch: "../main".into(),
        registry_mirror_url: "ftp://harbor.example.org".into(),
        registry_mirror_upstream: "docker io".into(),
        registry_mirror_project: "Proxy DockerHub".into(),
        pull_registry: "ghcr io".into(),
        hetzner_endpoint: "nope".into(),
        tofu_path: dir.path().join("tofu").display().to_string(),
        provider_mirror: "relative/mirror".into(),
        timeouts: PhaseTimeouts {
            tofu_apply: Some(0),
            console: Some(MAX_TIMEOUT_S + 1),
            ..Default::default()
        },
        ..Default::default()
    };
    let got = field_errors(&v, &[SecretKey::RegistryMirrorPassword, SecretKey::PullPassword]);
    for f in [
        "pdm_url",
        "pdm_username",
        "pool_domains",
        "nameservers",
        "gitops_url",
        "gitops_branch",
        "registry_mirror_url",
        "registry_mirror_upstream",
        "registry_mirror_username",
        "registry_mirror_project",
        "pull_registry",
        "pull_username",
        "hetzner_endpoint",
        "tofu_path",
        "provider_mirror",
        "timeouts.tofu_apply",
        "timeouts.console",
    ] {
        assert!(got.iter().any(|g| g == f), "no error on {f}: {got:?}");
    }
}

#[test]
fn a_good_set_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let tofu = dir.path().join("tofu");
    std::fs::write(&tofu, "#!/bin/sh\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tofu, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let v = SettingsValues {
        mode: Some(Mode::Live),
        pdm_url: "https://pdm.openova.io".into(),
        pdm_username: "franchise".into(),
        pool_domains: vec!["omani.works".into()],
        gitops_url: "https://gitea.example.org/platform/openova".into(),
        gitops_branch: "release/2026.11".into(),
        registry_mirror_url: "https://harbor.example.org".into(),
        registry_mirror_username: "robot$pull".into(),
        registry_mirror_project: "proxy-dockerhub".into(),
        pull_registry: "ghcr.io".into(),
        pull_username: "openova-bot".into(),
        hetzner_endpoint: "http://127.0.0.1:8080/v1".into(),
        tofu_path: tofu.display().to_string(),
        provider_mirror: dir.path().display().to_string(),
        timeouts: PhaseTimeouts {
            tofu_apply: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let secrets = [
        SecretKey::PdmPassword,
        SecretKey::RegistryMirrorPassword,
        SecretKey::PullPassword,
    ];
    assert_eq!(v.validate(&secrets), vec![]);
    // A tofu path that is not executable is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tofu, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(field_errors(&v, &secrets), ["tofu_path"]);
    }
}

#[test]
fn live_mode_is_refused_until_each_pdm_field_a_live_run_needs_is_given() {
    let live = |url: &str, user: &str| SettingsValues {
        mode: Some(Mode::Live),
        pdm_url: url.into(),
        pdm_username: user.into(),
        ..Default::default()
    };
    assert_eq!(
        field_errors(&live("", ""), &[]),
        ["mode", "pdm_url", "pdm_username", "pdm_password"]
    );
    let e = live("", "").validate(&[]);
    assert_eq!(
        e[0].message,
        "Live mode needs PDM's address, its user name, its password (below); until then the app stays in demo mode."
    );
    assert!(e[1].message.contains("Live mode needs it"), "{e:?}");
    assert_eq!(
        field_errors(&live("https://pdm.openova.io", "franchise"), &[]),
        ["mode", "pdm_password"]
    );
    assert_eq!(
        field_errors(&live("https://pdm.openova.io", ""), &[SecretKey::PdmPassword]),
        ["mode", "pdm_username"]
    );
    assert_eq!(
        field_errors(
            &live("https://pdm.openova.io", "franchise"),
            &[SecretKey::PdmPassword]
        ),
        Vec::<String>::new()
    );
    // Demo mode asks for none of it.
    let demo = SettingsValues {
        mode: Some(Mode::Demo),
        ..Default::default()
    };
    assert_eq!(field_errors(&demo, &[]), Vec::<String>::new());
}

#[test]
fn harbor_project_names_are_checked_on_their_field() {
    let with = |p: &str| SettingsValues {
        registry_mirror_url: "https://harbor.example.org".into(),
        registry_mirror_project: p.into(),
        ..Default::default()
    };
    for good in [
        "proxy-dockerhub",
        "proxy_ghcr.io",
        "0cache",
        "a",
        &"a".repeat(255),
        " padded ",
    ] {
        assert_eq!(with(good).validate(&[]), vec![], "{good:?}");
    }
    for bad in [
        "Proxy-DockerHub",
        "-proxy",
        "_proxy",
        ".proxy",
        "proxy/dockerhub",
        "proxy dockerhub",
        "próxy",
        &"a".repeat(256),
    ] {
        let errs = with(bad).validate(&[]);
        assert_eq!(errs.len(), 1, "{bad:?}: {errs:?}");
        assert_eq!(errs[0].field, "registry_mirror_project", "{bad:?}");
        assert!(
            errs[0].message.contains("Harbor project name"),
            "{}",
            errs[0].message
        );
    }
    // A project without a mirror to hold it: the address is missing.
    let v = SettingsValues {
        registry_mirror_project: "proxy-dockerhub".into(),
        ..Default::default()
    };
    assert_eq!(field_errors(&v, &[]), ["registry_mirror_url"]);
    // Saved on the mirror (trimmed), and shown again from the settings.
    let s = with(" proxy-dockerhub ").apply_to(&Settings::default());
    assert_eq!(s.registry_mirror.as_ref().unwrap().project, "proxy-dockerhub");
    assert_eq!(
        SettingsValues::from_settings(&s).registry_mirror_project,
        "proxy-dockerhub"
    );
    let mut v = SettingsValues::default();
    v.set_key("registry_mirror_project", "proxy-dockerhub").unwrap();
    assert_eq!(v.registry_mirror_project, "proxy-dockerhub");
}

#[test]
fn certificates_are_production_or_staging_and_reach_the_settings() {
    let mut v = SettingsValues::default();
    v.set_key("certificates", "staging").unwrap();
    assert_eq!(v.certificates, Some(super::super::Certificates::Staging));
    let s = v.apply_to(&Settings::default());
    assert_eq!(s.certificates, Some(super::super::Certificates::Staging));
    assert_eq!(SettingsValues::from_settings(&s).certificates, v.certificates);
    let e = v.set_key("certificates", "prod").unwrap_err();
    assert_eq!(
        e.message,
        "Certificates come from Let's Encrypt \"production\" or \"staging\"."
    );
    v.set_key("certificates", "").unwrap();
    assert_eq!(v.certificates, None);
}

#[test]
fn set_key_parses_lists_modes_and_timeouts() {
    let mut v = SettingsValues::default();
    v.set_key("pool_domains", "omani.works, openova.io").unwrap();
    assert_eq!(v.pool_domains, ["omani.works", "openova.io"]);
    v.set_key("mode", "live").unwrap();
    assert_eq!(v.mode, Some(Mode::Live));
    v.set_key("timeouts.cloud_init", "900").unwrap();
    assert_eq!(v.timeouts.cloud_init, Some(900));
    v.set_key("timeouts.cloud_init", "").unwrap();
    assert_eq!(v.timeouts.cloud_init, None);
    assert_eq!(
        v.set_key("timeouts.cloud_init", "-1").unwrap_err().field,
        "timeouts.cloud_init"
    );
    assert_eq!(
        v.set_key("timeouts.nope", "1").unwrap_err().field,
        "timeouts.nope"
    );
    assert_eq!(v.set_key("mode", "prod").unwrap_err().field, "mode");
    assert!(
        v.set_key("pdm_password", "x").is_err(),
        "secrets are not plain keys"
    );
}

#[test]
fn hidden_test_overrides_survive_a_save_from_the_page() {
    let base = Settings {
        overrides: super::super::Overrides {
            ssh_host: Some("127.0.0.1".into()),
            ..Default::default()
        },
        pdm: Some(PdmSettings {
            url: "https://pdm.example.org".into(),
            username: "u".into(),
            password_secret: "pdm-password".into(),
        }),
        ..Default::default()
    };
    let mut v = SettingsValues::from_settings(&base);
    v.gitops_branch = "stable".into();
    let s = v.apply_to(&base);
    assert_eq!(s.overrides.ssh_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.pdm.as_ref().unwrap().password_secret, "pdm-password");
    assert_eq!(
        s.gitops(),
        (super::super::DEFAULT_GITOPS_URL.to_owned(), "stable".to_owned())
    );
}
