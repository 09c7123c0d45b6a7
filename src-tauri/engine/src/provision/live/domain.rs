//! The domain phases: the pool name reserved in PDM, DNS committed to the
//! load balancer (pool), or the nameservers set through the registrar or
//! left to the operator (own domain); the reservation released when a run
//! fails before the commit.

use std::net::Ipv4Addr;

use crate::events::LogLevel;
use crate::pdm::{self, PdmClient, PdmConfig, lifecycle};
use crate::provision::context::{RunCtx, Stop};
use crate::secrets::names::registrar as registrar_secret_name;
use crate::wizard::model::DomainMode;

use super::LiveCloud;
use super::hints::{fail, pdm_stop};

impl LiveCloud {
    pub(super) async fn pdm_client(&self) -> Result<PdmClient, Stop> {
        let Some(p) = &self.settings.pdm else {
            return Err(fail(
                "No pool-domain-manager is configured in the settings.",
                "Add PDM's address in Settings, or start a new run with your own domain.",
            ));
        };
        let password = self
            .secret(&self.settings.pdm_password_secret())
            .await?
            .unwrap_or_default();
        PdmClient::new(PdmConfig::new(&p.url, &p.username, password))
            .map_err(|e| pdm_stop("The PDM client could not be set up", e))
    }

    pub(super) async fn reserve_name(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let d = ctx.record.answers.domain.clone();
        if d.mode != DomainMode::Pool {
            ctx.log(
                LogLevel::Info,
                "pdm",
                format!("{} is your own domain: nothing to reserve.", ctx.record.fqdn),
            );
            return Ok(());
        }
        let client = self.pdm_client().await?;
        let res = lifecycle::reserve_for_run(
            &client,
            &d.pool_domain,
            &d.subdomain,
            ctx.record.reservation.as_ref(),
        )
        .await
        .map_err(|e| pdm_stop("The domain could not be reserved", e))?;
        let line = format!("Reserved {} until {}.", res.fqdn(), res.expires_at);
        ctx.record.reservation = Some(res);
        ctx.save();
        ctx.log(LogLevel::Info, "pdm", line);
        Ok(())
    }

    pub(super) async fn commit_dns(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let fqdn = ctx.record.fqdn.clone();
        let lb = ctx
            .record
            .outputs
            .load_balancer_ips
            .first()
            .cloned()
            .unwrap_or_default();
        let d = ctx.record.answers.domain.clone();
        match d.mode {
            DomainMode::Pool => {
                let ip: Ipv4Addr = lb.parse().map_err(|_| {
                    fail(
                        format!("The load balancer IP {lb:?} is not an IPv4 address."),
                        "Resume from \"Create the cloud resources\" to read the outputs again.",
                    )
                })?;
                let client = self.pdm_client().await?;
                let mut res = match ctx.record.reservation.clone() {
                    Some(r) => r,
                    None => {
                        let r = lifecycle::reserve_for_run(&client, &d.pool_domain, &d.subdomain, None)
                            .await
                            .map_err(|e| pdm_stop("The domain could not be reserved again", e))?;
                        ctx.log(LogLevel::Info, "pdm", format!("Reserved {} again.", r.fqdn()));
                        r
                    }
                };
                let report = lifecycle::commit_with_rereserve(&client, &mut res, ip).await;
                // The reservation may have been renewed even when the commit failed.
                ctx.record.reservation = Some(res);
                ctx.save();
                let report = report.map_err(|e| pdm_stop("DNS could not be committed", e))?;
                if report.re_reserved {
                    ctx.log(
                        LogLevel::Warn,
                        "pdm",
                        "The reservation had expired before the commit; it was taken again.",
                    );
                }
                if let Some(w) = &report.outcome.dns_warning {
                    ctx.log(LogLevel::Warn, "pdm", w.clone());
                }
                ctx.log(
                    LogLevel::Info,
                    "pdm",
                    format!("Committed {fqdn} → {}.", report.outcome.load_balancer_ip),
                );
            }
            DomainMode::ByoApi => {
                let kind = d
                    .registrar
                    .as_deref()
                    .and_then(pdm::RegistrarKind::from_id)
                    .ok_or_else(|| {
                        fail(
                            "The answers name no registrar to set the nameservers with.",
                            "Choose the registrar in the Domain step and start a new run.",
                        )
                    })?;
                let credential = self
                    .run_secret(registrar_secret_name, &ctx.record.id)
                    .await?
                    .ok_or_else(|| {
                        fail(
                            format!("The {kind} credential is not in the keyring."),
                            "Enter and validate it again in the Domain step, then Resume.",
                        )
                    })?;
                let client = self.pdm_client().await?;
                let ns = self.settings.nameservers();
                let change = client
                    .registrar_set_ns(kind, &fqdn, &credential, &ns)
                    .await
                    .map_err(|e| pdm_stop(&format!("{kind} could not point {fqdn} at the nameservers"), e))?;
                ctx.log(
                    LogLevel::Info,
                    "dns",
                    format!(
                        "{kind} now delegates {} to {}; the registrar says propagation takes {}. The Sovereign points it at {lb}.",
                        change.domain,
                        change.nameservers.join(", "),
                        change.propagation
                    ),
                );
            }
            DomainMode::ByoManual => {
                let ns = self.settings.nameservers().join(", ");
                ctx.log(
                    LogLevel::Info,
                    "dns",
                    format!(
                        "{fqdn} is your own domain: delegate it to {ns}; the Sovereign serves its DNS and points it at {lb}."
                    ),
                );
            }
        }
        Ok(())
    }

    pub(super) async fn release_reservation(&self, ctx: &mut RunCtx) {
        let Some(res) = ctx.record.reservation.clone() else {
            return;
        };
        let client = match self.pdm_client().await {
            Ok(c) => c,
            Err(_) => {
                ctx.log(
                    LogLevel::Warn,
                    "pdm",
                    format!("{} could not be released: PDM is not configured.", res.fqdn()),
                );
                return;
            }
        };
        match lifecycle::release_on_failure(&client, &res).await {
            Ok(lifecycle::ReleaseReport::Released(_)) => {
                ctx.log(
                    LogLevel::Info,
                    "pdm",
                    format!("Released the reservation of {} after the failure.", res.fqdn()),
                );
                ctx.record.reservation = None;
                ctx.save();
            }
            Ok(lifecycle::ReleaseReport::LeftAlone { reason }) => ctx.log(LogLevel::Warn, "pdm", reason),
            Err(e) => ctx.log(
                LogLevel::Warn,
                "pdm",
                format!("The reservation of {} could not be released: {e}", res.fqdn()),
            ),
        }
    }
}
