//! The last phase: the console answers over verified TLS; for an own
//! domain, whether its delegation is visible yet is logged.

use std::time::Duration;

use crate::cluster::{self, ConsoleCheck};
use crate::domain_delegation;
use crate::events::{LogLevel, Phase};
use crate::provision::context::{RunCtx, Stop};
use crate::wizard::model::DomainMode;

use super::hints::{cluster_stop, fail};
use super::{CancelBridge, LiveCloud, log_to};

impl LiveCloud {
    pub(super) async fn wait_for_console(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let fqdn = ctx.record.fqdn.clone();
        let mut check = ConsoleCheck::for_fqdn(&fqdn);
        check.timeout = self.settings.timeouts.limit(Phase::Console);
        if let Some(url) = &self.settings.overrides.console_url_override {
            check.url = url.clone();
        }
        if let Some(s) = self.settings.overrides.console_interval_s {
            check.interval = Duration::from_secs(s.max(1));
        }
        if let Some(p) = &self.settings.overrides.console_ca_file {
            let pem = std::fs::read_to_string(p).map_err(|e| {
                fail(
                    format!("The console CA file {} cannot be read: {e}", p.display()),
                    "Fix console_ca_file in the settings, then Resume.",
                )
            })?;
            check.extra_root_ca_pem = Some(pem);
        }
        let cancel = CancelBridge::new(ctx);
        let em = ctx.emitter();
        let url = check.url.clone();
        let mut on_attempt = move |n: u32, why: &str| {
            log_to(
                &em,
                LogLevel::Info,
                "console",
                format!("{url}: attempt {n}: {why}; retrying"),
            )
        };
        let ready = cluster::wait_ready(&check, &cancel.token, &mut on_attempt)
            .await
            .map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "console",
            format!(
                "{} answers over verified TLS (HTTP {}, attempt {}).",
                ready.url, ready.status, ready.attempts
            ),
        );
        ctx.record.outputs.console_url = Some(format!("https://console.{fqdn}"));
        ctx.record.outputs.gitea_url = Some(format!("https://gitea.{fqdn}"));
        ctx.save();
        if ctx.record.answers.domain.mode != DomainMode::Pool {
            let d = domain_delegation::check(
                &fqdn,
                &self.settings.nameservers(),
                self.settings.overrides.dns_resolver,
                DELEGATION_CHECK_TIMEOUT,
            )
            .await;
            let level = if d.visible { LogLevel::Info } else { LogLevel::Warn };
            ctx.log(level, "dns", d.message.clone());
            ctx.record.outputs.delegation = Some(d);
            ctx.save();
        }
        Ok(())
    }
}

/// The delegation check may not hold up the end of a run for long.
const DELEGATION_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
