//! The provider itself: its configuration (token, endpoint, poll interval) and the
//! tf-provider glue that hands each resource type's calls to `resources`.
use crate::*;

pub(crate) const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

pub(crate) type Shared = Arc<RwLock<Option<Client>>>;

pub(crate) fn api_diag(diags: &mut Diagnostics, e: &ApiError) {
    diags.root_error(e.summary(), e.detail());
}

pub(crate) struct Res {
    pub(crate) kind: Kind,
    pub(crate) schema: Blk,
    pub(crate) client: Shared,
}

impl Res {
    pub(crate) fn client(&self, diags: &mut Diagnostics) -> Option<Client> {
        let c = self.client.read().ok().and_then(|g| g.clone());
        if c.is_none() {
            diags.root_error_short("the hcloud provider is not configured");
        }
        c
    }
}

pub(crate) type St<'a> = Dyn;

#[async_trait]
impl Resource for Res {
    type State<'a> = Dyn;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = Dyn;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: self.schema.to_tf(),
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: St<'a>,
        private_state: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match read(self.kind, &c, &state.0).await {
            Ok(Some(v)) => Some((Dyn(self.schema.conform(&v)), private_state)),
            Ok(None) => None,
            Err(e) => {
                api_diag(diags, &e);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: St<'a>,
        _config: St<'a>,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let mut planned = value::plan_create(&self.schema, &proposed.0);
        if self.kind == Kind::LoadBalancerService && planned.get("destination_port").is_unknown() {
            // The API defaults the destination to the listen port for tcp.
            if planned.get("protocol").str() == Some("tcp") {
                let lp = planned.get("listen_port").clone();
                planned.set("destination_port", lp);
            }
        }
        Some((Dyn(planned), ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: St<'a>,
        proposed: St<'a>,
        config: St<'a>,
        prior_private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty, Vec<AttributePath>)> {
        let (planned, replace) = value::plan_update(&self.schema, &prior.0, &proposed.0, &config.0);
        let paths = replace.into_iter().map(AttributePath::new).collect();
        Some((Dyn(planned), prior_private, paths))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: St<'a>,
        prior_private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<ValueEmpty> {
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: St<'a>,
        _config: St<'a>,
        private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match create(self.kind, &c, &planned.0).await {
            Ok(actual) => Some((
                Dyn(value::fill_unknowns(&self.schema, &planned.0, &actual)),
                private,
            )),
            Err(Partial { state, err }) => {
                api_diag(diags, &err);
                state.map(|s| (Dyn(value::fill_unknowns(&self.schema, &planned.0, &s)), private))
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: St<'a>,
        planned: St<'a>,
        _config: St<'a>,
        private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<(St<'a>, ValueEmpty)> {
        let c = self.client(diags)?;
        match update(self.kind, &c, &prior.0, &planned.0).await {
            Ok(actual) => Some((
                Dyn(value::fill_unknowns(&self.schema, &planned.0, &actual)),
                private,
            )),
            Err(e) => {
                api_diag(diags, &e);
                // Keep what exists now; the engine records the error.
                match read(self.kind, &c, &prior.0).await {
                    Ok(Some(v)) => Some((Dyn(self.schema.conform(&v)), private)),
                    _ => Some((prior, private)),
                }
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: St<'a>,
        _private: ValueEmpty,
        _meta: Dyn,
    ) -> Option<()> {
        let c = self.client(diags)?;
        match delete(self.kind, &c, &prior.0).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_diag(diags, &e);
                Some(())
            }
        }
    }
}

pub(crate) struct Hcloud {
    pub(crate) client: Shared,
}

#[async_trait]
impl Provider for Hcloud {
    type Config<'a> = Dyn;
    type MetaState<'a> = Dyn;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let b = Blk::new(vec![
            a("token", Ty::Str, C::Opt).sens(),
            a("endpoint", Ty::Str, C::Opt),
            a("poll_interval", Ty::Str, C::Opt),
            a("poll_function", Ty::Str, C::Opt),
        ]);
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("The Hetzner Cloud provider (test stand-in)."),
                ..b.to_tf()
            },
        })
    }

    async fn configure<'a>(&self, diags: &mut Diagnostics, _tf_version: String, config: Dyn) -> Option<()> {
        let cfg = &config.0;
        let token = cfg
            .get("token")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_TOKEN").ok())
            .unwrap_or_default();
        let endpoint = cfg
            .get("endpoint")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_ENDPOINT").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let poll = cfg
            .get("poll_interval")
            .str()
            .map(str::to_owned)
            .or_else(|| std::env::var("HCLOUD_POLL_INTERVAL").ok())
            .and_then(|s| parse_duration(&s))
            .unwrap_or(Duration::from_millis(100));
        if token.is_empty() {
            diags.root_error(
                "no token configured",
                "Set HCLOUD_TOKEN in the environment or `token` in the provider block.",
            );
            return None;
        }
        if let Ok(mut g) = self.client.write() {
            *g = Some(Client::new(endpoint, token, poll));
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<std::collections::HashMap<String, Box<dyn DynamicResource>>> {
        let mut m: std::collections::HashMap<String, Box<dyn DynamicResource>> = map! {};
        for (name, kind) in KINDS {
            m.insert(
                name.to_owned(),
                Box::new(Res {
                    kind,
                    schema: schema_of(kind),
                    client: self.client.clone(),
                }),
            );
        }
        Some(m)
    }
}

pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(sec) = s.strip_suffix('s') {
        return sec.parse::<f64>().ok().map(Duration::from_secs_f64);
    }
    None
}
