//! UTC calendar arithmetic for the few timestamp formats SigV4 POST needs. The signer reads the clock
//! once per request, at the edge, and passes the seconds in; everything here is pure.

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixTime(pub u64);

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: u64,
    pub month: u64,
    pub day: u64,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
}

impl UnixTime {
    pub fn now() -> UnixTime {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        UnixTime(since_epoch.as_secs())
    }

    pub fn plus_seconds(self, seconds: u64) -> UnixTime {
        UnixTime(self.0.saturating_add(seconds))
    }

    /// Whole days since the epoch: the UTC date, as a number.
    pub fn day(self) -> u64 {
        self.0 / 86_400
    }

    pub fn utc(self) -> Utc {
        let days = self.0 / 86_400;
        let rem = self.0 % 86_400;
        let (year, month, day) = shared::calendar::civil_from_days(days as i64);
        Utc {
            year: year as u64,
            month: u64::from(month),
            day: u64::from(day),
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }

    /// `20151229`: the date in a SigV4 credential scope.
    pub fn date_stamp(self) -> String {
        let t = self.utc();
        format!("{:04}{:02}{:02}", t.year, t.month, t.day)
    }

    /// `20151229T000000Z`: the `x-amz-date` form field.
    pub fn amz_date(self) -> String {
        let t = self.utc();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }

    /// `2015-12-30T12:00:00.000Z`: a policy's `expiration` (ISO 8601 with milliseconds, as AWS shows it).
    pub fn policy_expiration(self) -> String {
        let t = self.utc();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }

    /// `2015-12-30T12:00:00Z`: RFC 3339 for people and for the page.
    pub fn rfc3339(self) -> String {
        let t = self.utc();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(seconds: u64, amz: &str, rfc: &str) {
        let t = UnixTime(seconds);
        assert_eq!(t.amz_date(), amz);
        assert_eq!(t.rfc3339(), rfc);
        assert_eq!(t.date_stamp(), &amz[..8]);
    }

    #[test]
    fn known_dates() {
        check(0, "19700101T000000Z", "1970-01-01T00:00:00Z");
        // AWS's POST example: x-amz-date and its policy's expiration.
        check(1_451_347_200, "20151229T000000Z", "2015-12-29T00:00:00Z");
        assert_eq!(
            UnixTime(1_451_476_800).policy_expiration(),
            "2015-12-30T12:00:00.000Z"
        );
        // Leap days, the end of a year, the year 2000 (divisible by 400) and 2100 (not a leap year).
        check(951_782_400, "20000229T000000Z", "2000-02-29T00:00:00Z");
        check(1_709_164_799, "20240228T235959Z", "2024-02-28T23:59:59Z");
        check(1_709_164_800, "20240229T000000Z", "2024-02-29T00:00:00Z");
        check(1_735_689_599, "20241231T235959Z", "2024-12-31T23:59:59Z");
        check(4_107_542_400, "21000301T000000Z", "2100-03-01T00:00:00Z");
    }

    #[test]
    fn every_day_of_four_centuries_is_consecutive() {
        let mut previous = UnixTime(0).utc();
        for day in 1..146_097 {
            let t = UnixTime(day * 86_400).utc();
            let next_day = t.day == previous.day + 1 && t.month == previous.month;
            let next_month = t.day == 1 && t.month == previous.month + 1 && t.year == previous.year;
            let next_year =
                t.day == 1 && t.month == 1 && previous.month == 12 && t.year == previous.year + 1;
            assert!(next_day || next_month || next_year, "{previous:?} -> {t:?}");
            assert!(previous.day >= 28 || next_day, "{previous:?} -> {t:?}");
            previous = t;
        }
    }
}
