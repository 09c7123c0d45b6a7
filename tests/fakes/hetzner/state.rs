//! The fake's state: every collection's objects, actions, the rate-limit bucket, and what a delete cascades to.
use super::*;

pub(super) const COLLECTIONS: [(&str, &str); 8] = [
    ("servers", "server"),
    ("networks", "network"),
    ("firewalls", "firewall"),
    ("ssh_keys", "ssh_key"),
    ("load_balancers", "load_balancer"),
    ("volumes", "volume"),
    ("primary_ips", "primary_ip"),
    ("floating_ips", "floating_ip"),
];

pub(super) fn singular(collection: &str) -> Option<&'static str> {
    COLLECTIONS
        .iter()
        .find(|(c, _)| *c == collection)
        .map(|(_, s)| *s)
}

/// RFC 3339 UTC time, as Hetzner formats `created`.
pub(super) fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

pub(super) fn now() -> String {
    rfc3339(SystemTime::now())
}

pub(super) struct Obj {
    pub(super) v: Value,
    /// Set by DELETE; the object stays listed until `linger` has passed.
    pub(super) deleted_at: Option<Instant>,
}

pub(super) struct Bucket {
    pub(super) remaining: u32,
    pub(super) last_refill: Instant,
}

pub(super) struct FakeState {
    pub(super) cfg: FakeConfig,
    pub(super) next_id: u64,
    pub(super) res: BTreeMap<&'static str, BTreeMap<u64, Obj>>,
    pub(super) actions: BTreeMap<u64, Value>,
    /// Actions still `running`, and when each finishes.
    pub(super) running: BTreeMap<u64, Instant>,
    pub(super) faults: Vec<Fault>,
    pub(super) log: Vec<RequestRecord>,
    pub(super) bucket: Bucket,
    pub(super) next_ip: u32,
    /// (server type, location) pairs marked temporarily unavailable.
    pub(super) unavailable: Vec<(String, String)>,
    /// (server name, user_data) of every server created: Hetzner takes
    /// user_data but never returns it, so tests read it here.
    pub(super) user_data: Vec<(String, String)>,
}

impl FakeState {
    pub(super) fn new(cfg: FakeConfig) -> FakeState {
        let mut res = BTreeMap::new();
        for (c, _) in COLLECTIONS {
            res.insert(c, BTreeMap::new());
        }
        FakeState {
            bucket: Bucket {
                remaining: cfg.rate_limit,
                last_refill: Instant::now(),
            },
            cfg,
            next_id: 1000,
            res,
            actions: BTreeMap::new(),
            running: BTreeMap::new(),
            faults: Vec::new(),
            log: Vec::new(),
            next_ip: 10,
            unavailable: Vec::new(),
            user_data: Vec::new(),
        }
    }

    pub(super) fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(super) fn coll(&self, c: &str) -> &BTreeMap<u64, Obj> {
        static EMPTY: BTreeMap<u64, Obj> = BTreeMap::new();
        self.res.get(c).unwrap_or(&EMPTY)
    }

    pub(super) fn coll_mut(&mut self, c: &str) -> Option<&mut BTreeMap<u64, Obj>> {
        self.res.get_mut(c)
    }

    /// A live (not deleted) object.
    pub(super) fn live(&self, c: &str, id: u64) -> Option<&Value> {
        self.coll(c)
            .get(&id)
            .filter(|o| o.deleted_at.is_none())
            .map(|o| &o.v)
    }

    pub(super) fn live_mut(&mut self, c: &str, id: u64) -> Option<&mut Value> {
        self.coll_mut(c)?
            .get_mut(&id)
            .filter(|o| o.deleted_at.is_none())
            .map(|o| &mut o.v)
    }

    /// A live object by id or by name (Hetzner accepts both in references).
    pub(super) fn live_ref(&self, c: &str, r: &Value) -> Option<u64> {
        match r {
            Value::Number(n) => n.as_u64().filter(|id| self.live(c, *id).is_some()),
            Value::String(s) => match s.parse::<u64>() {
                Ok(id) => self.live(c, id).map(|_| id),
                Err(_) => self
                    .coll(c)
                    .iter()
                    .find(|(_, o)| o.deleted_at.is_none() && o.v["name"] == s.as_str())
                    .map(|(id, _)| *id),
            },
            _ => None,
        }
    }

    /// Names stay taken while a deleted object still lingers.
    pub(super) fn name_taken(&self, c: &str, name: &str, except: Option<u64>) -> bool {
        self.coll(c)
            .iter()
            .any(|(id, o)| Some(*id) != except && o.v["name"] == name)
    }

    pub(super) fn insert(&mut self, c: &'static str, id: u64, v: Value) {
        if let Some(m) = self.coll_mut(c) {
            m.insert(id, Obj { v, deleted_at: None });
        }
    }

    pub(super) fn action(&mut self, command: &str, resources: &[(u64, &str)]) -> Value {
        let id = self.id();
        let t = now();
        let a = json!({
            "id": id, "command": command, "status": "success", "progress": 100,
            "started": t, "finished": t, "error": null,
            "resources": resources.iter().map(|(id, ty)| json!({"id": id, "type": ty})).collect::<Vec<_>>(),
        });
        let mut a = a;
        let delay = self.cfg.server_create_delay;
        if command == "create_server" && !delay.is_zero() {
            a["status"] = json!("running");
            a["progress"] = json!(0);
            a["finished"] = Value::Null;
            self.running.insert(id, Instant::now() + delay);
        }
        self.actions.insert(id, a.clone());
        a
    }

    /// Finishes the running actions whose time has come.
    pub(super) fn settle_actions(&mut self) {
        let at = Instant::now();
        let due: Vec<u64> = self
            .running
            .iter()
            .filter(|(_, t)| **t <= at)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.running.remove(&id);
            if let Some(a) = self.actions.get_mut(&id) {
                a["status"] = json!("success");
                a["progress"] = json!(100);
                a["finished"] = json!(now());
            }
        }
    }

    pub(super) fn public_ipv4(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        // Documentation ranges (RFC 5737): never a real address.
        let ip = if n < 250 {
            Ipv4Addr::new(203, 0, 113, n as u8)
        } else {
            Ipv4Addr::new(198, 51, 100, (n % 250) as u8)
        };
        ip.to_string()
    }

    pub(super) fn public_ipv6(&mut self) -> String {
        self.next_ip += 1;
        format!("2001:db8:{:x}::/64", self.next_ip)
    }

    /// Marks an object deleted; it disappears after `linger`.
    pub(super) fn mark_deleted(&mut self, c: &'static str, id: u64) {
        let linger_zero = self.cfg.linger.is_zero();
        if let Some(o) = self.coll_mut(c).and_then(|m| m.get_mut(&id)) {
            o.deleted_at = Some(Instant::now());
        }
        if linger_zero {
            self.sweep();
        }
    }

    /// Removes deleted objects whose linger time is over, then everything
    /// that pointed at them, as Hetzner does once a delete has completed.
    pub(super) fn sweep(&mut self) {
        let linger = self.cfg.linger;
        let mut gone: Vec<(&'static str, u64)> = Vec::new();
        for (c, m) in self.res.iter() {
            for (id, o) in m {
                if o.deleted_at.is_some_and(|t| t.elapsed() >= linger) {
                    gone.push((c, *id));
                }
            }
        }
        for (c, id) in gone {
            if let Some(m) = self.coll_mut(c) {
                m.remove(&id);
            }
            self.on_removed(c, id);
        }
    }

    pub(super) fn on_removed(&mut self, c: &str, id: u64) {
        match c {
            "servers" => {
                for fw in self
                    .res
                    .get_mut("firewalls")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(a) = fw.v["applied_to"].as_array_mut() {
                        a.retain(|e| !(e["type"] == "server" && e["server"]["id"] == id));
                    }
                }
                for lb in self
                    .res
                    .get_mut("load_balancers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(t) = lb.v["targets"].as_array_mut() {
                        t.retain(|e| !(e["type"] == "server" && e["server"]["id"] == id));
                    }
                }
                for n in self
                    .res
                    .get_mut("networks")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(s) = n.v["servers"].as_array_mut() {
                        s.retain(|x| *x != id);
                    }
                }
                for v in self
                    .res
                    .get_mut("volumes")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if v.v["server"] == id {
                        v.v["server"] = Value::Null;
                    }
                }
                for f in self
                    .res
                    .get_mut("floating_ips")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if f.v["server"] == id {
                        f.v["server"] = Value::Null;
                    }
                }
                // Primary IPs with auto_delete go with their server; others stay, unassigned.
                let mut auto = Vec::new();
                for (pid, p) in self
                    .res
                    .get_mut("primary_ips")
                    .into_iter()
                    .flat_map(|m| m.iter_mut())
                {
                    if p.v["assignee_id"] == id {
                        if p.v["auto_delete"] == true {
                            auto.push(*pid);
                        }
                        p.v["assignee_id"] = Value::Null;
                    }
                }
                for pid in auto {
                    if let Some(m) = self.coll_mut("primary_ips") {
                        m.remove(&pid);
                    }
                }
            }
            "load_balancers" => {
                for n in self
                    .res
                    .get_mut("networks")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(s) = n.v["load_balancers"].as_array_mut() {
                        s.retain(|x| *x != id);
                    }
                }
            }
            "firewalls" => {
                for s in self
                    .res
                    .get_mut("servers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(f) = s.v["public_net"]["firewalls"].as_array_mut() {
                        f.retain(|x| x["id"] != id);
                    }
                }
            }
            "networks" => {
                for s in self
                    .res
                    .get_mut("servers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(p) = s.v["private_net"].as_array_mut() {
                        p.retain(|x| x["network"] != id);
                    }
                }
                for s in self
                    .res
                    .get_mut("load_balancers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(p) = s.v["private_net"].as_array_mut() {
                        p.retain(|x| x["network"] != id);
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn refill(&mut self) {
        let every = self.cfg.rate_refill.max(Duration::from_millis(1));
        let elapsed = self.bucket.last_refill.elapsed();
        let n = (elapsed.as_nanos() / every.as_nanos()) as u64;
        if n > 0 {
            self.bucket.remaining = (self.bucket.remaining as u64 + n).min(self.cfg.rate_limit as u64) as u32;
            self.bucket.last_refill += every * n as u32;
        }
        if self.bucket.remaining >= self.cfg.rate_limit {
            self.bucket.last_refill = Instant::now();
        }
    }

    /// `RateLimit-Reset`: when the bucket is full again, in unix seconds.
    pub(super) fn reset_at(&self) -> u64 {
        let missing = self.cfg.rate_limit.saturating_sub(self.bucket.remaining);
        let at = SystemTime::now() + self.cfg.rate_refill * missing;
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    }

    pub(super) fn inventory(&self) -> Inventory {
        let mut resources = BTreeMap::new();
        for (c, m) in &self.res {
            resources.insert(
                (*c).to_owned(),
                m.values()
                    .filter(|o| o.deleted_at.is_none())
                    .map(|o| o.v.clone())
                    .collect(),
            );
        }
        Inventory { resources }
    }
}
