//! Common Media Client Data (CTA-5004, "CMCD" v1): what a player tells the server about
//! each request (bitrate, buffer, throughput, session), as a `CMCD=` query argument or as
//! four `CMCD-*` headers.
//!
//! The player encodes it ([`Cmcd::encode`], [`Cmcd::headers`]); the collector parses it
//! ([`Cmcd::parse`], [`Cmcd::from_headers`]) to log each request with the state of the
//! player that made it. Parsing is strict about the keys it knows (types, tokens, string
//! lengths) and keeps unknown keys as they came, because CMCD allows custom keys.

use std::fmt::{self, Write as _};

/// The header each key travels in when CMCD is sent as headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmcdHeader {
    /// `CMCD-Object`: keys about the object requested (br, d, ot, tb).
    Object,
    /// `CMCD-Request`: keys that change with every request (bl, dl, mtp, nor, nrr, su).
    Request,
    /// `CMCD-Session`: keys constant for the session (cid, pr, sf, sid, st, v).
    Session,
    /// `CMCD-Status`: keys that change rarely (bs, rtp).
    Status,
}

impl CmcdHeader {
    /// All four headers, in the order they are emitted.
    pub const ALL: [CmcdHeader; 4] = [Self::Object, Self::Request, Self::Session, Self::Status];

    /// The header's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Object => "CMCD-Object",
            Self::Request => "CMCD-Request",
            Self::Session => "CMCD-Session",
            Self::Status => "CMCD-Status",
        }
    }

    /// The header a key belongs in; custom keys go in `CMCD-Request`.
    pub fn of_key(key: &str) -> Self {
        match key {
            "br" | "d" | "ot" | "tb" => Self::Object,
            "cid" | "pr" | "sf" | "sid" | "st" | "v" => Self::Session,
            "bs" | "rtp" => Self::Status,
            _ => Self::Request,
        }
    }
}

/// Object type (`ot`): what kind of object the request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `m`: a manifest or playlist.
    Manifest,
    /// `a`: audio only.
    Audio,
    /// `v`: video only.
    Video,
    /// `av`: muxed audio and video.
    Muxed,
    /// `i`: an init segment.
    Init,
    /// `c`: captions or subtitles.
    Caption,
    /// `tt`: an ISOBMFF timed text track.
    TimedText,
    /// `k`: a key or license.
    Key,
    /// `o`: anything else.
    Other,
}

/// Streaming format (`sf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamingFormat {
    /// `d`: MPEG-DASH.
    Dash,
    /// `h`: HLS.
    Hls,
    /// `s`: Smooth Streaming.
    Smooth,
    /// `o`: anything else.
    Other,
}

/// Stream type (`st`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamType {
    /// `v`: all segments are available (VOD).
    Vod,
    /// `l`: segments become available over time (live).
    Live,
}

macro_rules! tokens {
    ($ty:ty { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            /// The token as it appears on the wire.
            pub fn token(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            fn from_token(token: &str) -> Option<Self> {
                match token { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

tokens!(ObjectType { Manifest = "m", Audio = "a", Video = "v", Muxed = "av", Init = "i", Caption = "c", TimedText = "tt", Key = "k", Other = "o" });
tokens!(StreamingFormat { Dash = "d", Hls = "h", Smooth = "s", Other = "o" });
tokens!(StreamType { Vod = "v", Live = "l" });

/// The value of a key CMCD does not define, kept as it came.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomValue {
    /// The key alone: `true`.
    Flag,
    /// A quoted string, unescaped.
    String(String),
    /// A bare token or number, as written.
    Token(String),
}

/// One request's CMCD data. `None`/`false` fields are absent on the wire.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cmcd {
    /// `br`: encoded bitrate of the object, kbit/s.
    pub br: Option<u64>,
    /// `bl`: buffer length, ms (rounded to 100 ms).
    pub bl: Option<u64>,
    /// `bs`: the buffer was empty (starved) since the previous request.
    pub bs: bool,
    /// `cid`: content id.
    pub cid: Option<String>,
    /// `d`: object duration, ms.
    pub d: Option<u64>,
    /// `dl`: deadline from the request until the buffer runs out, ms.
    pub dl: Option<u64>,
    /// `mtp`: measured throughput, kbit/s (rounded to 100).
    pub mtp: Option<u64>,
    /// `nor`: the next object the player will request, relative to this one.
    pub nor: Option<String>,
    /// `nrr`: the next byte range the player will request, `start-end`.
    pub nrr: Option<String>,
    /// `ot`: object type.
    pub ot: Option<ObjectType>,
    /// `pr`: playback rate (1 is real time).
    pub pr: Option<f64>,
    /// `rtp`: requested maximum throughput, kbit/s.
    pub rtp: Option<u64>,
    /// `sf`: streaming format.
    pub sf: Option<StreamingFormat>,
    /// `sid`: session id.
    pub sid: Option<String>,
    /// `st`: stream type.
    pub st: Option<StreamType>,
    /// `su`: the request is for startup, seek or recovery from a stall.
    pub su: bool,
    /// `tb`: top bitrate the player could play, kbit/s.
    pub tb: Option<u64>,
    /// `v`: CMCD version (absent means 1).
    pub v: Option<u64>,
    /// Keys CMCD does not define, in the order they came.
    pub custom: Vec<(String, CustomValue)>,
}

/// Longest `cid` and `sid` the specification allows.
pub const MAX_ID_CHARS: usize = 64;

/// What was wrong with a CMCD payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmcdError {
    #[error("CMCD key {key:?}: expected a non-negative integer, found {found:?}")]
    NotAnInteger { key: String, found: String },
    #[error("CMCD key {key:?}: expected a number, found {found:?}")]
    NotANumber { key: String, found: String },
    #[error("CMCD key {key:?}: expected a quoted string, found {found:?}")]
    NotAString { key: String, found: String },
    #[error("CMCD key {key:?}: unknown token {found:?}")]
    UnknownToken { key: String, found: String },
    #[error("CMCD key {key:?}: is a flag and takes no value, found {found:?}")]
    NotAFlag { key: String, found: String },
    #[error("CMCD key {key:?}: longer than {MAX_ID_CHARS} characters")]
    TooLong { key: String },
    #[error("CMCD: malformed key {key:?}")]
    BadKey { key: String },
    #[error("CMCD: unterminated string for key {key:?}")]
    Unterminated { key: String },
    #[error("CMCD key {key:?} appears twice")]
    Duplicate { key: String },
}

impl Cmcd {
    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Parses a payload such as `br=3200,bs,ot=v,sid="6e2f"` (the value of the `CMCD`
    /// query argument, already percent-decoded, or of one `CMCD-*` header).
    pub fn parse(payload: &str) -> Result<Self, CmcdError> {
        let mut cmcd = Self::default();
        cmcd.merge_payload(payload)?;
        Ok(cmcd)
    }

    /// Parses the four `CMCD-*` headers, given a lookup from header name to value.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Self, CmcdError> {
        let mut cmcd = Self::default();
        for name in CmcdHeader::ALL {
            if let Some(value) = header(name.name()) {
                cmcd.merge_payload(value)?;
            }
        }
        Ok(cmcd)
    }

    fn merge_payload(&mut self, payload: &str) -> Result<(), CmcdError> {
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in split_pairs(payload)? {
            if seen.contains(&key) {
                return Err(CmcdError::Duplicate { key });
            }
            self.set(&key, value)?;
            seen.push(key);
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: Option<RawValue>) -> Result<(), CmcdError> {
        let owned = || key.to_string();
        match key {
            "br" => self.br = Some(integer(key, value)?),
            "bl" => self.bl = Some(integer(key, value)?),
            "d" => self.d = Some(integer(key, value)?),
            "dl" => self.dl = Some(integer(key, value)?),
            "mtp" => self.mtp = Some(integer(key, value)?),
            "rtp" => self.rtp = Some(integer(key, value)?),
            "tb" => self.tb = Some(integer(key, value)?),
            "v" => self.v = Some(integer(key, value)?),
            "bs" => self.bs = flag(key, value)?,
            "su" => self.su = flag(key, value)?,
            "cid" => self.cid = Some(id(key, value)?),
            "sid" => self.sid = Some(id(key, value)?),
            "nor" => self.nor = Some(string(key, value)?),
            "nrr" => self.nrr = Some(string(key, value)?),
            "ot" => self.ot = Some(token(key, value, ObjectType::from_token)?),
            "sf" => self.sf = Some(token(key, value, StreamingFormat::from_token)?),
            "st" => self.st = Some(token(key, value, StreamType::from_token)?),
            "pr" => {
                let text = bare(key, value)?;
                let rate = text
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| CmcdError::NotANumber {
                        key: owned(),
                        found: text,
                    })?;
                self.pr = Some(rate);
            }
            _ => {
                let custom = match value {
                    None => CustomValue::Flag,
                    Some(RawValue::Quoted(s)) => CustomValue::String(s),
                    Some(RawValue::Bare(s)) => CustomValue::Token(s),
                };
                self.custom.push((owned(), custom));
            }
        }
        Ok(())
    }

    /// Every set key with its wire form, sorted by key as the specification asks.
    fn pairs(&self) -> Vec<(String, Option<String>)> {
        let mut pairs: Vec<(String, Option<String>)> = Vec::new();
        let mut int = |k: &str, v: Option<u64>| {
            if let Some(v) = v {
                pairs.push((k.into(), Some(v.to_string())));
            }
        };
        int("br", self.br);
        int("bl", self.bl);
        int("d", self.d);
        int("dl", self.dl);
        int("mtp", self.mtp);
        int("rtp", self.rtp);
        int("tb", self.tb);
        int("v", self.v.filter(|v| *v != 1));
        for (k, set) in [("bs", self.bs), ("su", self.su)] {
            if set {
                pairs.push((k.into(), None));
            }
        }
        for (k, v) in [
            ("cid", &self.cid),
            ("sid", &self.sid),
            ("nor", &self.nor),
            ("nrr", &self.nrr),
        ] {
            if let Some(v) = v {
                pairs.push((k.into(), Some(quote(v))));
            }
        }
        for (k, v) in [
            ("ot", self.ot.map(ObjectType::token)),
            ("sf", self.sf.map(StreamingFormat::token)),
            ("st", self.st.map(StreamType::token)),
        ] {
            if let Some(v) = v {
                pairs.push((k.into(), Some(v.into())));
            }
        }
        if let Some(pr) = self.pr.filter(|pr| *pr != 1.0) {
            pairs.push(("pr".into(), Some(format_decimal(pr))));
        }
        for (k, v) in &self.custom {
            let wire = match v {
                CustomValue::Flag => None,
                CustomValue::String(s) => Some(quote(s)),
                CustomValue::Token(t) => Some(t.clone()),
            };
            pairs.push((k.clone(), wire));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    }

    /// The payload for the `CMCD` query argument (not yet percent-encoded).
    pub fn encode(&self) -> String {
        join(self.pairs().iter())
    }

    /// The payload split into its `CMCD-*` headers; headers with no keys are left out.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let pairs = self.pairs();
        CmcdHeader::ALL
            .into_iter()
            .filter_map(|h| {
                let value = join(pairs.iter().filter(|(k, _)| CmcdHeader::of_key(k) == h));
                (!value.is_empty()).then(|| (h.name(), value))
            })
            .collect()
    }
}

impl fmt::Display for Cmcd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

fn join<'a>(pairs: impl Iterator<Item = &'a (String, Option<String>)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(k);
        if let Some(v) = v {
            let _ = write!(out, "={v}");
        }
    }
    out
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn format_decimal(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value as written: quoted (unescaped) or bare.
#[derive(Debug, Clone, PartialEq)]
enum RawValue {
    Quoted(String),
    Bare(String),
}

/// Splits `k=v,k2,k3="a,b"` into pairs, honouring quotes and escapes.
fn split_pairs(payload: &str) -> Result<Vec<(String, Option<RawValue>)>, CmcdError> {
    let mut pairs = Vec::new();
    let mut chars = payload.trim().chars().peekable();
    while chars.peek().is_some() {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let key = key.trim().to_string();
        let valid_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !valid_key {
            return Err(CmcdError::BadKey { key });
        }
        let value = if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some(escaped) => s.push(escaped),
                            None => break,
                        },
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => s.push(c),
                    }
                }
                if !closed {
                    return Err(CmcdError::Unterminated { key });
                }
                Some(RawValue::Quoted(s))
            } else {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                Some(RawValue::Bare(s.trim().to_string()))
            }
        } else {
            None
        };
        // After a value only a separator may follow.
        while let Some(&c) = chars.peek() {
            chars.next();
            if c == ',' {
                break;
            }
            if !c.is_whitespace() {
                return Err(CmcdError::BadKey {
                    key: format!("{key}{c}"),
                });
            }
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

fn shown(value: &Option<RawValue>) -> String {
    match value {
        None => String::new(),
        Some(RawValue::Quoted(s)) => quote(s),
        Some(RawValue::Bare(s)) => s.clone(),
    }
}

fn bare(key: &str, value: Option<RawValue>) -> Result<String, CmcdError> {
    match value {
        Some(RawValue::Bare(s)) => Ok(s),
        other => Err(CmcdError::NotANumber {
            key: key.into(),
            found: shown(&other),
        }),
    }
}

fn integer(key: &str, value: Option<RawValue>) -> Result<u64, CmcdError> {
    let found = shown(&value);
    match value {
        Some(RawValue::Bare(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| CmcdError::NotAnInteger {
                key: key.into(),
                found,
            })
        }
        _ => Err(CmcdError::NotAnInteger {
            key: key.into(),
            found,
        }),
    }
}

fn flag(key: &str, value: Option<RawValue>) -> Result<bool, CmcdError> {
    match value {
        None => Ok(true),
        Some(RawValue::Bare(s)) if s == "true" => Ok(true),
        Some(RawValue::Bare(s)) if s == "false" => Ok(false),
        other => Err(CmcdError::NotAFlag {
            key: key.into(),
            found: shown(&other),
        }),
    }
}

fn string(key: &str, value: Option<RawValue>) -> Result<String, CmcdError> {
    match value {
        Some(RawValue::Quoted(s)) => Ok(s),
        other => Err(CmcdError::NotAString {
            key: key.into(),
            found: shown(&other),
        }),
    }
}

fn id(key: &str, value: Option<RawValue>) -> Result<String, CmcdError> {
    let s = string(key, value)?;
    if s.chars().count() > MAX_ID_CHARS {
        return Err(CmcdError::TooLong { key: key.into() });
    }
    Ok(s)
}

fn token<T>(
    key: &str,
    value: Option<RawValue>,
    from: fn(&str) -> Option<T>,
) -> Result<T, CmcdError> {
    match value {
        Some(RawValue::Bare(s)) => from(&s).ok_or(CmcdError::UnknownToken {
            key: key.into(),
            found: s,
        }),
        other => Err(CmcdError::UnknownToken {
            key: key.into(),
            found: shown(&other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cmcd {
        Cmcd {
            br: Some(3200),
            bl: Some(21300),
            bs: true,
            cid: Some("faec5fc2-ac30-11ea-bb37-0242ac130002".into()),
            d: Some(4004),
            mtp: Some(25400),
            nor: Some("../seg_004.m4s".into()),
            ot: Some(ObjectType::Video),
            sf: Some(StreamingFormat::Hls),
            sid: Some("6e2fb550-c457-11e9-bb97-0800200c9a66".into()),
            st: Some(StreamType::Vod),
            su: true,
            tb: Some(6000),
            ..Cmcd::default()
        }
    }

    #[test]
    fn encodes_sorted_with_quotes_flags_and_tokens() {
        assert_eq!(
            sample().encode(),
            "bl=21300,br=3200,bs,cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\",d=4004,mtp=25400,\
             nor=\"../seg_004.m4s\",ot=v,sf=h,sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\",st=v,su,tb=6000"
        );
    }

    #[test]
    fn round_trips_through_query_and_headers() {
        let cmcd = sample();
        assert_eq!(Cmcd::parse(&cmcd.encode()).unwrap(), cmcd);
        let headers = cmcd.headers();
        let names: Vec<_> = headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["CMCD-Object", "CMCD-Request", "CMCD-Session", "CMCD-Status"]
        );
        assert_eq!(headers[0].1, "br=3200,d=4004,ot=v,tb=6000");
        assert_eq!(headers[3].1, "bs");
        let back = Cmcd::from_headers(|name| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
        .unwrap();
        assert_eq!(back, cmcd);
    }

    #[test]
    fn strings_keep_commas_quotes_and_backslashes() {
        let cmcd = Cmcd {
            cid: Some(r#"a,b"c\d"#.into()),
            ..Cmcd::default()
        };
        assert_eq!(cmcd.encode(), r#"cid="a,b\"c\\d""#);
        assert_eq!(Cmcd::parse(&cmcd.encode()).unwrap(), cmcd);
    }

    #[test]
    fn custom_keys_and_defaults() {
        let parsed =
            Cmcd::parse(r#"com.example-x="y",com.example-f,com.example-n=12,v=1,pr=1.25"#).unwrap();
        assert_eq!(parsed.v, Some(1));
        assert_eq!(parsed.pr, Some(1.25));
        assert_eq!(parsed.custom.len(), 3);
        assert_eq!(
            parsed.custom[1],
            ("com.example-f".into(), CustomValue::Flag)
        );
        // v=1 is the default and is left out; pr keeps its decimals.
        assert_eq!(
            parsed.encode(),
            r#"com.example-f,com.example-n=12,com.example-x="y",pr=1.25"#
        );
        assert!(Cmcd::parse("").unwrap().is_empty());
        assert!(!Cmcd::parse("bs=false").unwrap().bs);
    }

    #[test]
    fn hostile_payloads_are_errors_not_panics() {
        for (payload, what) in [
            ("br=abc", "NotAnInteger"),
            ("br=-1", "NotAnInteger"),
            ("br=99999999999999999999999", "NotAnInteger"),
            ("br", "NotAnInteger"),
            ("sid=abc", "NotAString"),
            ("ot=x", "UnknownToken"),
            ("ot=\"v\"", "UnknownToken"),
            ("bs=1", "NotAFlag"),
            ("sid=\"abc", "Unterminated"),
            ("sid=\"abc\\", "Unterminated"),
            ("=3", "BadKey"),
            ("b r=3", "BadKey"),
            ("sid=\"a\"x", "BadKey"),
            ("br=1,br=2", "Duplicate"),
            ("pr=NaN", "NotANumber"),
        ] {
            let err = Cmcd::parse(payload).unwrap_err();
            assert!(format!("{err:?}").starts_with(what), "{payload}: {err:?}");
        }
        let long = format!("sid=\"{}\"", "x".repeat(65));
        assert_eq!(
            Cmcd::parse(&long).unwrap_err(),
            CmcdError::TooLong { key: "sid".into() }
        );
        // Arbitrary bytes never panic.
        for text in ["\u{0}", ",,,", "\"", "é=é", "a=\"\\\u{10ffff}\""] {
            let _ = Cmcd::parse(text);
        }
    }
}
