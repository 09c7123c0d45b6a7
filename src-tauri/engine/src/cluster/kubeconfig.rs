//! The k3s kubeconfig, read over SSH (nothing on the server pushes it to the
//! laptop) and pointed at the control plane's public address: k3s writes
//! `server: https://127.0.0.1:6443`, which only works on the node itself.

use serde_json::{Value, json};
use std::time::Duration;

use kube::config::Kubeconfig;
use tokio_util::sync::CancellationToken;

use super::error::ClusterError;
use super::ssh::SshSession;
use crate::secrets::register_secret;

/// The API server port k3s listens on.
pub const K3S_API_PORT: u16 = 6443;

/// Where the API server is reachable from the laptop: the control plane's
/// public IP (not the load balancer's, which forwards only 80/443), and the
/// port, if it is not the one in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiEndpoint {
    pub host: String,
    pub port: Option<u16>,
}

impl ApiEndpoint {
    /// Reads `203.0.113.7`, `203.0.113.7:6443`, `2001:db8::1` or
    /// `[2001:db8::1]:6443`.
    pub fn parse(text: &str) -> Result<ApiEndpoint, ClusterError> {
        let text = text.trim();
        let bad = || ClusterError::KubeconfigInvalid(format!("{text:?} is not a host or host:port"));
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(bad()),
            }
        } else if text.matches(':').count() == 1 {
            let (h, p) = text.split_once(':').ok_or_else(bad)?;
            (h, Some(p))
        } else {
            (text, None)
        };
        let valid_host = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !valid_host {
            return Err(bad());
        }
        let port = match port {
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?),
            None => None,
        };
        Ok(ApiEndpoint {
            host: host.to_owned(),
            port,
        })
    }

    fn url(&self, original_port: Option<u16>) -> String {
        let port = self.port.or(original_port).unwrap_or(K3S_API_PORT);
        if self.host.contains(':') {
            format!("https://[{}]:{port}", self.host)
        } else {
            format!("https://{}:{port}", self.host)
        }
    }
}

/// The port of an `https://host:port[/path]` URL, if it names one.
fn url_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let port = match authority.rsplit_once("]:") {
        Some((_, p)) => p,
        None if !authority.starts_with('[') => authority.rsplit_once(':')?.1,
        None => return None,
    };
    port.parse().ok()
}

/// Points every `server:` of a k3s kubeconfig at `endpoint`, keeping the
/// port, and checks the result is a kubeconfig kube can use. k3s.yaml
/// describes only the local cluster, so every server line is this one.
pub fn rewrite_server(yaml: &str, endpoint: &ApiEndpoint) -> Result<String, ClusterError> {
    let mut out = String::with_capacity(yaml.len() + 32);
    let mut rewritten = 0;
    for line in yaml.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let indent_len = body.len() - body.trim_start().len();
        let trimmed = body.trim_start();
        if let Some(value) = trimmed.strip_prefix("server:") {
            let value = value.trim().trim_matches(['"', '\'']);
            let url = endpoint.url(url_port(value));
            out.push_str(&body[..indent_len]);
            out.push_str("server: ");
            out.push_str(&url);
            out.push_str(ending);
            rewritten += 1;
        } else {
            out.push_str(line);
        }
    }
    if rewritten == 0 {
        return Err(ClusterError::KubeconfigInvalid("it has no `server:` line".into()));
    }
    let parsed = Kubeconfig::from_yaml(&out).map_err(|e| ClusterError::KubeconfigInvalid(e.to_string()))?;
    if parsed.clusters.is_empty() || parsed.auth_infos.is_empty() {
        return Err(ClusterError::KubeconfigInvalid(
            "it names no cluster or no user".into(),
        ));
    }
    Ok(out)
}

/// A kubeconfig whose cluster, user and context are named for `name` (a
/// region's location) instead of k3s' `default`, so several can share one
/// file: cluster and context `<name>`, user `admin@<name>`.
pub fn named(yaml: &str, name: &str) -> Result<String, ClusterError> {
    merge(&[(name.to_owned(), yaml.to_owned())])
}

/// One kubeconfig with a context per region, named after it; the first is current.
pub fn merge(regions: &[(String, String)]) -> Result<String, ClusterError> {
    let bad = |e: String| ClusterError::KubeconfigInvalid(e);
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    for (name, yaml) in regions {
        let v: Value = serde_yaml_ng::from_str(yaml).map_err(|e| bad(e.to_string()))?;
        let first = |key: &str, inner: &str| -> Result<Value, ClusterError> {
            v[key]
                .as_array()
                .and_then(|a| a.first())
                .map(|e| e[inner].clone())
                .filter(|x| !x.is_null())
                .ok_or_else(|| bad(format!("it has no {key}[0].{inner}")))
        };
        let user = format!("admin@{name}");
        clusters.push(json!({"name": name, "cluster": first("clusters", "cluster")?}));
        users.push(json!({"name": user, "user": first("users", "user")?}));
        contexts.push(json!({"name": name, "context": {"cluster": name, "user": user}}));
    }
    let current = regions.first().map(|(n, _)| n.clone()).unwrap_or_default();
    let merged = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current,
        "preferences": {},
    });
    let text = serde_yaml_ng::to_string(&merged).map_err(|e| bad(e.to_string()))?;
    Kubeconfig::from_yaml(&text).map_err(|e| bad(e.to_string()))?;
    Ok(text)
}

/// Registers the credentials in a kubeconfig for redaction, so a log line
/// that carries one never shows it.
fn register_credentials(yaml: &str) {
    for line in yaml.lines() {
        let t = line.trim_start().trim_start_matches("- ");
        for key in ["client-key-data:", "token:", "password:"] {
            if let Some(v) = t.strip_prefix(key) {
                register_secret(v.trim().trim_matches(['"', '\'']));
            }
        }
    }
}

impl SshSession {
    /// Reads the k3s kubeconfig from the control plane and points it at
    /// `api_host` (the control plane's public IP, optionally `:port`).
    pub async fn fetch_kubeconfig(
        &self,
        api_host: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<String, ClusterError> {
        let endpoint = ApiEndpoint::parse(api_host)?;
        let out = self
            .run_ok(&self.target.commands.read_kubeconfig, timeout, cancel)
            .await?;
        let text = String::from_utf8(out.stdout)
            .map_err(|_| ClusterError::KubeconfigInvalid("it is not UTF-8 text".into()))?;
        register_credentials(&text);
        if text.trim().is_empty() {
            return Err(ClusterError::KubeconfigInvalid("the file is empty".into()));
        }
        rewrite_server(&text, &endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const K3S_YAML: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJZmFrZWZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZha2VLZXlGb3JUZXN0cwotLS0tLUVORCBFQyBQUklWQVRFIEtFWS0tLS0tCg==
";

    #[test]
    fn server_is_pointed_at_the_public_ip_keeping_the_port() {
        let ep = ApiEndpoint::parse("203.0.113.7").unwrap();
        let out = rewrite_server(K3S_YAML, &ep).unwrap();
        assert!(out.contains("\n    server: https://203.0.113.7:6443\n"));
        assert!(!out.contains("127.0.0.1"));
        assert_eq!(out.lines().count(), K3S_YAML.lines().count());
        let kc = Kubeconfig::from_yaml(&out).unwrap();
        assert_eq!(
            kc.clusters[0].cluster.as_ref().unwrap().server.as_deref(),
            Some("https://203.0.113.7:6443")
        );
    }

    #[test]
    fn endpoint_forms() {
        let cases = [
            (
                "203.0.113.7:7443",
                "203.0.113.7",
                Some(7443),
                "https://203.0.113.7:7443",
            ),
            ("2001:db8::1", "2001:db8::1", None, "https://[2001:db8::1]:6443"),
            (
                "[2001:db8::1]:16443",
                "2001:db8::1",
                Some(16443),
                "https://[2001:db8::1]:16443",
            ),
            (
                " cp.example.org ",
                "cp.example.org",
                None,
                "https://cp.example.org:6443",
            ),
        ];
        for (text, host, port, url) in cases {
            let ep = ApiEndpoint::parse(text).unwrap();
            assert_eq!((ep.host.as_str(), ep.port), (host, port), "{text}");
            assert_eq!(ep.url(Some(6443)), url);
        }
        for bad in [
            "",
            "1.2.3.4:0",
            "1.2.3.4:x",
            "[::1",
            "[::1]x",
            "a b",
            "h:99999",
            "$(reboot)",
        ] {
            assert_eq!(
                ApiEndpoint::parse(bad).unwrap_err().code(),
                "kubeconfig_invalid",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn quoted_and_crlf_servers_are_rewritten_and_garbage_refused() {
        let crlf = K3S_YAML.replace(
            "server: https://127.0.0.1:6443",
            "server: \"https://127.0.0.1:6443\"",
        );
        let crlf = crlf.replace('\n', "\r\n");
        let out = rewrite_server(&crlf, &ApiEndpoint::parse("198.51.100.2").unwrap()).unwrap();
        assert!(out.contains("    server: https://198.51.100.2:6443\r\n"));
        let ep = ApiEndpoint::parse("198.51.100.2").unwrap();
        assert_eq!(rewrite_server("", &ep).unwrap_err().code(), "kubeconfig_invalid");
        assert_eq!(
            rewrite_server("sudo: a password is required\n", &ep)
                .unwrap_err()
                .code(),
            "kubeconfig_invalid"
        );
        let no_users =
            "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: d\n";
        assert_eq!(
            rewrite_server(no_users, &ep).unwrap_err().code(),
            "kubeconfig_invalid"
        );
        assert_eq!(
            rewrite_server("server: [\n", &ep).unwrap_err().code(),
            "kubeconfig_invalid"
        );
    }

    #[test]
    fn url_ports() {
        assert_eq!(url_port("https://127.0.0.1:6443"), Some(6443));
        assert_eq!(url_port("https://[::1]:7443/x"), Some(7443));
        assert_eq!(url_port("https://[::1]"), None);
        assert_eq!(url_port("https://localhost"), None);
    }

    #[test]
    fn client_key_is_registered_for_redaction() {
        register_credentials(K3S_YAML);
        let key = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZha2VLZXlGb3JUZXN0cwotLS0tLUVORCBFQyBQUklWQVRFIEtFWS0tLS0tCg==";
        assert!(!crate::secrets::redact(&format!("x {key}")).contains(key));
    }

    #[test]
    fn regions_share_one_file_with_a_context_each() {
        let a = rewrite_server(K3S_YAML, &ApiEndpoint::parse("198.51.100.7").unwrap()).unwrap();
        let b = rewrite_server(K3S_YAML, &ApiEndpoint::parse("203.0.113.9").unwrap()).unwrap();
        let merged = merge(&[("fsn1".into(), a.clone()), ("hel1".into(), b)]).unwrap();
        let kc = Kubeconfig::from_yaml(&merged).unwrap();
        let names: Vec<_> = kc.contexts.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, ["fsn1", "hel1"]);
        assert_eq!(kc.current_context.as_deref(), Some("fsn1"));
        let servers: Vec<_> = kc
            .clusters
            .iter()
            .map(|c| c.cluster.as_ref().unwrap().server.clone().unwrap())
            .collect();
        assert_eq!(servers, ["https://198.51.100.7:6443", "https://203.0.113.9:6443"]);
        assert_eq!(kc.auth_infos[1].name, "admin@hel1");
        // One region alone is named after it too; a kubeconfig without a user is refused.
        let one = Kubeconfig::from_yaml(&named(&a, "fsn1").unwrap()).unwrap();
        assert_eq!(one.contexts[0].name, "fsn1");
        assert!(named("apiVersion: v1\nclusters: []\n", "x").is_err());
    }
}
