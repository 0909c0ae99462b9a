//! Times in query parameters and responses: milliseconds since the Unix epoch, ISO 8601
//! (UTC unless an offset is given) and times relative to now.
//!
//! Accepted by [`parse_time`]:
//!
//! - `1764000000000`: milliseconds since the epoch;
//! - `2025-11-24`, `2025-11-24T16:00`, `2025-11-24T16:00:00.250Z`,
//!   `2025-11-24T17:00:00+01:00` (a space may stand for the `T`, and for the `+` that a
//!   query string decodes into a space);
//! - `now`, `-6h`, `now-30m`, `-7d`, `-90s`: relative to the time of the request.
//!
//! [`iso`] writes a time back as `2025-11-24T16:00:00Z` (milliseconds only when not zero).

/// Milliseconds in a second, minute, hour, day.
pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The earliest and latest time accepted (the beacons' own bounds: 2001 to 2286).
pub const MIN_MS: i64 = 0;
pub const MAX_MS: i64 = 10_000_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `ms` as ISO 8601 in UTC: `2025-11-24T16:00:00Z`, `…:00.250Z` with milliseconds.
pub fn iso(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rest = ms.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (
        rest / HOUR_MS,
        rest % HOUR_MS / MINUTE_MS,
        rest % MINUTE_MS / SECOND_MS,
        rest % SECOND_MS,
    );
    if milli == 0 {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

/// Parses a time parameter (see the module documentation); `now_ms` anchors relative
/// times. The error says what was expected.
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    let expected = || {
        format!(
            "expected milliseconds since the epoch, an ISO 8601 time (2025-11-24T16:00:00Z) \
             or a time relative to now (now, -6h, -7d), got {text:?}"
        )
    };
    let ms = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<i64>().map_err(|_| expected())?
    } else if let Some(relative) = relative(text) {
        let offset = relative.ok_or_else(expected)?;
        now_ms.checked_add(offset).ok_or_else(expected)?
    } else {
        iso_ms(text).ok_or_else(expected)?
    };
    if !(MIN_MS..=MAX_MS).contains(&ms) {
        return Err(format!(
            "{text:?} is outside the times the collector keeps (1970 to 2286)"
        ));
    }
    Ok(ms)
}

/// `now`, `now-6h`, `-6h`, `+1d`: `Some(Some(offset))`; `Some(None)` when it looks
/// relative but is malformed; `None` when it is not relative at all.
fn relative(text: &str) -> Option<Option<i64>> {
    let rest = match text.strip_prefix("now") {
        Some("") => return Some(Some(0)),
        Some(rest) => rest,
        None if text.starts_with('-') => text,
        None => return None,
    };
    let (sign, amount) = match rest.split_at_checked(1)? {
        ("-", amount) => (-1, amount),
        ("+" | " ", amount) => (1, amount),
        _ => return Some(None),
    };
    let unit = amount.chars().last()?;
    let count = &amount[..amount.len() - unit.len_utf8()];
    let unit_ms = match unit {
        's' => SECOND_MS,
        'm' => MINUTE_MS,
        'h' => HOUR_MS,
        'd' => DAY_MS,
        'w' => 7 * DAY_MS,
        _ => return Some(None),
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Some(None);
    }
    Some(
        count
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .map(|ms| sign * ms),
    )
}

/// A strict reader of the few ISO 8601 forms above.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let slice = self.bytes.get(self.at..self.at + n)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        Some(
            slice
                .iter()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
        )
    }

    fn eat(&mut self, choices: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        choices.contains(&b).then(|| {
            self.at += 1;
            b
        })
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

fn iso_ms(text: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = i64::from(c.digits(4)?);
    c.eat(b"-")?;
    let month = c.digits(2)?;
    c.eat(b"-")?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    if c.done() {
        return Some(ms);
    }
    c.eat(b"T ")?;
    let hour = c.digits(2)?;
    c.eat(b":")?;
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut milli = 0;
    if c.eat(b":").is_some() {
        second = c.digits(2)?;
        if c.eat(b".,").is_some() {
            let start = c.at;
            while c.bytes.get(c.at).is_some_and(u8::is_ascii_digit) {
                c.at += 1;
            }
            let fraction = &text[start..c.at];
            if fraction.is_empty() {
                return None;
            }
            let padded: String = fraction.chars().chain("00".chars()).take(3).collect();
            milli = padded.parse::<u32>().ok()?;
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    ms += i64::from(hour) * HOUR_MS
        + i64::from(minute) * MINUTE_MS
        + i64::from(second) * SECOND_MS
        + i64::from(milli);
    if c.done() || c.eat(b"Z").is_some() {
        return c.done().then_some(ms);
    }
    // `+` arrives as a space once a query string is decoded.
    let sign = match c.eat(b"+- ")? {
        b'-' => -1,
        _ => 1,
    };
    let offset_h = c.digits(2)?;
    c.eat(b":");
    let offset_m = c.digits(2)?;
    if !c.done() || offset_h > 23 || offset_m > 59 {
        return None;
    }
    Some(ms - sign * (i64::from(offset_h) * HOUR_MS + i64::from(offset_m) * MINUTE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    #[test]
    fn iso_round_trips() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(NOW), "2025-11-24T16:00:00Z");
        assert_eq!(iso(NOW + 250), "2025-11-24T16:00:00.250Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
        for ms in [0, NOW, NOW + 1, 951_782_400_000, 4_102_444_800_000, MAX_MS] {
            assert_eq!(parse_time(&iso(ms), NOW), Ok(ms), "{}", iso(ms));
        }
    }

    #[test]
    fn forms_accepted() {
        for (text, ms) in [
            ("1764000000000", NOW),
            ("2025-11-24", NOW - 16 * HOUR_MS),
            ("2025-11-24T16:00", NOW),
            ("2025-11-24 16:00:00", NOW),
            ("2025-11-24T16:00:00.5Z", NOW + 500),
            ("2025-11-24T17:00:00+01:00", NOW),
            ("2025-11-24T17:00:00 01:00", NOW),
            ("2025-11-24T15:30:00-0030", NOW),
            ("now", NOW),
            ("-6h", NOW - 6 * HOUR_MS),
            ("now-30m", NOW - 30 * MINUTE_MS),
            ("now+1d", NOW + DAY_MS),
            ("-2w", NOW - 14 * DAY_MS),
            ("-90s", NOW - 90_000),
        ] {
            assert_eq!(parse_time(text, NOW), Ok(ms), "{text}");
        }
    }

    #[test]
    fn forms_refused() {
        for text in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-02-30",
            "2025-11-24T24:00",
            "2025-11-24T16:00:00.Z",
            "2025-11-24T16:00:00Zjunk",
            "-6x",
            "-h",
            "now*2",
            "99999999999999999999",
            "-99999999999999999d",
            "20000000000000",
        ] {
            assert!(parse_time(text, NOW).is_err(), "{text} was accepted");
        }
        assert!(
            parse_time("yesterday", NOW)
                .unwrap_err()
                .contains("ISO 8601")
        );
    }
}
