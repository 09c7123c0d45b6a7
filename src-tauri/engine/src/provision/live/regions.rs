//! One cluster phase in every region at once. Each region's events carry
//! its location (and, in a multi-region run, a `Region` state the live page
//! and the CLI show side by side); the first region to fail stops the
//! others at their next safe point and is the failure the phase reports.

use std::future::Future;
use std::sync::Mutex;

use futures_util::future::join_all;
use tokio_util::sync::CancellationToken;

use crate::provision::context::{Emitter, RunCtx, Stop};

use super::cluster::RegionTarget;

/// The first failure, in time, of the regions of one phase.
#[derive(Default)]
struct FirstFailure(Mutex<Option<(usize, Stop)>>);

impl FirstFailure {
    fn set(&self, index: usize, stop: Stop) {
        let mut first = self.0.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert((index, stop));
    }

    fn region(&self) -> Option<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(i, _)| *i)
    }

    fn take(self) -> Option<Stop> {
        self.0
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .map(|(_, s)| s)
    }
}

/// Runs `each` for every region at once: `items` pairs a region with what
/// its work starts from (an open session, a kubeconfig). `each` gets the
/// region's emitter and a token that is cancelled by the operator's Cancel
/// or when another region fails; it returns its result and a sentence for
/// the region's `done` state. Results come back in region order.
pub(super) async fn in_every_region<I, T, F, Fut>(
    ctx: &RunCtx,
    items: Vec<(RegionTarget, I)>,
    cancel: &CancellationToken,
    starting: &str,
    each: F,
) -> Result<Vec<T>, Stop>
where
    F: Fn(RegionTarget, I, Emitter, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(T, String), Stop>>,
{
    let stop = cancel.child_token();
    let failure = FirstFailure::default();
    let runs = items.into_iter().map(|(region, input)| {
        let em = if region.tagged {
            ctx.emitter().in_region(&region.location)
        } else {
            ctx.emitter()
        };
        let work = each(region.clone(), input, em.clone(), stop.clone());
        let (stop, failure) = (&stop, &failure);
        async move {
            if region.tagged {
                em.region_state("running", starting);
            }
            match work.await {
                Ok((value, detail)) => {
                    if region.tagged {
                        em.region_state("done", detail);
                    }
                    Some(value)
                }
                Err(Stop::Cancelled) => {
                    if region.tagged {
                        let why = match failure.region() {
                            Some(i) => format!("Stopped: region {} failed.", i + 1),
                            None => "Stopped by Cancel.".to_owned(),
                        };
                        em.region_state("stopped", why);
                    }
                    None
                }
                Err(failed) => {
                    let failed = region.stop(failed);
                    if region.tagged
                        && let Stop::Failed(e) = &failed
                    {
                        em.region_state("failed", e.error.clone());
                    }
                    failure.set(region.index, failed);
                    stop.cancel();
                    None
                }
            }
        }
    });
    let results = join_all(runs).await;
    if let Some(failed) = failure.take() {
        return Err(failed);
    }
    results.into_iter().map(|r| r.ok_or(Stop::Cancelled)).collect()
}
