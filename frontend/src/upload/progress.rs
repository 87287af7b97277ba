//! Progress maths: percent, a smoothed speed, time left. Pure; times are milliseconds from the
//! page's clock, passed in.

/// How often a new speed sample is taken; shorter windows make the number jump.
const WINDOW_MS: f64 = 500.0;
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
        if elapsed < WINDOW_MS || bytes < self.anchor_bytes {
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
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let rest = &text[19..];
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if rest != "Z"
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000) as f64)
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
}
