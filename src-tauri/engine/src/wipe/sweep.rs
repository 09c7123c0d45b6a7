//! The verification sweep: list every kind again, without a selector, and
//! look for anything of this Sovereign (label, name, key comment). Hetzner
//! keeps a deleted object listed for 5–30 s, so the sweep repeats until
//! nothing is left or its deadline passes; each round deletes again what it
//! still sees (a firewall freed only once its server is really gone).

use std::time::Instant;

use crate::events::LogLevel;
use crate::hetzner::{ResourceKind, ResourceRef};

use super::ownership;
use super::purge::Purger;

/// What the sweep found left at its deadline, each with why.
pub struct SweepOutcome {
    pub left: Vec<String>,
    pub rounds: u32,
}

impl SweepOutcome {
    pub fn clean(&self) -> bool {
        self.left.is_empty()
    }
}

async fn survivors(p: &Purger<'_>) -> Result<Vec<ResourceRef>, String> {
    let mut out = Vec::new();
    for kind in ResourceKind::PURGE_ORDER {
        let all = p.client.list_resources(kind, None).await.map_err(|e| {
            format!(
                "{} could not be listed: {}",
                kind.collection(),
                e.operator_message()
            )
        })?;
        out.extend(all.into_iter().filter(|r| ownership::owned(&p.fqdn, r).is_some()));
    }
    Ok(out)
}

pub async fn verify(p: &mut Purger<'_>) -> SweepOutcome {
    let started = Instant::now();
    let deadline = started + p.timings.sweep_deadline;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let found = survivors(p).await;
        let now = Instant::now();
        match found {
            Ok(list) if list.is_empty() => {
                p.ctx.log(
                    LogLevel::Info,
                    "wipe",
                    format!(
                        "Verification sweep round {rounds}: nothing of {} is listed in any of the {} kinds.",
                        p.fqdn,
                        ResourceKind::ALL.len()
                    ),
                );
                return SweepOutcome {
                    left: Vec::new(),
                    rounds,
                };
            }
            Ok(list) => {
                let names: Vec<String> = list.iter().map(ownership::describe).collect();
                p.ctx.log(
                    LogLevel::Info,
                    "wipe",
                    format!(
                        "Verification sweep round {rounds}: {} still listed: {}",
                        list.len(),
                        names.join(", ")
                    ),
                );
                if now >= deadline {
                    let secs = started.elapsed().as_secs();
                    let left =
                        list.iter()
                            .map(|r| {
                                let why =
                                    p.last_error.get(&(r.kind, r.id)).cloned().unwrap_or_else(|| {
                                        format!("deleted, but still listed after {secs} s")
                                    });
                                format!("{}: {why}", ownership::describe(r))
                            })
                            .collect();
                    return SweepOutcome { left, rounds };
                }
                for r in &list {
                    let why = ownership::owned(&p.fqdn, r).unwrap_or(ownership::Match::Label);
                    p.delete_with(r, why, 0).await;
                }
            }
            Err(e) => {
                p.ctx.log(
                    LogLevel::Warn,
                    "wipe",
                    format!("Verification sweep round {rounds}: {e}"),
                );
                if now >= deadline {
                    return SweepOutcome {
                        left: vec![format!("the sweep could not prove the cloud empty: {e}")],
                        rounds,
                    };
                }
            }
        }
        let rest = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(p.timings.poll.min(rest.max(std::time::Duration::from_millis(10)))).await;
    }
}
