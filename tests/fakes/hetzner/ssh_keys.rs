//! SSH keys: creation, and the public-key checks and MD5 fingerprint Hetzner gives.
use super::*;

pub(super) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, chunk) in b.chunks(4).enumerate() {
        let last = i == b.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, c) in chunk.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { val(*c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// MD5 (RFC 1321), for the colon-hex fingerprint Hetzner shows for SSH keys.
pub(super) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15,
        21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// Checks an OpenSSH public key line the way Hetzner does (type, base64
/// blob whose inner type matches) and returns its MD5 fingerprint.
pub(super) fn ssh_key_fingerprint(public_key: &str) -> Option<String> {
    let mut words = public_key.split_whitespace();
    let kind = words.next()?;
    let blob = b64_decode(words.next()?)?;
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let inner = std::str::from_utf8(blob.get(4..4 + len)?).ok()?;
    if inner != kind
        || !matches!(
            kind,
            "ssh-ed25519"
                | "ssh-rsa"
                | "ecdsa-sha2-nistp256"
                | "ecdsa-sha2-nistp384"
                | "ecdsa-sha2-nistp521"
                | "ssh-dss"
        )
    {
        return None;
    }
    let hex: Vec<String> = md5(&blob).iter().map(|b| format!("{b:02x}")).collect();
    Some(hex.join(":"))
}

pub(super) fn create_ssh_key(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let name = str_field(body, "name");
    let pk = str_field(body, "public_key");
    let (name, pk) = match (name, pk) {
        (Some(n), Some(p)) => (n, p),
        (None, None) => return missing(&["name", "public_key"]),
        (None, _) => return missing(&["name"]),
        (_, None) => return missing(&["public_key"]),
    };
    let Some(fp) = ssh_key_fingerprint(pk) else {
        return invalid("invalid public key", &[("public_key", "invalid ssh key")]);
    };
    if s.coll("ssh_keys")
        .values()
        .any(|o| o.v["fingerprint"] == fp.as_str())
    {
        return err_details(
            409,
            "uniqueness_error",
            "SSH key with the same fingerprint already exists",
            json!({"fields": [{"name": "public_key"}]}),
        );
    }
    if s.name_taken("ssh_keys", name, None) {
        return uniqueness("SSH key");
    }
    let id = s.id();
    let v = json!({
        "id": id, "name": name, "fingerprint": fp, "public_key": pk.trim(), "labels": labels, "created": now(),
    });
    s.insert("ssh_keys", id, v.clone());
    ok(201, json!({"ssh_key": v}))
}
