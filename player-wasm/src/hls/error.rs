//! Typed errors of the HLS model: what is wrong with a playlist (and on which 1-based line,
//! naming the tag and attribute), and why a live reload cannot be merged.
//!
//! The `Display` text of every variant is meant for people (logs, `hls-inspect`); the
//! variants themselves are meant for code (the engine decides what to do from them).

use thiserror::Error;

/// Why a playlist could not be turned into the model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlaylistError {
    /// The text does not start with `#EXTM3U` (empty input included).
    #[error("not a playlist: the first line is not #EXTM3U")]
    NotAPlaylist,

    /// `#EXTM3U` and nothing that says whether this is a master or a media playlist.
    #[error("empty playlist: no variant, rendition, segment or media playlist tag after #EXTM3U")]
    EmptyPlaylist,

    /// A tag whose value does not follow its grammar (attribute list, number, no value…).
    #[error("line {line}: {tag}: {message}")]
    Syntax {
        line: usize,
        tag: String,
        message: String,
    },

    /// A required attribute is absent.
    #[error("line {line}: {tag} lacks the required attribute {attribute}")]
    MissingAttribute {
        line: usize,
        tag: String,
        attribute: String,
    },

    /// A tag value or attribute value that is present but not acceptable.
    #[error("line {line}: {tag}: invalid {attribute} {value:?}: {reason}")]
    InvalidValue {
        line: usize,
        tag: String,
        /// The attribute, or `value` for tags without an attribute list.
        attribute: String,
        value: String,
        reason: String,
    },

    /// A URI that cannot be resolved against the playlist URL.
    #[error("line {line}: cannot resolve URI {uri:?}: {reason}")]
    BadUri {
        line: usize,
        uri: String,
        reason: String,
    },

    /// `EXT-X-BYTERANGE` (or a `BYTERANGE` attribute) without an offset, with no earlier
    /// range of the same resource to continue from (RFC 8216, 4.3.2.2).
    #[error(
        "line {line}: byte range without offset, but no earlier range of the same resource to continue from"
    )]
    ByteRangeWithoutPredecessor { line: usize },

    /// A media playlist without `EXT-X-TARGETDURATION`.
    #[error("media playlist without EXT-X-TARGETDURATION")]
    MissingTargetDuration,

    /// A media segment URI without an `EXTINF` before it.
    #[error("line {line}: media segment without EXTINF")]
    SegmentWithoutDuration { line: usize },

    /// `EXT-X-STREAM-INF` not followed by the URI line of its media playlist.
    #[error("line {line}: EXT-X-STREAM-INF is not followed by a URI line")]
    StreamInfWithoutUri { line: usize },

    /// A URI line in a master playlist that no `EXT-X-STREAM-INF` introduces.
    #[error("line {line}: URI line in a master playlist without an EXT-X-STREAM-INF before it")]
    UriWithoutStreamInf { line: usize },

    /// Master playlist tags and media playlist tags in the same file.
    #[error(
        "line {media_line}: media playlist tag {media_tag} in a master playlist (line {master_line}: {master_tag})"
    )]
    MixedPlaylist {
        master_line: usize,
        master_tag: String,
        media_line: usize,
        media_tag: String,
    },

    /// A tag that may appear once appears again with a different value.
    #[error("line {line}: {tag} already appeared on line {first_line} with another value")]
    ConflictingTag {
        line: usize,
        first_line: usize,
        tag: String,
    },

    /// A tag that must come before the first media segment comes after it.
    #[error("line {line}: {tag} must appear before the first media segment")]
    TagAfterFirstSegment { line: usize, tag: String },

    /// `{$name}` where no `EXT-X-DEFINE` declares `name`.
    #[error("line {line}: variable {name:?} is referenced but not defined")]
    UndefinedVariable { line: usize, name: String },

    /// A number that leaves the representable range once combined with others (sequence
    /// numbers, byte offsets, the timeline).
    #[error("line {line}: {what} overflows")]
    Overflow { line: usize, what: String },
}

impl PlaylistError {
    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Syntax { line, .. }
            | Self::MissingAttribute { line, .. }
            | Self::InvalidValue { line, .. }
            | Self::BadUri { line, .. }
            | Self::ByteRangeWithoutPredecessor { line }
            | Self::SegmentWithoutDuration { line }
            | Self::StreamInfWithoutUri { line }
            | Self::UriWithoutStreamInf { line }
            | Self::MixedPlaylist {
                media_line: line, ..
            }
            | Self::ConflictingTag { line, .. }
            | Self::TagAfterFirstSegment { line, .. }
            | Self::UndefinedVariable { line, .. }
            | Self::Overflow { line, .. } => Some(*line),
            Self::NotAPlaylist | Self::EmptyPlaylist | Self::MissingTargetDuration => None,
        }
    }
}

/// Why a reloaded live playlist cannot be merged onto the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LiveMergeError {
    /// The media sequence went backwards: the stream restarted (or a stale copy from
    /// another cache came back). The timeline of the previous playlist no longer applies.
    #[error("media sequence went backwards from {previous} to {reloaded}: the playlist restarted")]
    MediaSequenceWentBackwards { previous: u64, reloaded: u64 },

    /// The reloaded playlist is not a live continuation: an ended playlist lost its
    /// `EXT-X-ENDLIST`.
    #[error("the previous playlist had EXT-X-ENDLIST and the reload does not")]
    EndListDisappeared,

    /// Placing the reload on the previous timeline leaves the range of `f64` (absurd
    /// durations).
    #[error("the merged timeline overflows")]
    TimelineOverflow,
}
