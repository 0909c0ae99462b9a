//! Dates for `EXT-X-PROGRAM-DATE-TIME`: microseconds since the Unix epoch as ISO 8601 in
//! UTC with milliseconds (`2026-01-01T00:00:00.000Z`).

const DAY_US: u64 = 86_400_000_000;

/// Days in 400 consecutive Gregorian years (97 of them leap years).
const DAYS_PER_400_YEARS: u64 = 146_097;

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for `us` microseconds after 1970-01-01T00:00:00Z
/// (milliseconds truncated).
pub fn iso8601_ms(us: u64) -> String {
    let mut days = us / DAY_US;
    let of_day_ms = (us % DAY_US) / 1000;
    let mut year = 1970 + 400 * (days / DAYS_PER_400_YEARS);
    days %= DAYS_PER_400_YEARS;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let february = if is_leap(year) { 29 } else { 28 };
    let months = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in months {
        if days < length {
            break;
        }
        days -= length;
        month += 1;
    }
    let (hours, minutes) = (of_day_ms / 3_600_000, of_day_ms / 60_000 % 60);
    let (seconds, millis) = (of_day_ms / 1000 % 60, of_day_ms % 1000);
    format!(
        "{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z",
        day = days + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let s = 1_000_000u64;
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(951_782_400 * s), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            iso8601_ms(951_868_799 * s + 999_999),
            "2000-02-29T23:59:59.999Z"
        );
        assert_eq!(
            iso8601_ms(1_700_000_000 * s + 123_456),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(iso8601_ms(1_767_225_600 * s), "2026-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(4_107_542_400 * s), "2100-03-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(253_402_300_799 * s), "9999-12-31T23:59:59.000Z");
        // Far beyond any real clock: still a date, no panic.
        assert!(iso8601_ms(u64::MAX).ends_with('Z'));
    }
}
