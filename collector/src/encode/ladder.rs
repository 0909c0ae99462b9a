//! The bitrate ladder: parsing `--ladder` specs (`720p:2500k,1280x720:2500k`), the default
//! ladder, and fitting a ladder to a source (never upscaling past it).
//!
//! Pure functions over numbers; nothing here runs ffmpeg.

use std::fmt;
use std::str::FromStr;

/// Lowest bitrate a rung may ask for, in bit/s.
pub const MIN_BITRATE: u64 = 50_000;
/// Highest bitrate a rung may ask for, in bit/s.
pub const MAX_BITRATE: u64 = 100_000_000;
/// Smallest rung height or width, in pixels.
pub const MIN_DIMENSION: u32 = 64;
/// Largest rung height or width, in pixels (8K UHD width).
pub const MAX_DIMENSION: u32 = 7680;
/// Most rungs a ladder may have.
pub const MAX_RUNGS: usize = 12;

/// What was wrong with a `--ladder` spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    /// The spec is empty or only separators.
    #[error("the ladder is empty; expected e.g. `720p:2500k,360p:700k`")]
    Empty,
    /// A rung is not `HEIGHTp:BITRATE` or `WIDTHxHEIGHT:BITRATE`.
    #[error("rung `{rung}`: {reason}; expected `720p:2500k` or `1280x720:2500k`")]
    BadRung {
        /// The rung as written.
        rung: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Two rungs have the same height (and so the same name).
    #[error("duplicate rung {0}: every rung needs its own height")]
    Duplicate(String),
    /// More rungs than [`MAX_RUNGS`].
    #[error("{0} rungs; at most {MAX_RUNGS} are allowed")]
    TooMany(usize),
    /// The source is too small to make any rung from.
    #[error("the source is {width}x{height}; rungs need at least {MIN_DIMENSION} pixels each way")]
    SourceTooSmall {
        /// Source display width.
        width: u32,
        /// Source height.
        height: u32,
    },
}

/// One rung as asked for: a height, optionally a width, and a bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RungSpec {
    /// Picture height in pixels (even).
    pub height: u32,
    /// Picture width in pixels (even), or `None` to follow the source's aspect ratio.
    pub width: Option<u32>,
    /// Target video bitrate in bit/s.
    pub bitrate: u64,
}

/// A ladder as asked for, highest rung first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderSpec(pub Vec<RungSpec>);

impl Default for LadderSpec {
    /// 1080p 4500k, 720p 2500k, 480p 1200k, 360p 700k, 240p 300k.
    fn default() -> Self {
        let rung = |height, kbps: u64| RungSpec {
            height,
            width: None,
            bitrate: kbps * 1000,
        };
        Self(vec![
            rung(1080, 4500),
            rung(720, 2500),
            rung(480, 1200),
            rung(360, 700),
            rung(240, 300),
        ])
    }
}

impl FromStr for LadderSpec {
    type Err = LadderError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let rungs: Vec<&str> = spec
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .collect();
        if rungs.is_empty() {
            return Err(LadderError::Empty);
        }
        if rungs.len() > MAX_RUNGS {
            return Err(LadderError::TooMany(rungs.len()));
        }
        let mut parsed: Vec<RungSpec> = Vec::with_capacity(rungs.len());
        for rung in rungs {
            let r = parse_rung(rung)?;
            if parsed.iter().any(|p| p.height == r.height) {
                return Err(LadderError::Duplicate(format!("{}p", r.height)));
            }
            parsed.push(r);
        }
        parsed.sort_by_key(|r| std::cmp::Reverse(r.height));
        Ok(Self(parsed))
    }
}

impl fmt::Display for LadderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r.width {
                Some(w) => write!(f, "{w}x{}", r.height)?,
                None => write!(f, "{}p", r.height)?,
            }
            write!(f, ":{}k", r.bitrate / 1000)?;
        }
        Ok(())
    }
}

fn parse_rung(rung: &str) -> Result<RungSpec, LadderError> {
    let bad = |reason: String| LadderError::BadRung {
        rung: rung.to_owned(),
        reason,
    };
    let (size, rate) = rung
        .split_once(':')
        .ok_or_else(|| bad("no `:` between size and bitrate".into()))?;
    let (width, height) = if let Some(h) = size.strip_suffix(['p', 'P']) {
        (None, parse_dimension(h, "height").map_err(bad)?)
    } else if let Some((w, h)) = size.split_once(['x', 'X']) {
        (
            Some(parse_dimension(w, "width").map_err(bad)?),
            parse_dimension(h, "height").map_err(bad)?,
        )
    } else {
        return Err(bad(format!(
            "size `{size}` is neither `HEIGHTp` nor `WIDTHxHEIGHT`"
        )));
    };
    let bitrate = parse_bitrate(rate).map_err(bad)?;
    Ok(RungSpec {
        height,
        width,
        bitrate,
    })
}

fn parse_dimension(text: &str, what: &str) -> Result<u32, String> {
    let value: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("{what} `{text}` is not a whole number"))?;
    if !(MIN_DIMENSION..=MAX_DIMENSION).contains(&value) {
        return Err(format!(
            "{what} {value} is outside {MIN_DIMENSION}..={MAX_DIMENSION}"
        ));
    }
    if !value.is_multiple_of(2) {
        return Err(format!(
            "{what} {value} is odd (4:2:0 video needs even sizes)"
        ));
    }
    Ok(value)
}

/// Parses `2500k`, `2.5M`, `2500000` (bit/s) into bit/s, within the allowed range.
pub fn parse_bitrate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, scale) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1e3),
        Some((i, 'm' | 'M')) => (&text[..i], 1e6),
        _ => (text, 1.0),
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0 && !number.starts_with('+'))
        .ok_or_else(|| format!("bitrate `{text}` is not a number like `2500k` or `2.5M`"))?;
    let bps = value * scale;
    if bps == 0.0 {
        return Err("bitrate is zero".into());
    }
    if bps < MIN_BITRATE as f64 {
        let hint = if scale == 1.0 {
            format!(" (a bare number is bit/s; did you mean `{text}k`?)")
        } else {
            String::new()
        };
        return Err(format!(
            "bitrate {bps} bit/s is below the minimum of {}k{hint}",
            MIN_BITRATE / 1000
        ));
    }
    if bps > MAX_BITRATE as f64 {
        return Err(format!(
            "bitrate {bps} bit/s is above the maximum of {}M",
            MAX_BITRATE / 1_000_000
        ));
    }
    Ok(bps.round() as u64)
}

/// A rung fitted to a source: its directory name, picture size and bitrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rung {
    /// Directory and display name, e.g. `720p`.
    pub name: String,
    /// Picture width in pixels (even).
    pub width: u32,
    /// Picture height in pixels (even).
    pub height: u32,
    /// Target video bitrate in bit/s.
    pub bitrate: u64,
}

/// A ladder fitted to a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderPlan {
    /// The rungs to encode, tallest first.
    pub rungs: Vec<Rung>,
    /// Rungs left out because they were taller than the source, e.g. `1080p`.
    pub dropped: Vec<String>,
}

/// Fits `spec` to a source of `width`x`height` (display size, square pixels): rungs taller
/// than the source are dropped; if that drops them all, the shortest rung is kept at the
/// source's height (rounded down to even). Height-only rungs take their width from the
/// source's aspect ratio, rounded to even.
pub fn fit(spec: &LadderSpec, width: u32, height: u32) -> Result<LadderPlan, LadderError> {
    let even_height = height & !1;
    if width < MIN_DIMENSION || even_height < MIN_DIMENSION {
        return Err(LadderError::SourceTooSmall { width, height });
    }
    let mut rungs = Vec::new();
    let mut dropped = Vec::new();
    for r in &spec.0 {
        if r.height > height {
            dropped.push(format!("{}p", r.height));
            continue;
        }
        rungs.push(Rung {
            name: format!("{}p", r.height),
            width: r
                .width
                .unwrap_or_else(|| aspect_width(width, height, r.height)),
            height: r.height,
            bitrate: r.bitrate,
        });
    }
    if rungs.is_empty()
        && let Some(shortest) = spec.0.iter().min_by_key(|r| r.height)
    {
        rungs.push(Rung {
            name: format!("{even_height}p"),
            width: aspect_width(width, height, even_height),
            height: even_height,
            bitrate: shortest.bitrate,
        });
    }
    if rungs.is_empty() {
        return Err(LadderError::Empty);
    }
    Ok(LadderPlan { rungs, dropped })
}

/// The even width that keeps `src_width:src_height` at `height`, at least 2.
pub fn aspect_width(src_width: u32, src_height: u32, height: u32) -> u32 {
    let exact = f64::from(src_width) * f64::from(height) / f64::from(src_height.max(1));
    let even = ((exact / 2.0).round() as u32) * 2;
    even.max(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Result<LadderSpec, LadderError> {
        s.parse()
    }

    #[test]
    fn parses_heights_sizes_and_units() {
        let l = spec("720p:2500k, 1280x720x:1M").unwrap_err();
        assert!(matches!(l, LadderError::BadRung { .. }), "{l}");
        let l = spec("360p:700k,1280x720:2.5M,1080P:4500000").unwrap();
        assert_eq!(
            l.0,
            vec![
                RungSpec {
                    height: 1080,
                    width: None,
                    bitrate: 4_500_000
                },
                RungSpec {
                    height: 720,
                    width: Some(1280),
                    bitrate: 2_500_000
                },
                RungSpec {
                    height: 360,
                    width: None,
                    bitrate: 700_000
                },
            ]
        );
        assert_eq!(l.to_string(), "1080p:4500k,1280x720:2500k,360p:700k");
        assert_eq!(
            spec("1080p:4500k,720p:2500k,480p:1200k,360p:700k,240p:300k").unwrap(),
            LadderSpec::default()
        );
    }

    #[test]
    fn rejects_bad_specs_with_reasons() {
        let cases = [
            ("", "empty"),
            (" , ,", "empty"),
            ("720p", "no `:`"),
            ("720:2500k", "neither"),
            ("720p:0k", "zero"),
            ("720p:0", "zero"),
            ("720p:2500", "did you mean `2500k`"),
            ("720p:500M", "above the maximum"),
            ("720p:fast", "not a number"),
            ("720p:-5k", "not a number"),
            ("720p:nank", "not a number"),
            ("720p:infM", "not a number"),
            ("721p:2500k", "odd"),
            ("1281x720:2500k", "odd"),
            ("32p:100k", "outside"),
            ("99999p:100k", "outside"),
            ("axbp:100k", "not a whole number"),
            ("p:100k", "not a whole number"),
            ("720p:2500k,720p:1000k", "duplicate rung 720p"),
            ("720p:2500k,1280x720:1000k", "duplicate rung 720p"),
            ("720p:2500k:av1", "not a number"),
            ("ünïcödé", "no `:`"),
        ];
        for (text, expected) in cases {
            let err = spec(text).expect_err(text).to_string();
            assert!(err.contains(expected), "`{text}` gave `{err}`");
        }
        let many = (1..=13)
            .map(|i| format!("{}p:{}k", 64 + 2 * i, 100 + i))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(spec(&many).unwrap_err(), LadderError::TooMany(13));
    }

    #[test]
    fn fits_to_the_source_without_upscaling() {
        let plan = fit(&LadderSpec::default(), 1280, 720).unwrap();
        let names: Vec<_> = plan.rungs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["720p", "480p", "360p", "240p"]);
        assert_eq!(plan.dropped, ["1080p"]);
        let sizes: Vec<_> = plan.rungs.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(sizes, [(1280, 720), (854, 480), (640, 360), (426, 240)]);

        // Every rung taller than the source: one rung at the source height.
        let plan = fit(&spec("1080p:4500k,720p:2500k").unwrap(), 640, 361).unwrap();
        assert_eq!(
            plan.rungs,
            vec![Rung {
                name: "360p".into(),
                width: 638,
                height: 360,
                bitrate: 2_500_000
            }]
        );
        assert_eq!(plan.dropped, ["1080p", "720p"]);

        // Explicit widths are kept; portrait sources get narrow rungs.
        let plan = fit(&spec("640x360:700k,240p:300k").unwrap(), 1080, 1920).unwrap();
        assert_eq!(plan.rungs[0].width, 640);
        assert_eq!(plan.rungs[1].width, 136);

        assert_eq!(
            fit(&LadderSpec::default(), 40, 40).unwrap_err(),
            LadderError::SourceTooSmall {
                width: 40,
                height: 40
            }
        );
    }

    #[test]
    fn aspect_width_rounds_to_even() {
        assert_eq!(aspect_width(1920, 1080, 240), 426);
        assert_eq!(aspect_width(1920, 1080, 480), 854);
        assert_eq!(aspect_width(1920, 1080, 360), 640);
        assert_eq!(aspect_width(1, 10_000, 64), 2);
    }
}
