//! Which cloud objects belong to a Sovereign: its label, the names the
//! module and the cluster give (`catalyst-<slug>…`, `<slug>-…`), an SSH key
//! whose comment names the FQDN. Every match needs a boundary after the
//! name, so wiping `t2` never touches `t20`. Anything named `bastion` is
//! never ours to delete (operators keep jump hosts in the same project).

use crate::hetzner::{ResourceKind, ResourceRef};

pub const SOVEREIGN_LABEL: &str = "catalyst.openova.io/sovereign";

/// Why an object is taken as the Sovereign's: the pass that finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Label,
    NamePrefix,
    KeyComment,
}

impl Match {
    pub fn describe(self) -> &'static str {
        match self {
            Match::Label => "by label",
            Match::NamePrefix => "by name",
            Match::KeyComment => "by SSH key comment",
        }
    }
}

/// `t2.omani.works` → `t2-omani-works`, as the module names resources.
pub fn slug(fqdn: &str) -> String {
    fqdn.replace('.', "-")
}

pub fn label_selector(fqdn: &str) -> String {
    format!("{SOVEREIGN_LABEL}={fqdn}")
}

pub fn is_bastion(name: &str) -> bool {
    name.to_ascii_lowercase().contains("bastion")
}

fn boundary(c: Option<char>) -> bool {
    matches!(c, None | Some('-' | '.' | '@' | '_' | ' '))
}

/// `name` starts with `prefix` and the prefix ends at a boundary.
fn starts_at_boundary(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| boundary(rest.chars().next()))
}

/// The names this Sovereign's resources carry: `catalyst-<slug>` (the
/// module) and `<slug>-…` (the cloud controller's load balancers, e.g.
/// `<slug>-fsn1-clustermesh`).
pub fn name_matches(fqdn: &str, name: &str) -> bool {
    let s = slug(fqdn);
    // `<slug>-` ends in its own boundary.
    starts_at_boundary(name, &format!("catalyst-{s}")) || name.starts_with(&format!("{s}-"))
}

/// The comment of an OpenSSH public key line (everything after the key).
fn key_comment(public_key: &str) -> &str {
    let mut parts = public_key.trim().splitn(3, char::is_whitespace);
    let _ = (parts.next(), parts.next());
    parts.next().unwrap_or("").trim()
}

/// The key's comment names the FQDN (or its slug) as a whole word:
/// `admin@t2.omani.works` matches t2, `admin@t20.omani.works` does not.
pub fn comment_matches(fqdn: &str, public_key: &str) -> bool {
    let comment = key_comment(public_key).to_ascii_lowercase();
    [fqdn.to_ascii_lowercase(), slug(fqdn)].iter().any(|needle| {
        comment.match_indices(needle.as_str()).any(|(i, _)| {
            let before = comment[..i].chars().next_back();
            let after = comment[i + needle.len()..].chars().next();
            boundary(before) && boundary(after)
        })
    })
}

/// Why `r` is this Sovereign's, or `None` (never for a bastion).
pub fn owned(fqdn: &str, r: &ResourceRef) -> Option<Match> {
    if is_bastion(&r.name) {
        return None;
    }
    if r.labels.get(SOVEREIGN_LABEL).map(String::as_str) == Some(fqdn) {
        return Some(Match::Label);
    }
    if name_matches(fqdn, &r.name) {
        return Some(Match::NamePrefix);
    }
    if r.kind == ResourceKind::SshKey && comment_matches(fqdn, r.public_key.as_deref().unwrap_or("")) {
        return Some(Match::KeyComment);
    }
    None
}

/// `server catalyst-t2-omani-works-fsn1 (id 1003)`.
pub fn describe(r: &ResourceRef) -> String {
    let kind = r.kind.collection().trim_end_matches('s').replace('_', " ");
    if r.name.is_empty() {
        format!("{kind} (id {})", r.id)
    } else {
        format!("{kind} {} (id {})", r.name, r.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn res(kind: ResourceKind, name: &str, label: Option<&str>, key: Option<&str>) -> ResourceRef {
        let mut labels = BTreeMap::new();
        if let Some(l) = label {
            labels.insert(SOVEREIGN_LABEL.to_owned(), l.to_owned());
        }
        ResourceRef {
            kind,
            id: 7,
            name: name.into(),
            labels,
            public_key: key.map(str::to_owned),
        }
    }

    #[test]
    fn t2_never_takes_what_belongs_to_t20() {
        let t2 = "t2.omani.works";
        for name in [
            "catalyst-t20-omani-works-fsn1",
            "t20-omani-works-fsn1-clustermesh",
            "catalyst-t2-omani-worksx",
            "xt2-omani-works-lb",
        ] {
            assert!(!name_matches(t2, name), "{name}");
        }
        for name in [
            "catalyst-t2-omani-works-fsn1",
            "catalyst-t2-omani-works",
            "t2-omani-works-fsn1-clustermesh",
        ] {
            assert!(name_matches(t2, name), "{name}");
        }
        let by_label20 = res(ResourceKind::Server, "x", Some("t20.omani.works"), None);
        assert_eq!(owned(t2, &by_label20), None);
    }

    #[test]
    fn key_comments_match_only_as_whole_words() {
        let t2 = "t2.omani.works";
        assert!(comment_matches(t2, "ssh-ed25519 AAAA admin@t2.omani.works"));
        assert!(comment_matches(
            t2,
            "ssh-ed25519 AAAA catalyst t2-omani-works key"
        ));
        assert!(!comment_matches(t2, "ssh-ed25519 AAAA admin@t20.omani.works"));
        assert!(!comment_matches(t2, "ssh-ed25519 AAAA admin@xt2.omani.works"));
        // The key body is not a comment, whatever it contains.
        assert!(!comment_matches(t2, "ssh-ed25519 t2.omani.works"));
        let k = res(
            ResourceKind::SshKey,
            "laptop",
            None,
            Some("ssh-ed25519 AAAA op@t2.omani.works"),
        );
        assert_eq!(owned(t2, &k), Some(Match::KeyComment));
        let s = res(ResourceKind::Server, "laptop", None, Some("op@t2.omani.works"));
        assert_eq!(owned(t2, &s), None);
    }

    #[test]
    fn a_bastion_is_never_owned_even_with_our_label_or_prefix() {
        let t2 = "t2.omani.works";
        let b = res(
            ResourceKind::Server,
            "catalyst-t2-omani-works-Bastion",
            Some(t2),
            None,
        );
        assert_eq!(owned(t2, &b), None);
        let lab = res(ResourceKind::Firewall, "fw", Some(t2), None);
        assert_eq!(owned(t2, &lab), Some(Match::Label));
        assert_eq!(describe(&lab), "firewall fw (id 7)");
        let ip = res(ResourceKind::PrimaryIp, "", Some(t2), None);
        assert_eq!(describe(&ip), "primary ip (id 7)");
    }
}
