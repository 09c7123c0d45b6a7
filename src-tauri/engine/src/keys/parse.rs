//! Parsing a public key the operator pastes. Accepted: ssh-ed25519,
//! ecdsa-sha2-nistp256 and ssh-rsa of at least 2048 bits, one key in one
//! line. Everything else is refused with a sentence saying what was wrong
//! and what to paste instead. No input makes it panic.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use ssh_key::encoding::base64::{Base64, Encoding};
use ssh_key::{HashAlg, PublicKey};
use ts_rs::TS;

/// Longest input looked at; a 16384-bit RSA key is about 2.8 KB.
const MAX_INPUT: usize = 16 * 1024;
const MIN_RSA_BITS: u32 = 2048;
const MAX_RSA_BITS: u32 = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    Ed25519,
    EcdsaP256,
    Rsa,
}

/// A key that passed every check, normalised to `type base64 comment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ParsedPublicKey {
    pub algorithm: KeyAlgorithm,
    pub bits: u32,
    pub openssh: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error(
        "Nothing was pasted. Paste the one line of your public key file (for example ~/.ssh/id_ed25519.pub)."
    )]
    Empty,
    #[error(
        "The pasted text is far too long for a public key ({0} bytes). Paste only the one line of your .pub file."
    )]
    TooLong(usize),
    #[error(
        "This is a private key. Never share it: paste the public key instead, the one line in the file ending in .pub."
    )]
    PrivateKey,
    #[error(
        "This is a public key in the SSH2 (RFC 4716) format. Convert it with `ssh-keygen -i -f key.pub` and paste the one line it prints."
    )]
    Rfc4716,
    #[error(
        "This is a PEM/PKCS#8 public key, not an OpenSSH one. Convert it with `ssh-keygen -i -m PKCS8 -f key.pem` and paste the line it prints."
    )]
    Pem,
    #[error(
        "This is a key fingerprint, not the key itself. Paste the whole line of the .pub file (it starts with ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa)."
    )]
    Fingerprint,
    #[error("{0} public keys were pasted. Paste exactly one; add further keys after provisioning.")]
    MultipleKeys(usize),
    #[error("The key is split over several lines. Paste it as one single line, as it is in the .pub file.")]
    LineBreaks,
    #[error(
        "The pasted text contains invisible control characters. Copy the key again straight from the .pub file."
    )]
    ControlCharacters,
    #[error(
        "The key starts with authorized_keys options ({0}). Paste the key alone, starting at its type (for example ssh-ed25519)."
    )]
    OptionsPrefix(String),
    #[error(
        "There is text before the key type ({0}), as in a known_hosts line. Paste only the key, starting at its type (for example ssh-ed25519)."
    )]
    LeadingText(String),
    #[error(
        "Only the key data was pasted, without its type. Paste the whole line, starting with ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa."
    )]
    MissingType,
    #[error(
        "The key type and the key data run together; put one space after {0}, or copy the line again from the .pub file."
    )]
    MissingSpace(String),
    #[error(
        "The key type is missing its key data. Paste the whole line of the .pub file: type, key data, comment."
    )]
    MissingKeyData,
    #[error(
        "\"{0}\" is not a known SSH key type. Use an ed25519 key (`ssh-keygen -t ed25519`), ecdsa-sha2-nistp256 or RSA of at least 2048 bits."
    )]
    UnknownAlgorithm(String),
    #[error(
        "DSA (ssh-dss) keys are insecure and refused by current OpenSSH. Create an ed25519 key with `ssh-keygen -t ed25519` and paste that."
    )]
    Dss,
    #[error(
        "ECDSA keys on curve {0} are not accepted; only nistp256 is. Create an ed25519 key with `ssh-keygen -t ed25519` and paste that."
    )]
    EcdsaCurve(String),
    #[error(
        "Security-key (FIDO, sk-…) keys need the hardware token at every login and are not accepted for the admin key. Paste an ed25519, ecdsa-sha2-nistp256 or RSA key."
    )]
    SecurityKey,
    #[error(
        "This is an SSH certificate, not a plain public key. Paste the key itself (the .pub file without -cert in its name)."
    )]
    Certificate,
    #[error(
        "The key data is not valid base64: it contains characters that cannot be part of a key. Copy the key again from the .pub file."
    )]
    InvalidBase64,
    #[error(
        "The key data is cut off. Copy the whole line of the .pub file again, making sure nothing at its end is missing."
    )]
    Truncated,
    #[error(
        "The key says it is {text} but its data is a {inner} key. The line was edited or two keys were mixed; copy it again from the .pub file."
    )]
    AlgorithmMismatch { text: String, inner: String },
    #[error("The key data is damaged ({0}). Copy the whole line of the .pub file again.")]
    Damaged(String),
    #[error(
        "This RSA key has only {0} bits; at least 2048 are required. Create an ed25519 key with `ssh-keygen -t ed25519` and paste that."
    )]
    RsaTooShort(u32),
    #[error("This RSA key has {0} bits, more than the 16384 SSH servers accept. Use an ed25519 key instead.")]
    RsaTooLong(u32),
}

impl KeyParseError {
    pub fn code(&self) -> ErrorCode {
        use KeyParseError::*;
        match self {
            Empty => ErrorCode::KeyEmpty,
            TooLong(_) => ErrorCode::KeyTooLong,
            PrivateKey => ErrorCode::KeyIsPrivate,
            Rfc4716 => ErrorCode::KeyRfc4716Format,
            Pem => ErrorCode::KeyPemFormat,
            Fingerprint => ErrorCode::KeyIsFingerprint,
            MultipleKeys(_) => ErrorCode::KeyMultiple,
            LineBreaks => ErrorCode::KeyLineBreaks,
            ControlCharacters => ErrorCode::KeyControlCharacters,
            OptionsPrefix(_) => ErrorCode::KeyOptionsPrefix,
            LeadingText(_) => ErrorCode::KeyLeadingText,
            MissingType => ErrorCode::KeyMissingType,
            MissingKeyData => ErrorCode::KeyMissingData,
            MissingSpace(_) => ErrorCode::KeyMissingSpace,
            UnknownAlgorithm(_) => ErrorCode::KeyUnknownAlgorithm,
            Dss => ErrorCode::KeyDssRefused,
            EcdsaCurve(_) => ErrorCode::KeyEcdsaCurveRefused,
            SecurityKey => ErrorCode::KeySecurityKeyRefused,
            Certificate => ErrorCode::KeyCertificateRefused,
            InvalidBase64 => ErrorCode::KeyInvalidBase64,
            Truncated => ErrorCode::KeyTruncated,
            AlgorithmMismatch { .. } => ErrorCode::KeyAlgorithmMismatch,
            Damaged(_) => ErrorCode::KeyDamaged,
            RsaTooShort(_) => ErrorCode::KeyRsaTooShort,
            RsaTooLong(_) => ErrorCode::KeyRsaTooLong,
        }
    }

    /// The operator-facing sentence (same as Display).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<KeyParseError> for crate::error::ApiError {
    fn from(e: KeyParseError) -> Self {
        crate::error::ApiError::new(e.code(), e.message())
    }
}

/// authorized_keys options that may precede a key.
const OPTIONS: &[&str] = &[
    "agent-forwarding",
    "cert-authority",
    "command",
    "environment",
    "expiry-time",
    "from",
    "no-agent-forwarding",
    "no-port-forwarding",
    "no-pty",
    "no-user-rc",
    "no-x11-forwarding",
    "no-touch-required",
    "permitlisten",
    "permitopen",
    "port-forwarding",
    "principals",
    "pty",
    "restrict",
    "tunnel",
    "user-rc",
    "verify-required",
    "x11-forwarding",
];

enum TypeClass {
    Accepted,
    Refused(KeyParseError),
}

/// Whether a word names an SSH public key or certificate type.
fn looks_like_key_type(word: &str) -> bool {
    word.starts_with("ssh-")
        || word.starts_with("ecdsa-sha2-")
        || word.starts_with("sk-")
        || word.starts_with("rsa-sha2-")
        || word.ends_with("@openssh.com")
}

fn classify(word: &str) -> TypeClass {
    match word {
        "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ssh-rsa" => TypeClass::Accepted,
        w if w.ends_with("-cert-v01@openssh.com") => TypeClass::Refused(KeyParseError::Certificate),
        w if w.starts_with("sk-") => TypeClass::Refused(KeyParseError::SecurityKey),
        "ssh-dss" => TypeClass::Refused(KeyParseError::Dss),
        w if w.starts_with("ecdsa-sha2-") => TypeClass::Refused(KeyParseError::EcdsaCurve(short(
            w.trim_start_matches("ecdsa-sha2-"),
        ))),
        w => TypeClass::Refused(KeyParseError::UnknownAlgorithm(short(w))),
    }
}

/// Echoes at most 40 printable characters of the operator's input back.
fn short(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    if s.chars().count() > 40 {
        format!("{t}…")
    } else {
        t
    }
}

/// Type ids of real SSH public keys and certificates.
fn is_known_type_id(word: &str) -> bool {
    matches!(
        word,
        "ssh-ed25519"
            | "ssh-rsa"
            | "ssh-dss"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "sk-ssh-ed25519@openssh.com"
            | "sk-ecdsa-sha2-nistp256@openssh.com"
    ) || word.ends_with("-cert-v01@openssh.com")
}

/// Keys in the text: a known type id followed by key data (base64 of an
/// SSH blob always starts with `AAAA`). A comment naming a type is no key.
fn count_keys(text: &str) -> usize {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| is_known_type_id(w[0]) && w[1].starts_with("AAAA"))
        .count()
}

/// `ssh-keygen -l` output or a bare fingerprint (SHA256 or legacy MD5).
fn looks_like_fingerprint(text: &str) -> bool {
    text.split_whitespace().any(|w| {
        if w.starts_with("SHA256:") || w.starts_with("MD5:") {
            return true;
        }
        let parts: Vec<&str> = w.split(':').collect();
        parts.len() == 16
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// Whether the blob ends inside a field. Every public key blob is a run of
/// length-prefixed fields, so a cut shows as a length beyond the end.
fn blob_is_cut(mut blob: &[u8]) -> bool {
    while !blob.is_empty() {
        let Some(len) = blob
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
        else {
            return true;
        };
        match blob.get(4..).and_then(|rest| rest.get(len as usize..)) {
            Some(rest) => blob = rest,
            None => return true,
        }
    }
    false
}

/// Reads the algorithm name at the start of an SSH wire blob.
fn inner_type(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(blob.get(4..4usize.checked_add(len)?)?).ok()
}

/// Bits of a big-endian modulus, as OpenSSH counts them.
fn modulus_bits(n: &[u8]) -> u32 {
    let n: &[u8] = match n.iter().position(|b| *b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    (n.len() as u32 - 1) * 8 + (8 - n[0].leading_zeros())
}

/// Parses one pasted OpenSSH public key line.
pub fn parse_public_key(input: &str) -> Result<ParsedPublicKey, KeyParseError> {
    if input.len() > MAX_INPUT {
        return Err(KeyParseError::TooLong(input.len()));
    }
    let text = input.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(KeyParseError::Empty);
    }
    if text.contains("PRIVATE KEY") || text.starts_with("PuTTY-User-Key-File") {
        return Err(KeyParseError::PrivateKey);
    }
    if text.starts_with("---- BEGIN SSH2 PUBLIC KEY") {
        return Err(KeyParseError::Rfc4716);
    }
    if text.starts_with("-----BEGIN") {
        return Err(KeyParseError::Pem);
    }
    let keys = count_keys(text);
    if keys >= 2 {
        return Err(KeyParseError::MultipleKeys(keys));
    }
    if keys == 0 && looks_like_fingerprint(text) {
        return Err(KeyParseError::Fingerprint);
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.len() > 1 {
        return Err(KeyParseError::LineBreaks);
    }
    let line = lines.first().copied().ok_or(KeyParseError::Empty)?;
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(KeyParseError::ControlCharacters);
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = words.first().copied().ok_or(KeyParseError::Empty)?;
    if !looks_like_key_type(first) {
        let option_name = first.split(['=', ',']).next().unwrap_or("");
        if first.contains('=') || OPTIONS.contains(&option_name) {
            return Err(KeyParseError::OptionsPrefix(short(first)));
        }
        if first.starts_with("AAAA") {
            return Err(KeyParseError::MissingType);
        }
        if keys == 1 {
            return Err(KeyParseError::LeadingText(short(first)));
        }
        return Err(KeyParseError::UnknownAlgorithm(short(first)));
    }
    if let Some(t) = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]
        .into_iter()
        .find(|t| first.len() > t.len() && first.starts_with(t) && first[t.len()..].starts_with("AAAA"))
    {
        return Err(KeyParseError::MissingSpace(t.to_owned()));
    }
    if let TypeClass::Refused(e) = classify(first) {
        return Err(e);
    }
    let data = words.get(1).copied().ok_or(KeyParseError::MissingKeyData)?;
    let comment = words.get(2..).map(|w| w.join(" ")).unwrap_or_default();
    if !data
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    {
        return Err(KeyParseError::InvalidBase64);
    }
    let blob = match Base64::decode_vec(data) {
        Ok(b) => b,
        // Every character is from the alphabet, so a failure is a wrong length or padding.
        Err(_) => return Err(KeyParseError::Truncated),
    };
    if blob_is_cut(&blob) {
        return Err(KeyParseError::Truncated);
    }
    let Some(inner) = inner_type(&blob) else {
        return Err(KeyParseError::Damaged("the key type inside is unreadable".into()));
    };
    if inner != first {
        return Err(KeyParseError::AlgorithmMismatch {
            text: first.to_owned(),
            inner: short(inner),
        });
    }
    // The blob is whole (checked above), so what ssh-key refuses is damage.
    let key = PublicKey::from_openssh(&format!("{first} {data}")).map_err(|e| match e {
        ssh_key::Error::Encoding(ssh_key::encoding::Error::Length) => {
            KeyParseError::Damaged("a part of the key has the wrong length".into())
        }
        ssh_key::Error::TrailingData { remaining } => {
            KeyParseError::Damaged(format!("{remaining} extra bytes after the key"))
        }
        other => KeyParseError::Damaged(other.to_string()),
    })?;
    let (algorithm, bits) = match key.key_data() {
        k if k.is_ed25519() => (KeyAlgorithm::Ed25519, 256),
        k if k.ecdsa().is_some() => (KeyAlgorithm::EcdsaP256, 256),
        k => match k.rsa() {
            Some(rsa) => {
                let bits = modulus_bits(rsa.n().as_bytes());
                if bits < MIN_RSA_BITS {
                    return Err(KeyParseError::RsaTooShort(bits));
                }
                if bits > MAX_RSA_BITS {
                    return Err(KeyParseError::RsaTooLong(bits));
                }
                (KeyAlgorithm::Rsa, bits)
            }
            None => return Err(KeyParseError::UnknownAlgorithm(short(first))),
        },
    };
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let openssh = if comment.is_empty() {
        format!("{first} {data}")
    } else {
        format!("{first} {data} {comment}")
    };
    Ok(ParsedPublicKey {
        algorithm,
        bits,
        openssh,
        fingerprint,
        comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_counts_like_openssh() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0x00]), 9);
        assert_eq!(modulus_bits(&[0x00]), 0);
        assert_eq!(modulus_bits(&[]), 0);
    }

    #[test]
    fn cut_blobs_are_told_from_whole_ones() {
        assert!(!blob_is_cut(&[0, 0, 0, 1, 9, 0, 0, 0, 0]));
        assert!(blob_is_cut(&[0, 0, 0, 2, 9]));
        assert!(blob_is_cut(&[0, 0, 0, 1, 9, 0, 0]));
        assert!(blob_is_cut(&[0xff, 0xff, 0xff, 0xff, 1]));
        assert!(!blob_is_cut(&[]));
    }

    #[test]
    fn inner_type_never_reads_out_of_bounds() {
        assert_eq!(inner_type(&[0, 0, 0, 3, b'a', b'b', b'c', 9]), Some("abc"));
        assert_eq!(inner_type(&[0, 0, 0, 9, b'a']), None);
        assert_eq!(inner_type(&[0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(inner_type(&[0, 0]), None);
    }

    #[test]
    fn a_generated_key_parses_back_with_its_fingerprint() {
        let k = super::super::generate_admin_key("x.example").unwrap();
        let p = parse_public_key(&format!("  {}\n", k.public_openssh())).unwrap();
        assert_eq!(p.algorithm, KeyAlgorithm::Ed25519);
        assert_eq!(p.fingerprint, k.fingerprint());
        assert_eq!(p.openssh, k.public_openssh());
        assert_eq!(p.comment, "catalyst@x.example");
    }

    #[test]
    fn random_bytes_never_panic() {
        use rand::{Rng, RngCore};
        let mut rng = rand::rng();
        let k = super::super::generate_admin_key("f.example").unwrap();
        let good = k.public_openssh().to_owned();
        for i in 0..3000 {
            let input = match i % 3 {
                0 => {
                    let mut b = vec![0u8; rng.random_range(0..200)];
                    rng.fill_bytes(&mut b);
                    String::from_utf8_lossy(&b).into_owned()
                }
                1 => {
                    // Flip one character of a good key.
                    let mut b = good.clone().into_bytes();
                    let at = rng.random_range(0..b.len());
                    b[at] = rng.random_range(0x20..0x7f);
                    String::from_utf8_lossy(&b).into_owned()
                }
                _ => {
                    let cut = rng.random_range(0..good.len());
                    good[..cut].to_owned()
                }
            };
            let _ = parse_public_key(&input);
        }
    }
}
