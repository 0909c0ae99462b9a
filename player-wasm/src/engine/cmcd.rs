//! CMCD v1 (CTA-5004) on every request: what the player tells the server about each
//! playlist and segment request, as a `CMCD=` query argument.
//!
//! The engine computes the keys when it emits [`Action::Fetch`](super::Action::Fetch),
//! from what it knows then: the level's bitrate (`br`) and the top one (`tb`), the
//! buffer ahead of the playhead (`bl`), the segment's duration (`d`), the measured
//! throughput (`mtp`), the next segment it will ask for (`nor`), the object type (`ot`:
//! `m` playlists, `i` init sections, `a` alternate audio, `v` video when the audio is an
//! alternate rendition, else `av`),
//! whether playback starved since the previous request (`bs`), whether the request is
//! for startup, a seek or recovery from a stall (`su`), VOD or live (`st`), and the
//! session and content ids given in [`EngineConfig::cmcd`](super::EngineConfig::cmcd)
//! (`sid`, `cid`). `sf` is always `h` (HLS); `v` is left out, as the specification asks
//! for version 1.
//!
//! The payload is written here rather than with `protocol::Cmcd::encode`, which formats
//! floats (kilobytes of the browser package); the tests check that both write the same
//! text and that `protocol::Cmcd::parse` reads it back.

use super::Engine;
use super::io::{RequestKind, TrackId};
use super::state::SegmentRef;

/// The session the CMCD keys `sid` and `cid` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmcdSession {
    /// `sid`: the session (the browser shell uses the analytics view id, so requests
    /// and beacons join); 1 to 64 characters.
    pub sid: String,
    /// `cid`: the content (the analytics `videoId`); at most 64 characters.
    pub cid: Option<String>,
}

/// Longest `sid` and `cid` CMCD allows.
pub const MAX_CMCD_ID: usize = 64;

/// The keys of one request; `None` and `false` are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CmcdKeys {
    pub bl: Option<u64>,
    pub br: Option<u64>,
    pub bs: bool,
    pub d: Option<u64>,
    pub mtp: Option<u64>,
    pub nor: Option<String>,
    /// `m`, `i`, `v`, `av` or `a`.
    pub ot: &'static str,
    /// `v` or `l`, once a media playlist told which.
    pub st: Option<&'static str>,
    pub su: bool,
    pub tb: Option<u64>,
}

impl CmcdKeys {
    /// The payload (keys in alphabetical order, as CTA-5004 asks), not yet
    /// percent-encoded.
    pub fn payload(&self, session: &CmcdSession) -> String {
        let mut out = String::new();
        let key = |out: &mut String, name: &str| {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(name);
        };
        let int = |out: &mut String, value: u64| {
            out.push('=');
            out.push_str(&value.to_string());
        };
        let string = |out: &mut String, value: &str| {
            out.push_str("=\"");
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        };
        if let Some(v) = self.bl {
            key(&mut out, "bl");
            int(&mut out, v);
        }
        if let Some(v) = self.br {
            key(&mut out, "br");
            int(&mut out, v);
        }
        if self.bs {
            key(&mut out, "bs");
        }
        if let Some(v) = &session.cid {
            key(&mut out, "cid");
            string(&mut out, v);
        }
        if let Some(v) = self.d {
            key(&mut out, "d");
            int(&mut out, v);
        }
        if let Some(v) = self.mtp {
            key(&mut out, "mtp");
            int(&mut out, v);
        }
        if let Some(v) = &self.nor {
            key(&mut out, "nor");
            string(&mut out, v);
        }
        key(&mut out, "ot=");
        out.push_str(self.ot);
        key(&mut out, "sf=h");
        key(&mut out, "sid");
        string(&mut out, &session.sid);
        if let Some(v) = self.st {
            key(&mut out, "st=");
            out.push_str(v);
        }
        if self.su {
            key(&mut out, "su");
        }
        if let Some(v) = self.tb {
            key(&mut out, "tb");
            int(&mut out, v);
        }
        out
    }
}

/// `url` with `CMCD=<payload>` added to its query (before any fragment).
pub fn with_cmcd(url: &str, payload: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + payload.len() * 2 + 8);
    out.push_str(base);
    out.push(if base.contains('?') { '&' } else { '?' });
    out.push_str("CMCD=");
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in payload.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out.push_str(fragment);
    out
}

/// kbit/s from bit/s, rounded.
fn kbps(bps: f64) -> u64 {
    (bps / 1000.0).round().max(0.0) as u64
}

impl Engine {
    /// The CMCD keys of a request the engine is about to make.
    pub(super) fn cmcd_keys(
        &mut self,
        kind: RequestKind,
        url: &str,
        segment: Option<&SegmentRef>,
    ) -> CmcdKeys {
        let mut keys = CmcdKeys {
            bs: std::mem::take(&mut self.cmcd_starved),
            su: !self.qoe.started() || self.seek.is_some() || self.qoe.stalled(),
            mtp: self
                .estimator
                .has_samples()
                .then(|| (kbps(self.estimator.estimate_bps()) + 50) / 100 * 100),
            // From whichever media playlist arrived first: the audio rendition's may
            // arrive, and its first segment be requested, before any level's.
            st: self
                .levels
                .iter()
                .find_map(|level| level.playlist.as_ref())
                .or_else(|| self.audio.as_ref().and_then(|a| a.playlist.as_ref()))
                .map(|playlist| if playlist.is_live() { "l" } else { "v" }),
            ot: "m",
            ..CmcdKeys::default()
        };
        let (track, level) = match kind {
            RequestKind::InitSegment { track, level } => {
                keys.ot = "i";
                (track, level)
            }
            RequestKind::Segment { track, level, .. } => {
                keys.ot = match track {
                    TrackId::Audio => "a",
                    // Muxed unless audio comes from an alternate rendition.
                    TrackId::Main if self.audio.is_none() => "av",
                    TrackId::Main => "v",
                };
                keys.d = segment.map(|s| (s.duration * 1000.0).round().max(0.0) as u64);
                (track, level)
            }
            _ => return keys,
        };
        // The buffer ahead of the playhead (on every track: what playback has).
        keys.bl = Some(((self.buffer_ahead() * 10.0).round().max(0.0) as u64) * 100);
        if track == TrackId::Main {
            keys.br = self.levels.get(level).map(|entry| kbps(entry.bitrate_bps));
            keys.tb = self
                .levels
                .iter()
                .filter(|entry| !entry.failed)
                .map(|entry| kbps(entry.bitrate_bps))
                .max();
        }
        // The next object: the segment this init section precedes, or the one after
        // this segment, relative to this request's directory.
        let playlist = match track {
            TrackId::Main => self.levels.get(level).and_then(|l| l.playlist.as_ref()),
            TrackId::Audio => self.audio.as_ref().and_then(|a| a.playlist.as_ref()),
        };
        let next = match (kind, segment, playlist) {
            (RequestKind::InitSegment { .. }, Some(s), Some(p)) => {
                p.segment_by_sequence(s.sequence)
            }
            (RequestKind::Segment { sequence, .. }, _, Some(p)) => {
                p.segment_by_sequence(sequence + 1)
            }
            _ => None,
        };
        if let Some(next) = next.filter(|next| !next.gap) {
            let base = url.split('?').next().unwrap_or(url);
            let directory = &base[..base.rfind('/').map_or(0, |at| at + 1)];
            let target = next.uri.as_str();
            keys.nor = Some(target.strip_prefix(directory).unwrap_or(target).to_string());
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Cmcd;
    use protocol::cmcd::{ObjectType, StreamType, StreamingFormat};

    fn session() -> CmcdSession {
        CmcdSession {
            sid: "6e2fb550c457".into(),
            cid: Some("movie \"one\"".into()),
        }
    }

    fn full() -> CmcdKeys {
        CmcdKeys {
            bl: Some(21_300),
            br: Some(3_200),
            bs: true,
            d: Some(4_004),
            mtp: Some(25_400),
            nor: Some("../300kbps/seg_006.m4s".into()),
            ot: "v",
            st: Some("v"),
            su: true,
            tb: Some(6_000),
        }
    }

    #[test]
    fn the_payload_is_what_the_protocol_encoder_writes() {
        let keys = full();
        let expected = Cmcd {
            bl: Some(21_300),
            br: Some(3_200),
            bs: true,
            cid: Some("movie \"one\"".into()),
            d: Some(4_004),
            mtp: Some(25_400),
            nor: Some("../300kbps/seg_006.m4s".into()),
            ot: Some(ObjectType::Video),
            sf: Some(StreamingFormat::Hls),
            sid: Some("6e2fb550c457".into()),
            st: Some(StreamType::Vod),
            su: true,
            tb: Some(6_000),
            ..Cmcd::default()
        };
        let payload = keys.payload(&session());
        assert_eq!(payload, expected.encode());
        assert_eq!(Cmcd::parse(&payload).unwrap(), expected);
        // The fewest keys: a manifest request before anything is known.
        let bare = CmcdKeys {
            ot: "m",
            ..CmcdKeys::default()
        };
        let session = CmcdSession {
            sid: "s".into(),
            cid: None,
        };
        assert_eq!(bare.payload(&session), "ot=m,sf=h,sid=\"s\"");
    }

    #[test]
    fn the_query_argument_is_percent_encoded_and_respects_the_query_and_fragment() {
        let payload = "ot=m,sf=h,sid=\"a b\"";
        assert_eq!(
            with_cmcd("https://cdn.test/master.m3u8", payload),
            "https://cdn.test/master.m3u8?CMCD=ot%3Dm%2Csf%3Dh%2Csid%3D%22a%20b%22"
        );
        assert_eq!(
            with_cmcd("https://cdn.test/seg.m4s?token=x#t=1", "su"),
            "https://cdn.test/seg.m4s?token=x&CMCD=su#t=1"
        );
    }
}
