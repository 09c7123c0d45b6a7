//! Stands in for the public DNS as the laptop's resolver sees it: a UDP DNS
//! server on loopback that answers NS queries for the domains a test
//! delegates (set or changed at any time), NXDOMAIN for the rest. Wire format
//! by hand (RFC 1035 §4): a header, the question echoed, NS answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

type Zones = Arc<Mutex<HashMap<String, Vec<String>>>>;

pub struct FakeDns {
    addr: SocketAddr,
    zones: Zones,
    task: tokio::task::JoinHandle<()>,
}

impl FakeDns {
    pub async fn start() -> FakeDns {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let zones: Zones = Arc::default();
        let z = zones.clone();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                if let Some(reply) = answer(&buf[..n], &z) {
                    let _ = sock.send_to(&reply, peer).await;
                }
            }
        });
        FakeDns { addr, zones, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, `domain`'s NS records are `nameservers`.
    pub fn delegate(&self, domain: &str, nameservers: &[&str]) {
        self.zones.lock().unwrap().insert(
            domain.to_ascii_lowercase(),
            nameservers.iter().map(|s| s.to_string()).collect(),
        );
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn encode_name(name: &str, out: &mut Vec<u8>) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// The reply to one query; `None` for what is not a query we can read.
fn answer(q: &[u8], zones: &Zones) -> Option<Vec<u8>> {
    if q.len() < 12 || q[2] & 0x80 != 0 {
        return None;
    }
    // QNAME: labels up to the zero byte, then QTYPE and QCLASS.
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question = &q[12..i + 4];
    let name = labels.join(".");
    let found = zones.lock().unwrap().get(&name).cloned();
    let records = match (&found, qtype) {
        (Some(ns), 2) => ns.clone(),
        _ => Vec::new(),
    };
    let mut r = Vec::with_capacity(512);
    r.extend_from_slice(&q[0..2]);
    // QR, opcode 0, RD copied, RA; RCODE 3 (NXDOMAIN) for unknown names.
    r.push(0x80 | (q[2] & 0x01));
    r.push(0x80 | if found.is_none() { 3 } else { 0 });
    r.extend_from_slice(&1u16.to_be_bytes());
    r.extend_from_slice(&(records.len() as u16).to_be_bytes());
    r.extend_from_slice(&0u16.to_be_bytes());
    r.extend_from_slice(&0u16.to_be_bytes());
    r.extend_from_slice(question);
    for ns in records {
        r.extend_from_slice(&[0xC0, 0x0C]); // the owner: the question's name
        r.extend_from_slice(&2u16.to_be_bytes()); // NS
        r.extend_from_slice(&1u16.to_be_bytes()); // IN
        r.extend_from_slice(&300u32.to_be_bytes());
        let mut rdata = Vec::new();
        encode_name(&ns, &mut rdata);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
    }
    Some(r)
}
