//! Progress maths: percent, a smoothed speed, time left. Pure; times are milliseconds from the
//! page's clock, passed in.

use crate::upload::timing::SPEED_WINDOW_MS;

/// Weight of the newest window in the smoothed speed.
const SMOOTHING: f64 = 0.3;

/// A smoothed transfer rate for one upload.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Speed {
    anchor_ms: f64,
    anchor_bytes: u64,
    bytes_per_second: f64,
    started: bool,
}

impl Speed {
    /// Starts measuring from `bytes` at `now_ms`.
    pub fn start(now_ms: f64, bytes: u64) -> Speed {
        Speed {
            anchor_ms: now_ms,
            anchor_bytes: bytes,
            bytes_per_second: 0.0,
            started: true,
        }
    }

    /// Records that `bytes` have been sent by `now_ms`.
    pub fn sample(&mut self, now_ms: f64, bytes: u64) {
        if !self.started {
            *self = Speed::start(now_ms, bytes);
            return;
        }
        let elapsed = now_ms - self.anchor_ms;
        if elapsed < SPEED_WINDOW_MS || bytes < self.anchor_bytes {
            return;
        }
        let rate = (bytes - self.anchor_bytes) as f64 * 1000.0 / elapsed;
        self.bytes_per_second = if self.bytes_per_second == 0.0 {
            rate
        } else {
            SMOOTHING * rate + (1.0 - SMOOTHING) * self.bytes_per_second
        };
        self.anchor_ms = now_ms;
        self.anchor_bytes = bytes;
    }

    /// Bytes per second, 0 until the first full window.
    pub fn bytes_per_second(&self) -> f64 {
        self.bytes_per_second
    }

    /// Seconds until `remaining` bytes are sent at the current speed; `None` while unknown.
    pub fn seconds_left(&self, remaining: u64) -> Option<f64> {
        (self.bytes_per_second > 0.0).then(|| remaining as f64 / self.bytes_per_second)
    }
}

/// Whole percent, 0-100, never 100 before everything is sent.
pub fn percent(sent: u64, total: u64) -> u8 {
    if total == 0 {
        return if sent == 0 { 0 } else { 100 };
    }
    if sent >= total {
        return 100;
    }
    // Without u128 arithmetic (its division routines would weigh on the page).
    let whole = match sent.checked_mul(100) {
        Some(scaled) => scaled / total,
        None => sent / (total / 100),
    };
    whole.min(99) as u8
}

/// `1:05`, `12:00`, `1:02:03`: time left for people.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).ceil() as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// An RFC 3339 UTC time as the signer writes it (`2026-11-30T00:10:00Z`, fractions allowed), in
/// milliseconds since the epoch; `None` for anything else. Integer arithmetic only (the page
/// carries no date library).
pub fn parse_utc_ms(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let rest = &text[19..];
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if rest != "Z" {
        return None;
    }
    civil_ms(text, [0, 5, 8, 11, 14, 17])
}

/// `x-amz-date`'s form (`20261203T033000Z`), in milliseconds since the epoch.
pub fn parse_amz_date(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    civil_ms(text, [0, 4, 6, 9, 11, 13])
}

/// The time whose year (four digits), month, day, hour, minute and second (two each) start at
/// `at` in `text`.
fn civil_ms(text: &str, at: [usize; 6]) -> Option<f64> {
    let number = |from: usize, digits: usize| -> Option<i64> {
        let digits = text.get(from..from + digits)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let year = number(at[0], 4)?;
    let (month, day) = (number(at[1], 2)?, number(at[2], 2)?);
    let (hour, minute, second) = (number(at[3], 2)?, number(at[4], 2)?, number(at[5], 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = shared::calendar::days_from_civil(year, month as u32, day as u32);
    Some(((days * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000) as f64)
}

/// Until when, on this page's clock, something the signer signed may still be used: the time
/// it was received plus its lifetime (`expires_at` less `signed_at`, its `x-amz-date`: both
/// the signer's clock), less `margin_ms` or half the lifetime if that is less. Only the lifetime
/// is trusted, because a laptop's clock may be hours off the signer's (compared as they are,
/// a clock ahead made every URL look expired on arrival, and a short lifetime did the same
/// whatever the clock). Without a readable signing time, `expires_at` less the margin.
pub fn use_until_ms(
    expires_at: &str,
    signed_at: Option<&str>,
    received_ms: f64,
    margin_ms: f64,
) -> Option<f64> {
    let expires = parse_utc_ms(expires_at)?;
    Some(match signed_at.and_then(parse_amz_date) {
        Some(signed) => {
            let lifetime = (expires - signed).max(0.0);
            received_ms + lifetime - margin_ms.min(lifetime / 2.0)
        }
        None => expires - margin_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent(0, 100), 0);
        assert_eq!(percent(50, 100), 50);
        assert_eq!(percent(999, 1000), 99);
        assert_eq!(percent(1000, 1000), 100);
        assert_eq!(percent(u64::MAX - 1, u64::MAX), 99);
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(5_000_000_000, 5_368_709_120), 93);
    }

    #[test]
    fn speed_needs_a_full_window_then_smooths() {
        let mut speed = Speed::start(0.0, 0);
        speed.sample(100.0, 100_000);
        assert_eq!(speed.bytes_per_second(), 0.0);
        assert_eq!(speed.seconds_left(1000), None);
        speed.sample(500.0, 500_000);
        assert_eq!(speed.bytes_per_second(), 1_000_000.0);
        assert_eq!(speed.seconds_left(2_000_000), Some(2.0));
        // A window twice as fast moves the estimate 30% of the way.
        speed.sample(1000.0, 1_500_000);
        assert!((speed.bytes_per_second() - 1_300_000.0).abs() < 1e-6);
    }

    #[test]
    fn a_stalled_upload_slows_the_estimate_down() {
        let mut speed = Speed::start(0.0, 0);
        speed.sample(1000.0, 1_000_000);
        speed.sample(2000.0, 1_000_000);
        assert!(speed.bytes_per_second() < 1_000_000.0 && speed.bytes_per_second() > 0.0);
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(4.2), "0:05");
        assert_eq!(clock(65.0), "1:05");
        assert_eq!(clock(3723.0), "1:02:03");
        assert_eq!(clock(-3.0), "0:00");
    }

    #[test]
    fn signer_times() {
        assert_eq!(parse_utc_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_utc_ms("1970-01-01T00:10:00Z"), Some(600_000.0));
        assert_eq!(
            parse_utc_ms("2015-12-29T00:00:00Z"),
            Some(1_451_347_200_000.0)
        );
        assert_eq!(
            parse_utc_ms("2024-02-29T23:59:59.123Z"),
            Some(1_709_251_199_000.0)
        );
        assert_eq!(
            parse_utc_ms("2026-11-30T00:10:00Z"),
            Some(1_795_997_400_000.0)
        );
        for bad in [
            "",
            "2026-11-30",
            "2026-11-30T00:10:00",
            "2026-13-01T00:00:00Z",
            "2026-11-30T00:10:00+01:00",
            "x026-11-30T00:10:00Z",
        ] {
            assert_eq!(parse_utc_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("19700101T001000Z"), Some(600_000.0));
        assert_eq!(
            parse_amz_date("20151229T000000Z"),
            parse_utc_ms("2015-12-29T00:00:00Z")
        );
        for bad in [
            "",
            "20151229T000000",
            "2015-12-29T00:00:00Z",
            "20151329T000000Z",
            "2015122T0000000Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_lifetime_counts_from_its_arrival_on_the_pages_own_clock() {
        let signed = Some("19700101T000000Z");
        // Ten minutes' lifetime, received at 5,000 s on a clock far ahead of the signer's.
        assert_eq!(
            use_until_ms("1970-01-01T00:10:00Z", signed, 5_000_000.0, 60_000.0),
            Some(5_540_000.0)
        );
        // A lifetime shorter than twice the margin keeps half of it.
        assert_eq!(
            use_until_ms("1970-01-01T00:01:00Z", signed, 0.0, 60_000.0),
            Some(30_000.0)
        );
        // No signing time: the expiry as written, less the margin.
        assert_eq!(
            use_until_ms("1970-01-01T00:10:00Z", None, 5_000_000.0, 60_000.0),
            Some(540_000.0)
        );
        assert_eq!(use_until_ms("soon", signed, 0.0, 60_000.0), None);
    }
}
