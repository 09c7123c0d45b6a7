//! Reserve / commit / release as a provisioning run uses them. The guards come
//! from failures of the system this replaces: the
//! reservation TTL (10 min) can run out before the load balancer IP is known,
//! so a commit that finds it expired reserves again; and a failed run must not
//! free a name that meanwhile belongs to someone else (release takes no token).

use std::net::Ipv4Addr;

use time::{Duration, OffsetDateTime};

use super::client::PdmClient;
use super::error::PdmError;
use super::types::{AllocationState, CommitOutcome, ReleaseOutcome, Reservation};

/// A held reservation is reused on resume only with this much life left, so
/// the commit that follows cannot race its expiry.
const REUSE_MARGIN: Duration = Duration::seconds(60);

/// Reserves the run's name. On resume, pass the reservation stored with the
/// deployment: it is kept when it is for the same name and still has life left.
pub async fn reserve_for_run(
    client: &PdmClient,
    pool: &str,
    sub: &str,
    existing: Option<&Reservation>,
) -> Result<Reservation, PdmError> {
    if let Some(held) = existing {
        let same = held.pool == pool.trim().to_lowercase() && held.subdomain == sub.trim().to_lowercase();
        if same && held.expires_at - OffsetDateTime::now_utc() > REUSE_MARGIN {
            return Ok(held.clone());
        }
    }
    let reservation = client.reserve(pool, sub).await?;
    tracing::info!(fqdn = %reservation.fqdn(), expires_at = %reservation.expires_at, "pdm reservation taken");
    Ok(reservation)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitReport {
    pub outcome: CommitOutcome,
    /// The first commit found the reservation expired (or swept) and the name
    /// was reserved again before committing.
    pub re_reserved: bool,
    /// PDM said `already-active` and the live row already points at this
    /// run's IP: an earlier commit went through but its answer was lost.
    pub already_committed: bool,
}

/// Commits `reservation` with the load balancer IP. When PDM answers that the
/// reservation expired (410) or no longer exists (404, the sweeper deleted it),
/// reserves the name again and commits with the new token; `reservation` is
/// updated in place so the caller can persist it. If someone else took the
/// name in between, the error says so plainly.
pub async fn commit_with_rereserve(
    client: &PdmClient,
    reservation: &mut Reservation,
    lb_ip: Ipv4Addr,
) -> Result<CommitReport, PdmError> {
    let first = client.commit(reservation, lb_ip).await;
    let (outcome, re_reserved, already_committed) = match first {
        Ok(outcome) => (outcome, false, false),
        Err(PdmError::ReservationExpired { .. } | PdmError::NotFound { .. }) => {
            tracing::warn!(fqdn = %reservation.fqdn(), "pdm reservation expired before commit; reserving again");
            let fresh = match client.reserve(&reservation.pool, &reservation.subdomain).await {
                Ok(r) => r,
                Err(PdmError::Conflict { fqdn }) => return Err(PdmError::TakenAfterExpiry { fqdn }),
                Err(e) => return Err(e),
            };
            *reservation = fresh;
            (client.commit(reservation, lb_ip).await?, true, false)
        }
        Err(PdmError::AlreadyActive { fqdn }) => {
            let ip = lb_ip.to_string();
            let ours = client.list(&reservation.pool).await?.into_iter().any(|a| {
                a.subdomain == reservation.subdomain
                    && a.state == AllocationState::Active
                    && a.load_balancer_ip.as_deref() == Some(ip.as_str())
            });
            if !ours {
                return Err(PdmError::AlreadyActive { fqdn });
            }
            let outcome = CommitOutcome {
                fqdn,
                load_balancer_ip: ip,
                dns_warning: None,
            };
            (outcome, false, true)
        }
        // Past our expiry, a foreign token on the row means someone reserved
        // the name after it lapsed (their reserve deleted our expired row).
        Err(PdmError::TokenMismatch { fqdn }) if reservation.expires_at <= OffsetDateTime::now_utc() => {
            return Err(PdmError::TakenAfterExpiry { fqdn });
        }
        Err(e) => return Err(e),
    };
    reservation.committed_ip = Some(lb_ip.to_string());
    Ok(CommitReport {
        outcome,
        re_reserved,
        already_committed,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseReport {
    /// PDM freed the name, or held nothing under it.
    Released(ReleaseOutcome),
    /// The name is held by someone else now (our reservation expired and was
    /// taken over, or it is live with another IP); it was left alone.
    LeftAlone { reason: String },
}

/// Frees the run's name after a failure, but only when the row PDM holds is
/// still ours: same reservation token (or reservation time, if PDM's list
/// hides tokens) while reserved, same load balancer IP once active.
pub async fn release_on_failure(
    client: &PdmClient,
    reservation: &Reservation,
) -> Result<ReleaseReport, PdmError> {
    let fqdn = reservation.fqdn();
    let row = client
        .list(&reservation.pool)
        .await?
        .into_iter()
        .find(|a| a.subdomain == reservation.subdomain);
    let Some(row) = row else {
        return Ok(ReleaseReport::Released(ReleaseOutcome::AlreadyReleased));
    };
    let ours = match row.state {
        AllocationState::Reserved => match row.reservation_token.as_deref() {
            Some(token) => token == reservation.token,
            None => row.reserved_at.as_deref() == Some(reservation.reserved_at.as_str()),
        },
        AllocationState::Active => {
            reservation.committed_ip.is_some() && row.load_balancer_ip == reservation.committed_ip
        }
        AllocationState::Unknown => false,
    };
    if !ours {
        let reason = format!(
            "\"{fqdn}\" was not released: the pool-domain-manager now holds it for another deployment."
        );
        tracing::warn!(%fqdn, "pdm name held by someone else; not releasing");
        return Ok(ReleaseReport::LeftAlone { reason });
    }
    let outcome = client.release(&reservation.pool, &reservation.subdomain).await?;
    Ok(ReleaseReport::Released(outcome))
}
