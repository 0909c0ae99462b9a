//! CMCD v2 event-mode reports (CTA-5004-B, `Content-Type: application/cmcd`), so hls.js,
//! dash.js and Shaka configured with a CMCD event target can report to us.
//!
//! A body holds one report per line, each a CMCD dictionary (`e=ps,sta=p,ts=…,sid="…"`,
//! inner lists such as `br=(3000)` allowed). Each report becomes a one-event [`Batch`] of
//! the view named by its session id (`sid`), so reports are stored and deduplicated like
//! any batch: `(sid, sn)` names a report when it carries a sequence number `sn`, else a
//! hash of its text does.
//!
//! Mapping: `e=ps` (play state) by `sta`: `d` preloading → viewstart, `s` starting →
//! playrequest, `p` playing → firstframe, rebufferend and play (the metrics take whichever
//! applies: the first frame, the end of a stall or of a pause), `r` rebuffering →
//! rebufferstart, `a` paused → pause, `e` ended → ended, `f` fatal error → error (fatal),
//! `q` quit → viewend; `e=e` (error) → error with the first `ec` code; `e=t` (time
//! interval) and `e=bc` (bitrate change) → heartbeat with `br`, `bl`, `mtp`. Bitrates
//! are kbit/s in CMCD, bits/s here; `pt` (playhead) is milliseconds. Other events (mute,
//! ads, …) and states (seeking, waiting) carry nothing the metrics use and are skipped.
//! Switches are not counted for CMCD views (reports name no rendition).

use std::collections::HashMap;

use protocol::{Batch, Event, EventKind, PROTOCOL_VERSION, View};

use super::IngestError;

/// One value of a CMCD v2 dictionary.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Int(i64),
    Dec(f64),
    Str(String),
    Token(String),
    Bool(bool),
    List(Vec<Item>),
}

impl Item {
    /// A number, or the first number of an inner list.
    fn number(&self) -> Option<f64> {
        match self {
            Item::Int(i) => Some(*i as f64),
            Item::Dec(d) => Some(*d),
            Item::List(items) => items.first().and_then(Item::number),
            _ => None,
        }
    }

    /// A string or token, or the first one of an inner list.
    fn text(&self) -> Option<&str> {
        match self {
            Item::Str(s) | Item::Token(s) => Some(s),
            Item::List(items) => items.first().and_then(Item::text),
            _ => None,
        }
    }
}

/// Parses one report line into its keys and values.
pub fn parse_line(line: &str) -> Result<HashMap<String, Item>, String> {
    let mut parser = Parser {
        bytes: line.as_bytes(),
        at: 0,
    };
    let mut members = HashMap::new();
    loop {
        parser.skip_spaces();
        if parser.done() {
            break;
        }
        let key = parser.key()?;
        let value = if parser.eat(b'=') {
            parser.item()?
        } else {
            Item::Bool(true)
        };
        parser.parameters()?;
        members.insert(key, value);
        parser.skip_spaces();
        if parser.done() {
            break;
        }
        if !parser.eat(b',') {
            return Err(format!("expected ',' at byte {}", parser.at));
        }
    }
    Ok(members)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &str {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        // Only ASCII bytes are kept, so this is valid UTF-8.
        std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or_default()
    }

    fn key(&mut self) -> Result<String, String> {
        let start = self.at;
        if !self
            .peek()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
        {
            return Err(format!("expected a key at byte {start}"));
        }
        let key = self
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
        Ok(key.to_string())
    }

    fn item(&mut self) -> Result<Item, String> {
        if self.eat(b'(') {
            let mut items = Vec::new();
            loop {
                self.skip_spaces();
                if self.eat(b')') {
                    return Ok(Item::List(items));
                }
                if self.done() {
                    return Err("unterminated inner list".into());
                }
                items.push(self.bare_item()?);
                self.parameters()?;
            }
        }
        self.bare_item()
    }

    fn bare_item(&mut self) -> Result<Item, String> {
        let start = self.at;
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                let mut text = String::new();
                loop {
                    match self.peek() {
                        None => return Err(format!("unterminated string at byte {start}")),
                        Some(b'"') => {
                            self.at += 1;
                            return Ok(Item::Str(text));
                        }
                        Some(b'\\') => {
                            self.at += 1;
                            match self.peek() {
                                Some(c @ (b'"' | b'\\')) => text.push(char::from(c)),
                                _ => return Err(format!("bad escape at byte {}", self.at)),
                            }
                            self.at += 1;
                        }
                        Some(c) if (0x20..0x7f).contains(&c) => {
                            text.push(char::from(c));
                            self.at += 1;
                        }
                        Some(_) => {
                            return Err(format!("bad character in string at byte {}", self.at));
                        }
                    }
                }
            }
            Some(b'?') => {
                self.at += 1;
                match self.peek() {
                    Some(b'0') => {
                        self.at += 1;
                        Ok(Item::Bool(false))
                    }
                    Some(b'1') => {
                        self.at += 1;
                        Ok(Item::Bool(true))
                    }
                    _ => Err(format!("bad boolean at byte {start}")),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let number = self.take_while(|b| b == b'-' || b == b'.' || b.is_ascii_digit());
                let parsed = if number.contains('.') {
                    number.parse().ok().map(Item::Dec)
                } else {
                    number.parse().ok().map(Item::Int)
                };
                parsed.ok_or_else(|| format!("bad number {number:?} at byte {start}"))
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'*' => {
                let token = self
                    .take_while(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b));
                Ok(Item::Token(token.to_string()))
            }
            _ => Err(format!("expected a value at byte {start}")),
        }
    }

    /// Skips `;name[=value]` parameters (CMCD defines none that matter here).
    fn parameters(&mut self) -> Result<(), String> {
        while self.eat(b';') {
            self.skip_spaces();
            self.key()?;
            if self.eat(b'=') {
                self.bare_item()?;
            }
        }
        Ok(())
    }
}

/// FNV-1a, for ids of reports that carry no sequence number.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The events a report describes, if it describes one the metrics use.
fn events(report: &HashMap<String, Item>) -> Option<Vec<EventKind>> {
    let number = |key: &str| report.get(key).and_then(Item::number);
    let kbps = |key: &str| {
        number(key)
            .filter(|v| *v >= 0.0)
            .map(|v| (v * 1000.0) as u64)
    };
    let heartbeat = || EventKind::Heartbeat {
        bitrate: kbps("br"),
        buffer_s: number("bl").filter(|v| *v >= 0.0).map(|ms| ms / 1000.0),
        bandwidth_bps: kbps("mtp").map(|bps| bps as f64),
        dropped_frames: 0,
        total_frames: 0,
    };
    let error = |fatal: bool| EventKind::Error {
        code: report
            .get("ec")
            .and_then(Item::text)
            .unwrap_or("cmcd")
            .to_string(),
        message: String::new(),
        fatal,
    };
    let one = |kind| Some(vec![kind]);
    match report.get("e").and_then(Item::text)? {
        "ps" => match report.get("sta").and_then(Item::text)? {
            "d" => one(EventKind::Viewstart),
            "s" => one(EventKind::Playrequest),
            // Whichever applies: the first frame, the end of a stall, or of a pause.
            "p" => Some(vec![
                EventKind::Firstframe,
                EventKind::Rebufferend,
                EventKind::Play,
            ]),
            "r" => one(EventKind::Rebufferstart),
            "a" => one(EventKind::Pause),
            "e" => one(EventKind::Ended),
            "f" => one(error(true)),
            "q" => one(EventKind::Viewend),
            _ => None,
        },
        "e" => one(error(report.get("sta").and_then(Item::text) == Some("f"))),
        "t" | "bc" => one(heartbeat()),
        _ => None,
    }
}

/// The batches (one per report the metrics use) of a CMCD body for property `key`.
pub fn batches(body: &[u8], key: &str, received_ms: i64) -> Result<Vec<Batch>, IngestError> {
    let text = std::str::from_utf8(body).map_err(|e| IngestError::Invalid {
        field: "body".into(),
        message: format!("not UTF-8: {e}"),
    })?;
    let mut batches = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = format!("line {}", index + 1);
        let invalid = |message: String| IngestError::Invalid {
            field: at.clone(),
            message,
        };
        if batches.len() >= protocol::beacon::MAX_EVENTS {
            return Err(invalid(format!(
                "at most {} reports per request",
                protocol::beacon::MAX_EVENTS
            )));
        }
        let report = parse_line(line).map_err(&invalid)?;
        let Some(sid) = report.get("sid").and_then(Item::text) else {
            return Err(invalid(
                "sid: a session id is needed to name the view".into(),
            ));
        };
        let t = report
            .get("ts")
            .and_then(Item::number)
            .unwrap_or(received_ms as f64);
        let Some(kinds) = events(&report) else {
            continue;
        };
        let hash = fingerprint(line);
        let seq = report
            .get("sn")
            .and_then(Item::number)
            .filter(|n| *n >= 0.0)
            .map_or(hash, |n| n as u64);
        let pt = report
            .get("pt")
            .and_then(Item::number)
            .map(|ms| ms / 1000.0);
        let batch = Batch {
            v: PROTOCOL_VERSION,
            key: key.to_string(),
            batch: format!("cmcd-{hash:016x}"),
            seq,
            dropped: 0,
            view: View {
                id: sid.to_string(),
                session: sid.to_string(),
                player: "cmcd".into(),
                player_version: "2".into(),
                video_id: report.get("cid").and_then(Item::text).map(str::to_string),
                video_title: None,
                browser: None,
                os: None,
                page: None,
                custom: Default::default(),
                sample_rate: 1.0,
            },
            events: kinds
                .into_iter()
                .map(|kind| Event { t, pt, kind })
                .collect(),
        };
        batch
            .validate()
            .map_err(|e| invalid(format!("{}: {}", e.field, e.problem)))?;
        batches.push(batch);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cmcd_v2_dictionaries() {
        let report =
            parse_line(r#"e=ps,sta=p,ts=1764000000000,sid="a\"b",br=(3000 1500),bs,pr=1.25,x;p=1"#)
                .unwrap();
        assert_eq!(report["e"], Item::Token("ps".into()));
        assert_eq!(report["sid"], Item::Str("a\"b".into()));
        assert_eq!(
            report["br"],
            Item::List(vec![Item::Int(3000), Item::Int(1500)])
        );
        assert_eq!(report["bs"], Item::Bool(true));
        assert_eq!(report["pr"], Item::Dec(1.25));
        assert_eq!(report["x"], Item::Bool(true));
        for bad in ["E=1", "a=\"open", "a=(1 2", "a=1;", "a=1 b=2", "a=?x"] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reports_become_batches_of_their_session() {
        let body = "e=ps,sta=s,ts=1764000000000,sid=\"s1\",cid=\"movie\",sn=1\n\
                    e=ps,sta=p,ts=1764000000800,sid=\"s1\",sn=2,pt=0\n\
                    e=m,ts=1764000000900,sid=\"s1\",sn=3\n\
                    \n\
                    e=t,ts=1764000010000,sid=\"s1\",br=(2500),bl=(12000),mtp=(8000)\r\n\
                    e=e,ts=1764000011000,sid=\"s2\",ec=(\"MEDIA_ERR\"),sta=f\n";
        let batches = batches(body.as_bytes(), "demo", 0).unwrap();
        assert_eq!(batches.len(), 4);
        assert_eq!(batches[0].seq, 1);
        assert_eq!(batches[0].view.video_id.as_deref(), Some("movie"));
        assert_eq!(batches[0].events[0].kind, EventKind::Playrequest);
        assert_eq!(batches[1].events[0].kind, EventKind::Firstframe);
        assert!(matches!(
            batches[2].events[0].kind,
            EventKind::Heartbeat {
                bitrate: Some(2_500_000),
                ..
            }
        ));
        assert!(
            matches!(&batches[3].events[0].kind, EventKind::Error { code, fatal: true, .. } if code == "MEDIA_ERR")
        );
        assert_eq!(batches[3].view.id, "s2");
        // Without `sn`, the same report gets the same id and sequence number.
        let again = super::batches(body.as_bytes(), "demo", 0).unwrap();
        assert_eq!(
            (again[2].seq, &again[2].batch),
            (batches[2].seq, &batches[2].batch)
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let alphabet = b"e=ps,sta=p;ts\"()?01-.9 sidbrx*\n\t\\";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..20_000u64 {
            let len = ((state ^ round) % 48) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse_line(&String::from_utf8_lossy(&line));
            let _ = batches(&line, "demo", 1_764_000_000_000);
        }
    }

    #[test]
    fn bad_reports_name_their_line() {
        for (body, field) in [
            ("e=ps,sta=p,ts=1764000000000\n", "line 1"),
            (
                "e=ps,sta=p,ts=1764000000000,sid=\"a\"\ne=ps,sta=p,ts=5,sid=\"a\"\n",
                "line 2",
            ),
            (
                "e=ps,sta=p,sid=\"x\",ts=1764000000000\nnot a report\n",
                "line 2",
            ),
        ] {
            match batches(body.as_bytes(), "demo", 0) {
                Err(IngestError::Invalid { field: f, .. }) => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
