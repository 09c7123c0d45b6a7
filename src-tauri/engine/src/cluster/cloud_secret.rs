//! The Hetzner credentials the cluster itself needs: the cloud controller
//! (LoadBalancer services, node addresses) and the CSI driver (volumes) read
//! `kube-system/hcloud` (`token`, `network`); the GitOps repository's
//! cluster autoscaler reads `flux-system/cloud-credentials` (reference F-28:
//! without the worker cloud-init and the network, firewall and SSH key names
//! it exits FATAL, or spawns servers off the network). Built here as one
//! `v1 List` that `kubectl apply -f -` reads from stdin over the pinned SSH
//! connection: never in user_data, tofu state, a file, an event or argv.
//! The same apply installs the handover key's public half
//! (`catalyst-system/catalyst-handover-jwt-public`, crate::handover).

use base64::Engine as _;
use serde_json::{Value, json};

use crate::tofu::secret::Secret;

/// The secret the Hetzner cloud controller and CSI driver read.
pub const HCLOUD_SECRET: (&str, &str) = ("kube-system", "hcloud");
/// The secret the GitOps repository's autoscaler reads.
pub const CLOUD_CREDENTIALS: (&str, &str) = ("flux-system", "cloud-credentials");

/// What goes into the two secrets.
#[derive(Debug, Clone)]
pub struct CloudCredentials {
    pub token: Secret,
    /// The region's own private network, as the module names it.
    pub network: String,
    pub firewall: String,
    pub ssh_key: String,
    /// The worker user_data the autoscaler boots new servers with (it holds
    /// the k3s join token); None when the primary region has no workers.
    pub worker_cloud_init: Option<Secret>,
    /// The handover key's public JWK, for the console's first login.
    pub handover_jwk: Option<Value>,
}

fn secret(namespace: &str, name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "catalyst-provisioner"}
        },
        "type": "Opaque",
        "stringData": data
    })
}

impl CloudCredentials {
    /// The manifest, as JSON (kubectl reads JSON as well as YAML). Namespaces
    /// first, so a secret's apply cannot race its namespace.
    pub fn manifest(&self) -> Secret {
        let mut credentials = json!({
            "hcloud-token": self.token.expose(),
            "hcloud-network-name": self.network,
            "hcloud-firewall-name": self.firewall,
            "hcloud-ssh-key-name": self.ssh_key,
        });
        if let Some(ci) = &self.worker_cloud_init {
            // The autoscaler's HCLOUD_CLOUD_INIT is base64 of the user_data.
            let b64 = base64::engine::general_purpose::STANDARD.encode(ci.expose());
            credentials["hcloud-cloud-init"] = json!(b64);
        }
        let mut items = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CLOUD_CREDENTIALS.0}}),
            secret(
                HCLOUD_SECRET.0,
                HCLOUD_SECRET.1,
                json!({
                    "token": self.token.expose(),
                    "network": self.network,
                }),
            ),
            secret(CLOUD_CREDENTIALS.0, CLOUD_CREDENTIALS.1, credentials),
        ];
        if let Some(jwk) = &self.handover_jwk {
            let (ns, name) = crate::handover::PUBLIC_KEY_SECRET;
            items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
            items.push(secret(
                ns,
                name,
                json!({ crate::handover::PUBLIC_KEY_FIELD: jwk.to_string() }),
            ));
        }
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        Secret::new(list.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(workers: bool) -> CloudCredentials {
        CloudCredentials {
            token: Secret::new("cluster-token-canary-0123456789abcdef"),
            network: "catalyst-acme-omani-works-fsn1-net".into(),
            firewall: "catalyst-acme-omani-works-fsn1-fw".into(),
            ssh_key: "catalyst-acme-omani-works-admin".into(),
            worker_cloud_init: workers.then(|| Secret::new("#cloud-config\nruncmd: [k3s agent]\n")),
            handover_jwk: workers.then(|| json!({"kty": "OKP", "crv": "Ed25519", "x": "abc"})),
        }
    }

    #[test]
    fn both_secrets_in_the_shape_their_readers_expect() {
        let m: Value = serde_json::from_str(creds(true).manifest().expose()).unwrap();
        let items = m["items"].as_array().unwrap();
        assert_eq!(items[0]["kind"], "Namespace");
        assert_eq!(items[0]["metadata"]["name"], "flux-system");
        let hcloud = &items[1];
        assert_eq!(
            (
                hcloud["metadata"]["namespace"].as_str(),
                hcloud["metadata"]["name"].as_str()
            ),
            (Some("kube-system"), Some("hcloud"))
        );
        assert_eq!(
            hcloud["stringData"]["token"],
            "cluster-token-canary-0123456789abcdef"
        );
        assert_eq!(
            hcloud["stringData"]["network"],
            "catalyst-acme-omani-works-fsn1-net"
        );
        let cc = &items[2]["stringData"];
        assert_eq!(items[2]["metadata"]["name"], "cloud-credentials");
        assert_eq!(cc["hcloud-firewall-name"], "catalyst-acme-omani-works-fsn1-fw");
        assert_eq!(cc["hcloud-ssh-key-name"], "catalyst-acme-omani-works-admin");
        let b64 = cc["hcloud-cloud-init"].as_str().unwrap();
        let back = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            "#cloud-config\nruncmd: [k3s agent]\n"
        );
        let jwk = &items[4];
        assert_eq!(
            (
                jwk["metadata"]["namespace"].as_str(),
                jwk["metadata"]["name"].as_str()
            ),
            (Some("catalyst-system"), Some("catalyst-handover-jwt-public"))
        );
        let published: Value =
            serde_json::from_str(jwk["stringData"]["public.jwk"].as_str().unwrap()).unwrap();
        assert_eq!(published["crv"], "Ed25519");
        let none: Value = serde_json::from_str(creds(false).manifest().expose()).unwrap();
        assert!(none["items"][2]["stringData"].get("hcloud-cloud-init").is_none());
        assert_eq!(none["items"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn the_manifest_never_prints() {
        let m = creds(false).manifest();
        assert_eq!(format!("{m:?}"), "Secret([REDACTED])");
        assert!(!format!("{:?}", creds(false)).contains("canary"));
    }
}
