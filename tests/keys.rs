//! Keys against OpenSSH itself: the generated admin and host keys are read
//! by the real `ssh-keygen` with the same fingerprint, the fake Hetzner API
//! accepts them, keys made by `ssh-keygen` parse, and 40+ bad inputs each get
//! their own clear sentence without a panic.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use catalyst_provisioner::engine::hetzner::{HetznerClient, HetznerConfig, Repeat};
use catalyst_provisioner::engine::keys::{
    GeneratedKey, KeyAlgorithm, SaveDialog, export_private_key, generate_admin_key, generate_host_key,
    parse_public_key, suggested_key_file_name,
};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RW_TOKEN};
use serde_json::{Value, json};

fn ssh_keygen(args: &[&str]) -> String {
    let out = Command::new("ssh-keygen")
        .args(args)
        .output()
        .expect("ssh-keygen (Debian openssh-client) must be installed");
    assert!(
        out.status.success(),
        "ssh-keygen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Makes a key with ssh-keygen; returns (private path, public line).
fn keygen(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut all = vec!["-q", "-N", "", "-C", name, "-f", path.to_str().unwrap()];
    all.extend_from_slice(args);
    ssh_keygen(&all);
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

struct To(PathBuf, RefCell<Option<String>>);
impl SaveDialog for To {
    fn pick_save_path(&self, suggested_name: &str) -> Option<PathBuf> {
        *self.1.borrow_mut() = Some(suggested_name.to_owned());
        Some(self.0.clone())
    }
}

/// `ssh-keygen -l` output: (bits, fingerprint, rest).
fn keygen_fingerprint(file: &Path, hash: &str) -> (u32, String, String) {
    let out = ssh_keygen(&["-l", "-E", hash, "-f", file.to_str().unwrap()]);
    let mut w = out.split_whitespace();
    let bits = w.next().unwrap().parse().unwrap();
    let fp = w.next().unwrap().to_owned();
    (bits, fp, w.collect::<Vec<_>>().join(" "))
}

fn check_with_openssh(key: &GeneratedKey, dir: &Path, name: &str, comment: &str) {
    let pub_path = dir.join(format!("{name}.pub"));
    std::fs::write(&pub_path, format!("{}\n", key.public_openssh())).unwrap();
    let (bits, fp, rest) = keygen_fingerprint(&pub_path, "sha256");
    assert_eq!(bits, 256);
    assert_eq!(fp, key.fingerprint(), "ssh-keygen computes another fingerprint");
    assert_eq!(rest, format!("{comment} (ED25519)"));
    // The private key, exported as the operator would, derives the same public key.
    let priv_path = dir.join(name);
    let dialog = To(priv_path.clone(), RefCell::new(None));
    let nothing = catalyst_provisioner::engine::store::target::Protected {
        dirs: Vec::new(),
        allowed: Vec::new(),
    };
    let saved = export_private_key(&dialog, &suggested_key_file_name("x.example"), key, &nothing).unwrap();
    assert_eq!(saved.as_deref(), Some(priv_path.as_path()));
    let derived = ssh_keygen(&["-y", "-f", priv_path.to_str().unwrap()]);
    let two = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(two(&derived), two(key.public_openssh()));
    let (_, fp_priv, _) = keygen_fingerprint(&priv_path, "sha256");
    assert_eq!(fp_priv, key.fingerprint());
}

#[test]
fn generated_admin_and_host_keys_are_what_openssh_reads() {
    let dir = tempfile::tempdir().unwrap();
    let admin = generate_admin_key("omantel.openova.io").unwrap();
    check_with_openssh(&admin, dir.path(), "admin", "catalyst@omantel.openova.io");
    let host = generate_host_key("omantel.openova.io").unwrap();
    check_with_openssh(&host, dir.path(), "host", "root@omantel.openova.io");
    assert_ne!(admin.fingerprint(), host.fingerprint());
    // The app's own parser agrees with itself and with OpenSSH.
    let parsed = parse_public_key(admin.public_openssh()).unwrap();
    assert_eq!(parsed.fingerprint, admin.fingerprint());
}

#[tokio::test]
async fn the_fake_hetzner_api_accepts_the_generated_key_with_openssh_md5_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeHetzner::start(FakeConfig::default()).await;
    let c = HetznerClient::new(HetznerConfig::with_base_url(fake.base_url()), RW_TOKEN).unwrap();
    let key = generate_admin_key("up.example").unwrap();
    let v: Value = c
        .post(
            "/ssh_keys",
            &json!({"name": "catalyst-up-admin", "public_key": key.public_openssh()}),
            Repeat::Once,
        )
        .await
        .unwrap();
    let pub_path = dir.path().join("k.pub");
    std::fs::write(&pub_path, key.public_openssh()).unwrap();
    let (_, md5, _) = keygen_fingerprint(&pub_path, "md5");
    assert_eq!(
        format!("MD5:{}", v["ssh_key"]["fingerprint"].as_str().unwrap()),
        md5
    );
    assert_eq!(v["ssh_key"]["public_key"], key.public_openssh());
    assert_eq!(fake.inventory().count("ssh_keys"), 1);
    fake.shutdown().await;
}

#[test]
fn keys_made_by_ssh_keygen_parse_with_the_same_fingerprint_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], KeyAlgorithm, u32); 5] = [
        ("ed", &["-t", "ed25519"], KeyAlgorithm::Ed25519, 256),
        (
            "ec256",
            &["-t", "ecdsa", "-b", "256"],
            KeyAlgorithm::EcdsaP256,
            256,
        ),
        ("rsa2048", &["-t", "rsa", "-b", "2048"], KeyAlgorithm::Rsa, 2048),
        ("rsa3072", &["-t", "rsa"], KeyAlgorithm::Rsa, 3072),
        ("rsa4096", &["-t", "rsa", "-b", "4096"], KeyAlgorithm::Rsa, 4096),
    ];
    for (name, args, alg, bits) in cases {
        let (path, line) = keygen(dir.path(), name, args);
        let (kbits, fp, _) = keygen_fingerprint(&path.with_extension("pub"), "sha256");
        for variant in [
            line.clone(),
            format!("{line}\r\n"),
            format!("  {line}   "),
            line.split_whitespace().take(2).collect::<Vec<_>>().join(" "),
            format!("{line} with spaces in the comment"),
        ] {
            let p = parse_public_key(&variant).unwrap_or_else(|e| panic!("{name} {variant:?}: {e}"));
            assert_eq!((p.algorithm, p.bits), (alg, bits), "{name}");
            assert_eq!(p.bits, kbits);
            assert_eq!(p.fingerprint, fp, "{name}");
            assert!(p.openssh.starts_with(&line[..line.find(' ').unwrap()]));
        }
    }
}

// ---- building odd blobs by hand ----

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_decode(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let vals: Vec<u32> = s
        .bytes()
        .filter(|c| *c != b'=')
        .map(|c| T.iter().position(|t| *t == c).unwrap() as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn ssh_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

fn blob(parts: &[&[u8]]) -> String {
    let mut out = Vec::new();
    for p in parts {
        ssh_string(&mut out, p);
    }
    b64(&out)
}

#[test]
fn forty_plus_bad_inputs_each_get_their_own_sentence_and_nothing_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (ed_priv, ed) = keygen(dir.path(), "ed", &["-t", "ed25519"]);
    let (_, rsa) = keygen(dir.path(), "rsa", &["-t", "rsa", "-b", "2048"]);
    let (rsa_pem_priv, _) = keygen(dir.path(), "rsapem", &["-t", "rsa", "-b", "2048", "-m", "PEM"]);
    let (_, ec256) = keygen(dir.path(), "ec256", &["-t", "ecdsa", "-b", "256"]);
    let (_, ec384) = keygen(dir.path(), "ec384", &["-t", "ecdsa", "-b", "384"]);
    let (_, ec521) = keygen(dir.path(), "ec521", &["-t", "ecdsa", "-b", "521"]);
    let (_, rsa1024) = keygen(dir.path(), "rsa1024", &["-t", "rsa", "-b", "1024"]);
    let (_, dsa) = keygen(dir.path(), "dsa", &["-t", "dsa"]);
    let (ca, _) = keygen(dir.path(), "ca", &["-t", "ed25519"]);
    ssh_keygen(&[
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "operator",
        "-n",
        "root",
        dir.path().join("ed.pub").to_str().unwrap(),
    ]);
    let cert = std::fs::read_to_string(dir.path().join("ed-cert.pub")).unwrap();
    let ed_private = std::fs::read_to_string(&ed_priv).unwrap();
    let rsa_pem_private = std::fs::read_to_string(&rsa_pem_priv).unwrap();
    let rfc4716 = ssh_keygen(&["-e", "-f", dir.path().join("ed.pub").to_str().unwrap()]);
    let pkcs8 = ssh_keygen(&[
        "-e",
        "-m",
        "PKCS8",
        "-f",
        dir.path().join("rsa.pub").to_str().unwrap(),
    ]);
    let keygen_l = ssh_keygen(&["-l", "-f", dir.path().join("ed.pub").to_str().unwrap()]);
    let sha_only = keygen_l.split_whitespace().nth(1).unwrap().to_owned();
    let md5_only = ssh_keygen(&[
        "-l",
        "-E",
        "md5",
        "-f",
        dir.path().join("ed.pub").to_str().unwrap(),
    ])
    .split_whitespace()
    .nth(1)
    .unwrap()
    .trim_start_matches("MD5:")
    .to_owned();

    let ed_data = ed.split_whitespace().nth(1).unwrap().to_owned();
    let ed_raw = b64_decode(&ed_data);
    let rsa_data = rsa.split_whitespace().nth(1).unwrap().to_owned();
    let mut rsa_trailing = b64_decode(&rsa_data);
    rsa_trailing.extend_from_slice(&[0, 0, 0, 1, 7]);
    let mut huge_n = vec![0x01u8];
    huge_n.extend(std::iter::repeat_n(0xabu8, 2048));
    let ed_31 = blob(&[b"ssh-ed25519", &[7u8; 31]]);
    let ec_wrong_curve = blob(&[b"ecdsa-sha2-nistp256", b"nistp384", &[4u8; 97]]);
    let sk_ed = blob(&[b"sk-ssh-ed25519@openssh.com", &[1u8; 32], b"ssh:"]);
    let sk_ec = blob(&[
        b"sk-ecdsa-sha2-nistp256@openssh.com",
        b"nistp256",
        &[4u8; 65],
        b"ssh:",
    ]);
    let mut bad_utf8 = Vec::new();
    ssh_string(&mut bad_utf8, &[0xff, 0xfe, 0xfd]);
    let (line_a, line_b) = ed.split_at(40);

    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "key_empty"),
        ("only whitespace", "   \n\t  \r\n".into(), "key_empty"),
        ("byte order mark only", "\u{feff}".into(), "key_empty"),
        ("far too long", "A".repeat(20_000), "key_too_long"),
        ("openssh private key", ed_private.clone(), "key_is_private"),
        ("PEM RSA private key", rsa_pem_private, "key_is_private"),
        (
            "private key without its last line",
            ed_private.lines().take(3).collect::<Vec<_>>().join("\n"),
            "key_is_private",
        ),
        (
            "PuTTY private key",
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n".into(),
            "key_is_private",
        ),
        ("RFC 4716 public key", rfc4716, "key_rfc4716_format"),
        ("PKCS8 PEM public key", pkcs8, "key_pem_format"),
        ("ssh-keygen -l output", keygen_l.clone(), "key_is_fingerprint"),
        ("bare SHA256 fingerprint", sha_only, "key_is_fingerprint"),
        ("bare MD5 fingerprint", md5_only, "key_is_fingerprint"),
        ("two keys on two lines", format!("{ed}\n{rsa}"), "key_multiple"),
        ("two keys on one line", format!("{ed} {rsa}"), "key_multiple"),
        (
            "authorized_keys with a comment line",
            format!("# laptop\n{ed}\n# work\n{ec256}\n"),
            "key_multiple",
        ),
        ("three keys", format!("{ed}\n{rsa}\n{ec256}"), "key_multiple"),
        (
            "key broken over two lines",
            format!("{line_a}\n{line_b}"),
            "key_line_breaks",
        ),
        (
            "key plus a stray line",
            format!("{ed}\nthanks!"),
            "key_line_breaks",
        ),
        (
            "bell character in the comment",
            format!("{ed}\u{7}x"),
            "key_control_characters",
        ),
        (
            "NUL inside",
            format!("{}\0{}", &ed[..20], &ed[20..]),
            "key_control_characters",
        ),
        (
            "command= option",
            format!("command=\"echo hi\" {ed}"),
            "key_options_prefix",
        ),
        ("no-pty option", format!("no-pty {ed}"), "key_options_prefix"),
        (
            "from= and more options",
            format!("from=\"10.0.0.0/8\",no-agent-forwarding {rsa}"),
            "key_options_prefix",
        ),
        ("restrict option", format!("restrict {ed}"), "key_options_prefix"),
        (
            "known_hosts line",
            format!("host.example.com {ed}"),
            "key_leading_text",
        ),
        (
            "known_hosts line with port",
            format!("[host.example.com]:2222 {ec256}"),
            "key_leading_text",
        ),
        ("only the key data", ed_data.clone(), "key_missing_type"),
        ("only the type", "ssh-ed25519".into(), "key_missing_data"),
        (
            "type and data run together",
            format!("ssh-ed25519{ed_data}"),
            "key_missing_space",
        ),
        (
            "invented type",
            format!("ssh-foo {ed_data}"),
            "key_unknown_algorithm",
        ),
        ("plain words", "hello world".into(), "key_unknown_algorithm"),
        (
            "signature algorithm name",
            format!("rsa-sha2-512 {rsa_data}"),
            "key_unknown_algorithm",
        ),
        (
            "ed448",
            "ssh-ed448 AAAACXNzaC1lZDQ0OA==".into(),
            "key_unknown_algorithm",
        ),
        ("DSA key", dsa, "key_dss_refused"),
        ("ECDSA P-384", ec384, "key_ecdsa_curve_refused"),
        ("ECDSA P-521", ec521, "key_ecdsa_curve_refused"),
        (
            "FIDO ed25519",
            format!("sk-ssh-ed25519@openssh.com {sk_ed} yubikey"),
            "key_security_key_refused",
        ),
        (
            "FIDO ecdsa",
            format!("sk-ecdsa-sha2-nistp256@openssh.com {sk_ec}"),
            "key_security_key_refused",
        ),
        ("OpenSSH certificate", cert, "key_certificate_refused"),
        (
            "exclamation mark in data",
            format!("ssh-ed25519 {}!{}", &ed_data[..30], &ed_data[31..]),
            "key_invalid_base64",
        ),
        (
            "URL-safe base64",
            format!("ssh-ed25519 {}-_{}", &ed_data[..30], &ed_data[32..]),
            "key_invalid_base64",
        ),
        (
            "non-ASCII in data",
            format!("ssh-ed25519 {}é", &ed_data[..40]),
            "key_invalid_base64",
        ),
        (
            "data cut by 10 characters",
            format!("ssh-ed25519 {}", &ed_data[..ed_data.len() - 10]),
            "key_truncated",
        ),
        (
            "data cut to a multiple of 4",
            format!("ssh-ed25519 {}", &ed_data[..60]),
            "key_truncated",
        ),
        (
            "data cut to its first bytes",
            "ssh-ed25519 AAAAC3".into(),
            "key_truncated",
        ),
        (
            "type text says rsa, data is ed25519",
            format!("ssh-rsa {ed_data}"),
            "key_algorithm_mismatch",
        ),
        (
            "type text says ecdsa, data is ed25519",
            format!("ecdsa-sha2-nistp256 {ed_data} x"),
            "key_algorithm_mismatch",
        ),
        (
            "ed25519 key of 31 bytes",
            format!("ssh-ed25519 {ed_31}"),
            "key_damaged",
        ),
        (
            "ecdsa with the wrong curve inside",
            format!("ecdsa-sha2-nistp256 {ec_wrong_curve}"),
            "key_damaged",
        ),
        (
            "extra bytes after an RSA key",
            format!("ssh-rsa {}", b64(&rsa_trailing)),
            "key_damaged",
        ),
        (
            "type name not UTF-8",
            format!("ssh-ed25519 {}", b64(&bad_utf8)),
            "key_damaged",
        ),
        ("RSA 1024", rsa1024, "key_rsa_too_short"),
        (
            "RSA over 16384 bits",
            format!("ssh-rsa {}", blob(&[b"ssh-rsa", &[1, 0, 1], &huge_n])),
            "key_rsa_too_long",
        ),
    ];
    assert!(cases.len() >= 40, "{}", cases.len());
    assert_eq!(ed_raw.len(), 51, "the ed25519 blob decodes as expected");

    let mut by_code: BTreeMap<&str, String> = BTreeMap::new();
    for (what, input, code) in &cases {
        let result = std::panic::catch_unwind(|| parse_public_key(input));
        let Ok(result) = result else {
            panic!("{what}: the parser panicked");
        };
        let e = match result {
            Ok(k) => panic!("{what}: accepted as {k:?}"),
            Err(e) => e,
        };
        assert_eq!(e.code(), *code, "{what}: got {:?} ({e})", e.code());
        let msg = e.message();
        println!("{what:<42} {code:<26} {msg}");
        assert!(
            msg.len() > 40 && msg.ends_with('.'),
            "{what}: weak message {msg:?}"
        );
        assert!(
            !msg.contains(&ed_data),
            "{what}: the message repeats the pasted key"
        );
        // The sentence up to the first variable part identifies the class.
        let class_text: String = msg.chars().take(25).collect();
        by_code.entry(code).or_insert(class_text);
    }
    let distinct: std::collections::BTreeSet<&String> = by_code.values().collect();
    println!("{} bad inputs in {} classes", cases.len(), by_code.len());
    assert!(by_code.len() >= 20, "{by_code:?}");
    assert_eq!(
        distinct.len(),
        by_code.len(),
        "two classes share a sentence: {by_code:#?}"
    );
}
