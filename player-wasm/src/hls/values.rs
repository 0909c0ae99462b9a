//! The scalar value grammars of RFC 8216 (section 4.2): decimal integers, decimal floats,
//! byte ranges `n[@o]`, resolutions, hexadecimal sequences, and ISO 8601 dates turned into
//! milliseconds since the Unix epoch.
//!
//! Each parser accepts the whole string or returns a short reason; callers add the line and
//! tag. Nothing here panics or overflows: out-of-range numbers are reasons too.

/// Why a value was refused, in a few words.
pub(crate) type Reason = &'static str;

/// `decimal-integer`: `[0-9]+`, fitting in 64 bits.
pub(crate) fn decimal_integer(text: &str) -> Result<u64, Reason> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a decimal integer");
    }
    text.parse().map_err(|_| "does not fit in 64 bits")
}

/// `decimal-floating-point`: digits with at most one `.` (`4`, `4.`, `4.5`, `.5`), finite.
pub(crate) fn decimal_float(text: &str) -> Result<f64, Reason> {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let dots = text.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != text.len() {
        return Err("expected a non-negative decimal number");
    }
    let value = decimal_value(text).ok_or("expected a decimal number")?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err("too large")
    }
}

/// The value of ASCII digits with at most one `.` (at least one digit), correctly
/// rounded; infinite when too large. In the browser, JS's `parseFloat` (correctly rounded
/// too: it gives the same value for such text): core's float parser would bring some 15 KB
/// of code and tables into the package.
fn decimal_value(text: &str) -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    let value = Some(js_sys::parse_float(text)).filter(|value| !value.is_nan());
    #[cfg(not(target_arch = "wasm32"))]
    let value = text.parse().ok();
    value
}

/// `signed-decimal-floating-point`: a decimal float with an optional leading `-` (or `+`).
pub(crate) fn signed_decimal_float(text: &str) -> Result<f64, Reason> {
    if let Some(magnitude) = text.strip_prefix('-') {
        decimal_float(magnitude).map(|value| -value)
    } else {
        decimal_float(text.strip_prefix('+').unwrap_or(text))
    }
}

/// A byte range `n[@o]`: length and optional offset.
pub(crate) fn byte_range(text: &str) -> Result<(u64, Option<u64>), Reason> {
    let (length, offset) = match text.split_once('@') {
        Some((length, offset)) => (length, Some(offset)),
        None => (text, None),
    };
    let length = decimal_integer(length).map_err(|_| "expected <length>[@<offset>]")?;
    if length == 0 {
        return Err("the length is zero");
    }
    let offset = offset
        .map(|offset| decimal_integer(offset).map_err(|_| "expected <length>[@<offset>]"))
        .transpose()?;
    if let Some(offset) = offset
        && offset.checked_add(length).is_none()
    {
        return Err("offset + length overflows 64 bits");
    }
    Ok((length, offset))
}

/// `decimal-resolution`: `<width>x<height>`.
pub(crate) fn resolution(text: &str) -> Result<(u64, u64), Reason> {
    let (width, height) = text.split_once('x').ok_or("expected <width>x<height>")?;
    let width = decimal_integer(width).map_err(|_| "expected <width>x<height>")?;
    let height = decimal_integer(height).map_err(|_| "expected <width>x<height>")?;
    Ok((width, height))
}

/// `hexadecimal-sequence`: `0x` or `0X` then at least one hexadecimal digit.
pub(crate) fn hexadecimal_sequence(text: &str) -> Result<(), Reason> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or("expected 0x followed by hexadecimal digits")?;
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("expected 0x followed by hexadecimal digits")
    }
}

/// An ISO 8601 date and time (`YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm|±hhmm|±hh]`) as
/// milliseconds since the Unix epoch. A missing time zone is read as UTC; a space instead of
/// `T` is accepted.
pub(crate) fn date_time_ms(text: &str) -> Result<f64, Reason> {
    const EXPECTED: Reason = "expected an ISO 8601 date and time (YYYY-MM-DDThh:mm:ss[.fff]Z)";
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(EXPECTED);
    }
    let (Some(date), Some(time_and_zone)) = (text.get(..10), text.get(11..)) else {
        return Err(EXPECTED);
    };
    let days = days_since_epoch(date).ok_or(EXPECTED)?;
    let (seconds_of_day, zone) = time_of_day(time_and_zone).ok_or(EXPECTED)?;
    let offset_seconds = zone_offset_seconds(zone).ok_or(EXPECTED)?;
    let seconds = days as f64 * 86_400.0 + seconds_of_day - offset_seconds as f64;
    Ok(seconds * 1000.0)
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn days_since_epoch(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(fixed_digits(date.get(0..4)?)?);
    let month = fixed_digits(date.get(5..7)?)?;
    let day = fixed_digits(date.get(8..10)?)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `hh:mm:ss[.fff]` followed by the zone designator: seconds of the day and the zone text.
fn time_of_day(text: &str) -> Option<(f64, &str)> {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let hours = fixed_digits(text.get(0..2)?)?;
    let minutes = fixed_digits(text.get(3..5)?)?;
    let seconds = fixed_digits(text.get(6..8)?)?;
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let rest = text.get(8..)?;
    let (fraction, zone) = match rest.strip_prefix(['.', ',']) {
        Some(after_dot) => {
            let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let fraction = decimal_value(&["0.", &after_dot[..digits]].concat())?;
            (fraction, &after_dot[digits..])
        }
        None => (0.0, rest),
    };
    let whole = f64::from(hours * 3600 + minutes * 60 + seconds);
    Some((whole + fraction, zone))
}

/// `Z`, `±hh:mm`, `±hhmm`, `±hh` or nothing (UTC) as seconds east of UTC.
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone == "Z" || zone == "z" {
        return Some(0);
    }
    let (sign, rest) = match zone.as_bytes()[0] {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.len() {
        2 => (rest, "00"),
        4 => rest.split_at_checked(2)?,
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    let (hours, minutes) = (fixed_digits(hours)?, fixed_digits(minutes)?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// A run of ASCII digits (short enough not to overflow).
fn fixed_digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(decimal_integer("0"), Ok(0));
        assert_eq!(decimal_integer("0042"), Ok(42));
        assert_eq!(decimal_integer("18446744073709551615"), Ok(u64::MAX));
        assert!(decimal_integer("18446744073709551616").is_err());
        for bad in ["", "-1", "+1", "1.0", " 1", "1e3", "x"] {
            assert!(decimal_integer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(decimal_float("4"), Ok(4.0));
        assert_eq!(decimal_float("4."), Ok(4.0));
        assert_eq!(decimal_float(".5"), Ok(0.5));
        assert_eq!(decimal_float("10.010"), Ok(10.01));
        for bad in ["", ".", "1..2", "1.2.3", "-1", "1e3", "inf", "NaN", "1,5"] {
            assert!(decimal_float(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decimal_float(&"9".repeat(400)), Err("too large"));
        assert_eq!(signed_decimal_float("-2.5"), Ok(-2.5));
        assert_eq!(signed_decimal_float("+2.5"), Ok(2.5));
        assert!(signed_decimal_float("--2").is_err());
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("100"), Ok((100, None)));
        assert_eq!(byte_range("100@5"), Ok((100, Some(5))));
        assert!(byte_range("0@5").is_err());
        assert!(byte_range("100@").is_err());
        assert!(byte_range("@5").is_err());
        assert!(byte_range("1@18446744073709551615").is_err());
        assert!(byte_range("10 @ 5").is_err());
    }

    #[test]
    fn resolutions_and_hex() {
        assert_eq!(resolution("1280x720"), Ok((1280, 720)));
        assert!(resolution("1280X720").is_err());
        assert!(resolution("1280x").is_err());
        assert!(hexadecimal_sequence("0x0123abcDEF").is_ok());
        assert!(hexadecimal_sequence("0X00").is_ok());
        assert!(hexadecimal_sequence("0x").is_err());
        assert!(hexadecimal_sequence("12").is_err());
    }

    #[test]
    fn dates_become_epoch_milliseconds() {
        assert_eq!(date_time_ms("1970-01-01T00:00:00Z"), Ok(0.0));
        assert_eq!(
            date_time_ms("2000-03-01T00:00:00.500Z"),
            Ok(951_868_800_500.0)
        );
        assert_eq!(
            date_time_ms("2000-03-01T01:00:00+01:00"),
            date_time_ms("2000-03-01T00:00:00Z")
        );
        assert_eq!(
            date_time_ms("2000-03-01T01:00:00+0100"),
            date_time_ms("2000-03-01T00:00:00")
        );
        assert_eq!(
            date_time_ms("2024-02-29 23:59:60-00"),
            Ok(1_709_251_200_000.0)
        );
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00+1:00",
            "2023-01-01T00:00:00Q",
            "2023-01-01",
            "２０２３-01-01T00:00:00Z",
            "2023-01-01T00:00:0éZ",
        ] {
            assert!(date_time_ms(bad).is_err(), "{bad:?}");
        }
    }
}
