//! The secrets a run uses, kept under the deployment's own name. The wizard
//! keeps one draft copy (token, generated admin key, registrar credential);
//! a live run copies them when it starts, so a later wizard with another
//! token or key never changes what a resume or a wipe of this deployment uses.

use crate::credentials::DRAFT_OWNER;
use crate::secrets::names::registrar as registrar_secret_name;
use crate::secrets::{SecretError, SecretStore, names};
use crate::wizard::WizardAnswers;
use crate::wizard::model::{ClusterToken, DomainMode, SshKeyMode};

/// How a secret of some kind is named for an owner (a deployment id or the draft).
pub type NameOf = fn(&str) -> String;

/// The kinds of draft secret a run with these answers needs.
pub fn kinds(a: &WizardAnswers) -> Vec<NameOf> {
    let mut out: Vec<NameOf> = vec![names::hetzner_token];
    if a.credentials.ssh_key_mode == SshKeyMode::Generate {
        out.push(names::admin_private_key);
    }
    if a.domain.mode == DomainMode::ByoApi {
        out.push(registrar_secret_name);
    }
    if a.credentials.cluster_token == ClusterToken::Separate {
        out.push(names::cluster_token);
    }
    out
}

/// Copies the draft's secrets to the deployment `id`. A draft secret that is
/// missing is skipped: preflight then says which one and what to do.
pub fn adopt(store: &dyn SecretStore, id: &str, a: &WizardAnswers) -> Result<usize, SecretError> {
    let mut copied = 0;
    for name_of in kinds(a) {
        if let Some(v) = store.get(&name_of(DRAFT_OWNER))? {
            store.set(&name_of(id), &v)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// The deployment's own copy; the draft's for runs recorded before runs kept copies.
pub fn lookup(store: &dyn SecretStore, name_of: NameOf, id: &str) -> Result<Option<String>, SecretError> {
    match store.get(&name_of(id))? {
        Some(v) => Ok(Some(v)),
        None => store.get(&name_of(DRAFT_OWNER)),
    }
}

/// Removes every secret kept under the deployment's name: its copies of the
/// wizard's secrets and those the run generated (after a clean wipe).
/// Carries on past a failed delete and returns the first error.
pub fn forget(store: &dyn SecretStore, id: &str) -> Result<(), SecretError> {
    let mut first = None;
    for name_of in [
        names::hetzner_token as NameOf,
        names::cluster_token,
        names::handover_key,
        names::admin_private_key,
        names::host_private_key,
        registrar_secret_name,
        names::k3s_token,
        names::state_passphrase,
    ] {
        if let Err(e) = store.delete(&name_of(id)) {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;

    fn answers(generate: bool, byo_api: bool) -> WizardAnswers {
        let mut a = WizardAnswers::default();
        a.credentials.ssh_key_mode = if generate {
            SshKeyMode::Generate
        } else {
            SshKeyMode::Paste
        };
        a.domain.mode = if byo_api {
            DomainMode::ByoApi
        } else {
            DomainMode::Pool
        };
        a
    }

    #[test]
    fn a_separate_cluster_token_is_copied_and_forgotten_with_the_run() {
        let s = MemoryStore::new();
        s.set("hetzner-token/draft", "token-one-aaaaaaaaaaaaaaaa")
            .unwrap();
        s.set("cluster-token/draft", "cluster-one-ffffffffffffffff")
            .unwrap();
        let mut a = answers(true, false);
        assert_eq!(
            adopt(&s, "d1", &a).unwrap(),
            1,
            "the cluster uses the provisioning token"
        );
        a.credentials.cluster_token = ClusterToken::Separate;
        assert_eq!(adopt(&s, "d2", &a).unwrap(), 2);
        assert_eq!(
            lookup(&s, names::cluster_token, "d2").unwrap().as_deref(),
            Some("cluster-one-ffffffffffffffff")
        );
        forget(&s, "d2").unwrap();
        assert_eq!(s.get("cluster-token/d2").unwrap(), None);
    }

    #[test]
    fn a_run_keeps_its_own_copy_when_the_draft_changes() {
        let s = MemoryStore::new();
        s.set("hetzner-token/draft", "token-one-aaaaaaaaaaaaaaaa")
            .unwrap();
        s.set("admin-key/draft", "key-one-bbbbbbbbbbbbbbbbbbbb").unwrap();
        s.set("registrar/draft", "reg-one-cccccccccccccccccc").unwrap();
        assert_eq!(adopt(&s, "d1", &answers(true, true)).unwrap(), 3);
        // The operator starts another wizard with another token.
        s.set("hetzner-token/draft", "token-two-dddddddddddddddd")
            .unwrap();
        assert_eq!(
            lookup(&s, names::hetzner_token, "d1").unwrap().as_deref(),
            Some("token-one-aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            lookup(&s, registrar_secret_name, "d1").unwrap().as_deref(),
            Some("reg-one-cccccccccccccccccc")
        );
        s.set("k3s-token/d1", "k3s-token-eeeeeeeeeeeeeeeeeeee").unwrap();
        forget(&s, "d1").unwrap();
        assert_eq!(s.get("hetzner-token/d1").unwrap(), None);
        assert_eq!(s.get("k3s-token/d1").unwrap(), None);
        // Older runs without copies still find the draft's.
        assert_eq!(
            lookup(&s, names::hetzner_token, "d1").unwrap().as_deref(),
            Some("token-two-dddddddddddddddd")
        );
    }

    #[test]
    fn only_what_the_answers_need_is_copied() {
        let s = MemoryStore::new();
        s.set("hetzner-token/draft", "token-one-aaaaaaaaaaaaaaaa")
            .unwrap();
        s.set("admin-key/draft", "key-one-bbbbbbbbbbbbbbbbbbbb").unwrap();
        s.set("registrar/draft", "reg-one-cccccccccccccccccc").unwrap();
        assert_eq!(adopt(&s, "d2", &answers(false, false)).unwrap(), 1);
        assert_eq!(s.get("admin-key/d2").unwrap(), None);
        assert_eq!(s.get("registrar/d2").unwrap(), None);
    }
}
