//! New allocation rows, with PDM's token (a v4 UUID) and RFC 3339 timestamps.
use super::*;

pub(super) static SEQ: AtomicU64 = AtomicU64::new(1);

/// A v4-shaped UUID; unique per process and unpredictable enough for a fake.
pub(super) fn uuid() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    let a = h.finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    let b = h.finish();
    let v = (u128::from(a) << 64) | u128::from(b);
    let v = (v & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let s = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// RFC 3339 in UTC with nanoseconds, as Go's `time.RFC3339Nano` writes it.
pub(super) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

pub(super) fn new_row(cfg: &FakePdmConfig, pool: &str, sub: &str, created_by: &str) -> FakeAllocation {
    let now = SystemTime::now();
    FakeAllocation {
        pool: pool.to_owned(),
        subdomain: sub.to_owned(),
        state: FakeState::Reserved,
        reserved_at: rfc3339(now),
        expires_at: Some(rfc3339(now + cfg.ttl)),
        token: uuid(),
        created_by: created_by.to_owned(),
        fqdn: None,
        lb_ip: None,
        expires: Some(Instant::now() + cfg.ttl),
    }
}
