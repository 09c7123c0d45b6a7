//! The admin public key as the wizard checks it: one OpenSSH line of an
//! algorithm the module and cloud-init accept.

/// Algorithms accepted for the admin key (the OpenTofu module refuses others).
const ACCEPTED: &[&str] = &["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];

pub fn check_public_key(text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.lines().count() > 1 {
        return Err("Paste exactly one public key (one line).".into());
    }
    if t.contains("PRIVATE KEY") {
        return Err("That is a private key. Paste the public key (the .pub file) instead, and keep the private one secret.".into());
    }
    let alg = t.split_whitespace().next().unwrap_or_default();
    if !ACCEPTED.contains(&alg) {
        return Err(format!(
            "\"{alg}\" keys are not accepted; use ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa (2048 bits or more)."
        ));
    }
    let key = ssh_key::PublicKey::from_openssh(t)
        .map_err(|_| "The key did not parse: the base64 part looks truncated or damaged.".to_owned())?;
    if let ssh_key::public::KeyData::Rsa(rsa) = key.key_data() {
        let bits = rsa.n().as_positive_bytes().map(|b| b.len() * 8).unwrap_or(0);
        if bits < 2048 {
            return Err(format!("This RSA key has {bits} bits; at least 2048 are needed."));
        }
    }
    Ok(())
}
