//! The playback engine: a deterministic state machine that owns every decision and does
//! no I/O.
//!
//! Feed it [`Input`]s with the current time ([`Engine::handle`]), carry out the
//! [`Action`]s it returns ([`Engine::poll_action`]) until none is left, and call it again
//! with [`Input::Timer`] at [`Engine::next_deadline`] even if nothing else happened. It
//! never reads a clock, never touches the network or the DOM: the browser shell, the ABR
//! lab and the tests all drive this same code, so a decision can be replayed exactly.
//!
//! What it does: load the manifest, pick the start level, load media playlists, fetch
//! init and media segments in order on each track (main, and alternate audio), keep the
//! buffer between the playhead and `max_buffer_s`, switch levels by ABR or by hand, play
//! live streams near the live edge with playlist reloads, seek, jump small gaps and
//! `EXT-X-GAP` holes, evict the back buffer, retry failed requests with exponential
//! backoff then fall back to another level, abandon downloads that would stall playback,
//! and account the viewer's QoE.
//!
//! Invariants (checked by property tests): every URL it fetches comes from a playlist it
//! loaded (or is the one given to `load`); appends on a track follow the order of
//! playlist time between seeks; the buffered ranges it reasons about are the ones the
//! shell last reported plus the appends not yet confirmed.

pub mod cmcd;
mod config;
mod events;
mod failures;
mod io;
mod loading;
mod playback;
pub mod ranges;
mod scheduling;
mod state;

pub use cmcd::{CmcdKeys, CmcdSession, with_cmcd};
pub use config::{ConfigError, EngineConfig, RetryPolicy, number_text};
pub use events::{ErrorKind, Event, LevelSummary};
pub use io::{
    Action, AppendFailure, FetchFailure, FetchRequest, Input, MediaSnapshot, RequestId,
    RequestKind, TimeRange, TrackId,
};

use crate::abr::{Abr, BandwidthEstimator, DownloadRecord, LevelInfo};
use crate::hls::MasterPlaylist;
use crate::qoe::{QoeSummary, SegmentQoe, SessionQoe};
use serde::Serialize;
use state::{AudioRendition, InFlight, Level, PendingRetry, Track};
use std::collections::VecDeque;

use crate::small_map::SmallMap;
use crate::url::Url;
use protocol::SwitchReason;

/// Where the engine is in a session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing loaded.
    Idle,
    /// Waiting for the manifest.
    LoadingManifest,
    /// The ladder is known; streaming.
    Streaming,
    /// A fatal error stopped everything.
    Failed,
}

/// A seek in progress.
#[derive(Debug, Clone, Copy)]
struct SeekInProgress {
    target: f64,
    started_at: f64,
    /// A media snapshot taken after the seek was asked for has shown it (seeking, or at
    /// the target): until then the element's state predates the seek.
    seen: bool,
}

/// Figures for `stats()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Bandwidth estimate, bits per second.
    pub bandwidth_estimate_bps: f64,
    /// Seconds buffered ahead of the playhead.
    pub buffer_ahead_s: f64,
    /// Playhead position in seconds.
    pub position_s: f64,
    /// Level of the segment being loaded.
    pub loading_level: Option<usize>,
    /// Level on screen.
    pub playing_level: Option<usize>,
    pub auto_level: bool,
    pub live: bool,
    pub qoe: QoeSummary,
}

/// The playback engine. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    abr: Box<dyn Abr>,
    estimator: BandwidthEstimator,
    actions: VecDeque<Action>,
    next_request: u64,
    requests: SmallMap<RequestId, InFlight>,
    retries: Vec<PendingRetry>,
    phase: Phase,
    now: f64,
    manifest_url: Option<Url>,
    master: Option<MasterPlaylist>,
    levels: Vec<Level>,
    level_infos: Vec<LevelInfo>,
    audio: Option<AudioRendition>,
    tracks: Vec<Track>,
    loading_level: Option<usize>,
    /// Why the loading level became what it is (carried by each of its segments).
    loading_reason: SwitchReason,
    playing_level: Option<usize>,
    manual_level: Option<usize>,
    media: MediaSnapshot,
    media_at: f64,
    history: Vec<DownloadRecord>,
    qoe: SessionQoe,
    seek: Option<SeekInProgress>,
    start_position_set: bool,
    duration_sent: Option<f64>,
    end_of_stream_sent: bool,
    ended_emitted: bool,
    live: bool,
    /// Holes left by `EXT-X-GAP` segments, jumped over whatever their length.
    known_holes: Vec<TimeRange>,
    /// Where the last gap jump landed (so a hole is jumped once).
    last_gap_jump: Option<f64>,
    /// Since when the element has been waiting although data is buffered ahead.
    stalled_with_data_since: Option<f64>,
    nudged_at: Option<f64>,
    /// Reusable buffers for the ABR context.
    upcoming_sizes: Vec<f64>,
    upcoming_durations: Vec<f64>,
    /// Every size in `upcoming_sizes` came from a byte range.
    upcoming_exact: bool,
    /// Which `SourceBuffer` types the platform can play (`MediaSource.isTypeSupported`).
    codec_support: CodecSupport,
    /// Playback starved since the last request (CMCD `bs`).
    cmcd_starved: bool,
}

/// A check of whether a MIME type with codecs can be played.
pub type CodecCheck = Box<dyn Fn(&str) -> bool>;

/// The platform's answer to "can you play this MIME type with these codecs?".
pub struct CodecSupport(Option<CodecCheck>);

impl CodecSupport {
    /// Whether `mime` can be played; everything can when no check was installed.
    pub fn allows(&self, mime: &str) -> bool {
        self.0.as_ref().is_none_or(|check| check(mime))
    }
}

impl std::fmt::Debug for CodecSupport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "CodecSupport(checked)"
        } else {
            "CodecSupport(any)"
        })
    }
}

/// Index of the main track in `tracks`.
const MAIN: usize = 0;

impl Engine {
    /// An engine with `config`, or the error naming the first invalid option.
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        let abr = config.abr.build();
        Engine::with_abr(config, abr)
    }

    /// An engine that uses `abr` instead of the one `config.abr` names (replays, custom
    /// algorithms). It is reset on every `Load`.
    pub fn with_abr(config: EngineConfig, abr: Box<dyn Abr>) -> Result<Engine, ConfigError> {
        config.validate()?;
        Ok(Engine {
            abr,
            config,
            estimator: BandwidthEstimator::default(),
            actions: VecDeque::new(),
            next_request: 1,
            requests: SmallMap::new(),
            retries: Vec::new(),
            phase: Phase::Idle,
            now: 0.0,
            manifest_url: None,
            master: None,
            levels: Vec::new(),
            level_infos: Vec::new(),
            audio: None,
            tracks: vec![Track::new(TrackId::Main)],
            loading_level: None,
            loading_reason: SwitchReason::Startup,
            playing_level: None,
            manual_level: None,
            media: MediaSnapshot::default(),
            media_at: 0.0,
            history: Vec::new(),
            qoe: SessionQoe::new(),
            seek: None,
            start_position_set: false,
            duration_sent: None,
            end_of_stream_sent: false,
            ended_emitted: false,
            live: false,
            known_holes: Vec::new(),
            last_gap_jump: None,
            stalled_with_data_since: None,
            nudged_at: None,
            upcoming_sizes: Vec::new(),
            upcoming_durations: Vec::new(),
            upcoming_exact: false,
            codec_support: CodecSupport(None),
            cmcd_starved: false,
        })
    }

    /// Installs the platform's codec check: variants whose codecs it refuses are dropped
    /// from the ladder when the manifest loads (HEVC where only H.264 plays, say).
    pub fn set_codec_support(&mut self, check: CodecCheck) {
        self.codec_support = CodecSupport(Some(check));
    }

    /// Takes one input at time `now` (seconds on any monotonic clock; a time earlier than
    /// a previous one is treated as that one).
    pub fn handle(&mut self, now: f64, input: Input) {
        if now.is_finite() && now > self.now {
            self.now = now;
        }
        match input {
            Input::Load { url } => self.load(&url),
            Input::ResponseStarted {
                request,
                total_bytes,
            } => self.on_response_started(request, total_bytes),
            Input::Progress { request, loaded } => self.on_progress(request, loaded),
            Input::PlaylistLoaded { request, text, url } => {
                self.on_playlist_loaded(request, &text, url.as_deref())
            }
            Input::SegmentLoaded { request, bytes } => self.on_segment_loaded(request, bytes),
            Input::RequestFailed { request, failure } => self.on_request_failed(request, failure),
            Input::Buffered { track, ranges } => self.on_buffered(track, &ranges),
            Input::AppendFailed {
                track,
                request,
                failure,
            } => self.on_append_failed(track, request, failure),
            Input::Media(snapshot) => self.on_media(snapshot),
            Input::Play => self.on_play(),
            Input::Pause => self.push(Action::PauseMedia),
            Input::Seek { position } => self.on_seek(position),
            Input::SetLevel { level } => self.on_set_level(level),
            Input::SetOptions(config) => {
                if let Err(error) = self.configure(*config) {
                    self.emit(Event::Error {
                        kind: ErrorKind::Options,
                        fatal: false,
                        details: error.to_string(),
                    });
                }
            }
            Input::Timer => {}
        }
        self.update();
    }

    /// Replaces the options mid-session. A different ABR starts fresh (the bandwidth
    /// estimate is kept); the rest applies from the next decision on.
    pub fn configure(&mut self, config: EngineConfig) -> Result<(), ConfigError> {
        config.validate()?;
        if config.abr != self.config.abr {
            self.abr = config.abr.build();
        }
        self.config = config;
        Ok(())
    }

    /// Sets the CMCD session of the requests from now on (`None`: no CMCD). The browser
    /// shell gives each view its own.
    pub fn set_cmcd(&mut self, session: Option<CmcdSession>) {
        self.config.cmcd = session;
    }

    /// The options in use.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The next action for the shell, if any. Call until `None`.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Aborts every request and forgets the session (the shell's `destroy()`).
    pub fn stop(&mut self) {
        for request in std::mem::take(&mut self.requests).into_keys() {
            self.push(Action::Abort { request });
        }
        self.retries.clear();
        self.phase = Phase::Idle;
        for level in &mut self.levels {
            level.loading = None;
            level.reload_at = None;
        }
        for track in &mut self.tracks {
            track.in_flight = None;
            track.wait_until = None;
        }
        if let Some(audio) = self.audio.as_mut() {
            audio.loading = None;
            audio.reload_at = None;
        }
    }

    /// When the engine wants to be woken with [`Input::Timer`] even if nothing happens.
    pub fn next_deadline(&self) -> Option<f64> {
        if matches!(self.phase, Phase::Idle | Phase::Failed) {
            return None;
        }
        let mut deadlines: Vec<f64> = Vec::new();
        for track in self.used_tracks() {
            deadlines.extend(track.wait_until);
            deadlines.extend(track.retry.as_ref().map(|retry| retry.at));
        }
        deadlines.extend(self.retries.iter().map(|retry| retry.at));
        if self.live {
            deadlines.extend(self.levels.iter().filter_map(|level| level.reload_at));
            deadlines.extend(self.audio.as_ref().and_then(|audio| audio.reload_at));
        }
        for request in self.requests.values() {
            deadlines.push(request.last_activity_at + self.retry_policy(&request.kind).timeout_s);
        }
        deadlines.extend(self.abandon_check_deadline());
        deadlines.extend(self.stall_nudge_deadline());
        // Anything due by now was handled by the last input; only the future matters.
        deadlines
            .into_iter()
            .filter(|deadline| deadline.is_finite() && *deadline > self.now)
            .min_by(f64::total_cmp)
    }

    /// The ladder, ascending bitrate (the indices `SetLevel` takes).
    pub fn levels(&self) -> Vec<LevelSummary> {
        self.levels
            .iter()
            .enumerate()
            .map(|(index, level)| loading::summarize(index, level))
            .collect()
    }

    /// Level of the segment being loaded (or last loaded).
    pub fn loading_level(&self) -> Option<usize> {
        self.loading_level
    }

    /// Level on screen.
    pub fn playing_level(&self) -> Option<usize> {
        self.playing_level
    }

    /// Whether the ABR chooses levels (no level pinned).
    pub fn auto_level(&self) -> bool {
        self.manual_level.is_none()
    }

    /// Whether the stream is live.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The buffered ranges of a track as the shell last reported them.
    pub fn buffered(&self, track: TrackId) -> Vec<TimeRange> {
        self.tracks
            .iter()
            .find(|candidate| candidate.id == track)
            .map(|candidate| candidate.buffered.clone())
            .unwrap_or_default()
    }

    /// Seconds buffered ahead of the playhead on every track (appends not yet confirmed
    /// included).
    pub fn buffer_ahead(&self) -> f64 {
        let position = self.position();
        self.used_tracks()
            .map(|track| ranges::ahead(&track.effective_buffered(), position))
            .fold(f64::INFINITY, f64::min)
            .min(f64::MAX)
    }

    /// Completed segment downloads so far.
    pub fn downloads(&self) -> &[DownloadRecord] {
        &self.history
    }

    /// QoE of each segment that arrived on the main track.
    pub fn segment_qoe(&self) -> &[SegmentQoe] {
        self.qoe.segments()
    }

    /// Figures for the API's `stats()`.
    pub fn stats(&self) -> Stats {
        Stats {
            bandwidth_estimate_bps: self.estimator.estimate_bps(),
            buffer_ahead_s: self.buffer_ahead(),
            position_s: self.position(),
            loading_level: self.loading_level,
            playing_level: self.playing_level,
            auto_level: self.auto_level(),
            live: self.live,
            qoe: self.qoe.summary(self.now),
        }
    }

    /// The discontinuity sequence number of a media segment request's segment
    /// (`EXT-X-DISCONTINUITY` count), while its playlist is loaded: a shell that
    /// transmuxes starts a new timeline where it changes.
    pub fn discontinuity_sequence(&self, request: &RequestKind) -> Option<u64> {
        let RequestKind::Segment {
            track,
            level,
            sequence,
        } = *request
        else {
            return None;
        };
        let playlist = match track {
            TrackId::Audio => self.audio.as_ref()?.playlist.as_ref()?,
            TrackId::Main => self.levels.get(level)?.playlist.as_ref()?,
        };
        playlist
            .segments
            .iter()
            .find(|segment| segment.sequence == sequence)
            .map(|segment| segment.discontinuity_sequence)
    }

    /// The alternate audio rendition playing, as (group id, name).
    pub fn audio_rendition(&self) -> Option<(&str, &str)> {
        self.audio
            .as_ref()
            .map(|audio| (audio.group_id.as_str(), audio.name.as_str()))
    }

    /// The ABR in use.
    pub fn abr_name(&self) -> &'static str {
        self.abr.name()
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn emit(&mut self, event: Event) {
        self.push(Action::Emit(event));
    }

    fn new_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    /// Tracks in use (main, and audio when an alternate rendition plays).
    fn used_tracks(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter()
    }

    /// Playhead position now, extrapolated from the last snapshot while playing (never
    /// past the buffered media).
    fn position(&self) -> f64 {
        let media = &self.media;
        if !self.media_advancing() {
            return media.current_time;
        }
        let elapsed = (self.now - self.media_at).max(0.0) * media.playback_rate.max(0.0);
        let projected = media.current_time + elapsed;
        let playable_end = self
            .used_tracks()
            .map(|track| {
                ranges::contiguous_end(&track.buffered, media.current_time)
                    .unwrap_or(media.current_time)
            })
            .fold(f64::INFINITY, f64::min);
        if playable_end.is_finite() {
            projected.min(playable_end.max(media.current_time))
        } else {
            media.current_time
        }
    }

    /// Whether the playhead moves.
    fn media_advancing(&self) -> bool {
        let media = &self.media;
        !media.paused && !media.seeking && !media.waiting && !media.ended && media.ready_state >= 2
    }

    /// The main segment on screen at `position`.
    fn appended_at(&self, position: f64) -> Option<&state::Appended> {
        self.tracks[MAIN]
            .appended
            .iter()
            .rev()
            .find(|segment| segment.start - 1e-3 <= position && position < segment.end)
    }

    /// The level of the main segment at `position`.
    fn level_at(&self, position: f64) -> Option<usize> {
        self.appended_at(position).map(|segment| segment.level)
    }

    /// Periodic work after every input.
    fn update(&mut self) {
        if matches!(self.phase, Phase::Idle | Phase::Failed) {
            return;
        }
        self.fire_retries();
        self.check_timeouts();
        if self.phase != Phase::Streaming {
            return;
        }
        self.check_abandon();
        self.reload_live_playlists();
        self.preload_playlists();
        self.check_playback();
        self.evict_back_buffer();
        self.schedule_tracks();
        if self.check_end_of_stream() {
            // Playback may be waiting at a hole that nothing will fill any more.
            self.check_playback();
        }
    }
}

#[cfg(test)]
mod tests;
