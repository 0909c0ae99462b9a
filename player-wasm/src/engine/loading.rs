//! Loading the manifest and media playlists: the ladder, the alternate audio rendition,
//! live reloads and where playback starts.

use super::events::{ErrorKind, Event, LevelSummary};
use super::io::{Action, FetchRequest, RequestId, RequestKind, TrackId};
use super::state::{AudioRendition, InFlight, Level, Track};
use super::{Engine, MAIN, Phase};
use crate::abr::LevelInfo;
use crate::hls::{
    MasterPlaylist, MediaPlaylist, Playlist, RenditionKind, Variant, merge_reload, parse_playlist,
};
use crate::url::Url;

/// Codec prefixes of audio codecs.
const AUDIO_CODECS: [&str; 7] = ["mp4a", "ac-3", "ec-3", "opus", "flac", "mp3", "alac"];

/// Whether a codec string names an audio codec.
pub(super) fn is_audio_codec(codec: &str) -> bool {
    let lower = codec.to_ascii_lowercase();
    AUDIO_CODECS.iter().any(|prefix| lower.starts_with(prefix))
}

/// The API's description of a level.
pub(super) fn summarize(index: usize, level: &Level) -> LevelSummary {
    let variant = &level.variant;
    LevelSummary {
        index,
        bitrate: variant.bandwidth,
        average_bitrate: variant.average_bandwidth,
        width: variant.resolution.map(|resolution| resolution.width),
        height: variant.resolution.map(|resolution| resolution.height),
        frame_rate: variant.frame_rate,
        codecs: variant.codecs.clone(),
        url: variant.uri.to_string(),
    }
}

/// The MIME type of a track's `SourceBuffer` from its codecs and segment URL.
pub(super) fn track_mime(track: TrackId, codecs: &[String], segment_url: &Url) -> String {
    let path = segment_url.path().to_ascii_lowercase();
    let container = if path.ends_with(".ts") || path.ends_with(".m2ts") {
        "video/mp2t"
    } else if path.ends_with(".aac") {
        "audio/aac"
    } else if path.ends_with(".mp3") {
        "audio/mpeg"
    } else if track == TrackId::Audio {
        "audio/mp4"
    } else {
        "video/mp4"
    };
    if codecs.is_empty() || container == "audio/aac" || container == "audio/mpeg" {
        container.to_owned()
    } else {
        format!("{container}; codecs=\"{}\"", codecs.join(","))
    }
}

/// Places `playlist` on `reference`'s timeline by a shared media sequence number, or
/// failing that by aligning the live edges.
fn align_to(reference: &MediaPlaylist, playlist: &mut MediaPlaylist) {
    let shift = playlist
        .segments
        .iter()
        .find_map(|segment| {
            reference
                .segment_by_sequence(segment.sequence)
                .map(|shared| shared.start - segment.start)
        })
        .unwrap_or_else(|| reference.end() - playlist.end());
    if shift != 0.0 && shift.is_finite() {
        for segment in &mut playlist.segments {
            segment.start += shift;
        }
    }
}

impl Engine {
    pub(super) fn load(&mut self, url: &str) {
        self.stop();
        let pending = std::mem::take(&mut self.actions);
        let now = self.now;
        let config = self.config.clone();
        let mut abr = std::mem::replace(&mut self.abr, config.abr.build());
        abr.reset();
        let codec_support = std::mem::replace(&mut self.codec_support, super::CodecSupport(None));
        *self = Engine::with_abr(config, abr).expect("configuration was validated");
        self.codec_support = codec_support;
        self.actions = pending;
        self.now = now;
        let parsed = match Url::parse(url) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.fail(
                    ErrorKind::ManifestLoad,
                    format!("invalid URL {url:?}: {error}"),
                );
                return;
            }
        };
        self.phase = Phase::LoadingManifest;
        self.manifest_url = Some(parsed.clone());
        if self.config.autoplay {
            self.qoe.play_requested(self.now);
            self.push(Action::PlayMedia);
        }
        self.fetch(RequestKind::Manifest, parsed, None, 0, None, None);
    }

    /// Issues a request and remembers it.
    pub(super) fn fetch(
        &mut self,
        kind: RequestKind,
        url: Url,
        range: Option<crate::hls::ByteRange>,
        attempt: u32,
        segment: Option<super::state::SegmentRef>,
        init: Option<super::state::InitKey>,
    ) -> RequestId {
        // CMCD on HTTP(S) requests (a query would break `blob:` and `data:` URLs).
        let text = match self.config.cmcd.take() {
            Some(session) if url.scheme().starts_with("http") => {
                let keys = self.cmcd_keys(kind, url.as_str(), segment.as_ref());
                let text = super::with_cmcd(url.as_str(), &keys.payload(&session));
                self.config.cmcd = Some(session);
                text
            }
            session => {
                self.config.cmcd = session;
                url.to_string()
            }
        };
        let id = self.new_request_id();
        self.requests.insert(
            id,
            InFlight {
                kind,
                url: url.clone(),
                range,
                issued_at: self.now,
                first_byte_at: None,
                last_activity_at: self.now,
                loaded: 0,
                total: None,
                progress: Vec::new(),
                attempt,
                segment,
                init,
            },
        );
        match kind {
            RequestKind::LevelPlaylist { level } => {
                if let Some(entry) = self.levels.get_mut(level) {
                    entry.loading = Some(id);
                }
            }
            RequestKind::AudioPlaylist => {
                if let Some(audio) = self.audio.as_mut() {
                    audio.loading = Some(id);
                }
            }
            RequestKind::InitSegment { track, .. } | RequestKind::Segment { track, .. } => {
                if let Some(entry) = self.tracks.iter_mut().find(|entry| entry.id == track) {
                    entry.in_flight = Some(id);
                }
            }
            RequestKind::Manifest => {}
        }
        self.push(Action::Fetch(FetchRequest {
            id,
            url: text,
            range,
            kind,
        }));
        id
    }

    /// Stops everything with a fatal error.
    pub(super) fn fail(&mut self, kind: ErrorKind, details: String) {
        for request in std::mem::take(&mut self.requests).into_keys() {
            self.push(super::io::Action::Abort { request });
        }
        self.retries.clear();
        self.phase = Phase::Failed;
        self.emit(Event::Error {
            kind,
            fatal: true,
            details,
        });
    }

    pub(super) fn on_playlist_loaded(
        &mut self,
        request: RequestId,
        text: &str,
        final_url: Option<&str>,
    ) {
        let Some(in_flight) = self.requests.remove(&request) else {
            return;
        };
        let url = final_url
            .and_then(|candidate| Url::parse(candidate).ok())
            .unwrap_or_else(|| in_flight.url.clone());
        match in_flight.kind {
            RequestKind::Manifest => self.on_manifest(text, &url),
            RequestKind::LevelPlaylist { level } => self.on_level_playlist(level, text, &url),
            RequestKind::AudioPlaylist => self.on_audio_playlist(text, &url),
            // A segment answered as a playlist: treat as a failed request.
            RequestKind::InitSegment { .. } | RequestKind::Segment { .. } => {
                self.requests.insert(request, in_flight);
                self.on_request_failed(
                    request,
                    super::io::FetchFailure {
                        status: None,
                        message: "segment request answered with playlist text".into(),
                    },
                );
            }
        }
    }

    fn on_manifest(&mut self, text: &str, url: &Url) {
        if self.phase != Phase::LoadingManifest {
            return;
        }
        match parse_playlist(text, url) {
            Ok(Playlist::Master(master)) => self.set_up_master(master),
            Ok(Playlist::Media(media)) => {
                let variant = Variant {
                    uri: url.clone(),
                    bandwidth: 0,
                    average_bandwidth: None,
                    codecs: Vec::new(),
                    resolution: None,
                    frame_rate: None,
                    audio_group: None,
                    video_group: None,
                    subtitles_group: None,
                    closed_captions_group: None,
                };
                self.levels = vec![Level {
                    variant,
                    bitrate_bps: 0.0,
                    playlist: None,
                    loading: None,
                    reload_at: None,
                    failed: false,
                }];
                self.finish_ladder();
                self.phase = Phase::Streaming;
                self.accept_level_playlist(0, media);
            }
            Err(error) => self.fail(ErrorKind::ManifestParse, format!("{url}: {error}")),
        }
    }

    fn set_up_master(&mut self, master: MasterPlaylist) {
        let mut variants: Vec<Variant> = master
            .variants
            .iter()
            .filter(|variant| variant.bandwidth > 0 || master.variants.len() == 1)
            .cloned()
            .collect();
        let listed = variants.len();
        let mut refused: Vec<String> = Vec::new();
        variants.retain(|variant| {
            if variant.codecs.is_empty() {
                return true;
            }
            let mime = format!("video/mp4; codecs=\"{}\"", variant.codecs.join(","));
            let allowed = self.codec_support.allows(&mime);
            if !allowed && !refused.contains(&mime) {
                refused.push(mime);
            }
            allowed
        });
        if variants.is_empty() {
            let why = if listed > 0 {
                format!(
                    "no variant has codecs this browser can play ({})",
                    refused.join("; ")
                )
            } else {
                "the master playlist lists no playable variant".to_string()
            };
            self.fail(ErrorKind::ManifestParse, format!("{}: {why}", master.url));
            return;
        }
        crate::small_sort::sort_by_key(&mut variants, |variant| variant.bandwidth);
        self.levels = variants
            .into_iter()
            .map(|variant| Level {
                bitrate_bps: variant.average_bandwidth.unwrap_or(variant.bandwidth) as f64,
                variant,
                playlist: None,
                loading: None,
                reload_at: None,
                failed: false,
            })
            .collect();
        self.master = Some(master);
        self.finish_ladder();
        self.phase = Phase::Streaming;
    }

    /// Caches the ABR view of the ladder and announces it.
    fn finish_ladder(&mut self) {
        self.level_infos = self
            .levels
            .iter()
            .map(|level| LevelInfo {
                bitrate_bps: level.bitrate_bps,
            })
            .collect();
        let levels = self.levels();
        self.emit(Event::ManifestLoaded {
            levels,
            live: false,
        });
    }

    /// Picks the alternate audio rendition of `level`'s `AUDIO` group, if it has a URI.
    pub(super) fn select_audio(&mut self, level: usize) {
        let Some(master) = self.master.as_ref() else {
            return;
        };
        let variant = &self.levels[level].variant;
        let Some(group) = variant.audio_group.as_deref() else {
            return;
        };
        let rendition = master
            .default_rendition(RenditionKind::Audio, group)
            .or_else(|| master.audio_renditions(group).next());
        let Some(rendition) = rendition else {
            return;
        };
        let Some(uri) = rendition.uri.clone() else {
            return;
        };
        if self.audio.as_ref().is_some_and(|audio| audio.url == uri) {
            return;
        }
        let codecs: Vec<String> = variant
            .codecs
            .iter()
            .filter(|codec| is_audio_codec(codec))
            .cloned()
            .collect();
        let switching_rendition = self.audio.is_some();
        self.audio = Some(AudioRendition {
            url: uri,
            group_id: rendition.group_id.clone(),
            name: rendition.name.clone(),
            codecs,
            playlist: None,
            loading: None,
            reload_at: None,
        });
        if !self.tracks.iter().any(|track| track.id == TrackId::Audio) {
            let mut track = Track::new(TrackId::Audio);
            track.cursor = self.tracks[MAIN].cursor;
            self.tracks.push(track);
        } else if switching_rendition {
            let cursor = self.position();
            if let Some(track) = self
                .tracks
                .iter_mut()
                .find(|track| track.id == TrackId::Audio)
            {
                track.reset_cursor(cursor);
                track.init_appended = None;
            }
        }
    }

    pub(super) fn load_level_playlist(&mut self, level: usize) {
        if self.levels[level].loading.is_some() {
            return;
        }
        let url = self.levels[level].variant.uri.clone();
        self.fetch(
            RequestKind::LevelPlaylist { level },
            url,
            None,
            0,
            None,
            None,
        );
    }

    pub(super) fn load_audio_playlist(&mut self) {
        let Some(audio) = self.audio.as_ref() else {
            return;
        };
        if audio.loading.is_some() {
            return;
        }
        let url = audio.url.clone();
        self.fetch(RequestKind::AudioPlaylist, url, None, 0, None, None);
    }

    fn on_level_playlist(&mut self, level: usize, text: &str, url: &Url) {
        if level >= self.levels.len() {
            return;
        }
        self.levels[level].loading = None;
        match parse_playlist(text, url) {
            Ok(Playlist::Media(media)) => self.accept_level_playlist(level, media),
            Ok(Playlist::Master(_)) => self.level_failed(
                level,
                ErrorKind::LevelLoad,
                format!("{url}: expected a media playlist, got a master playlist"),
            ),
            Err(error) => self.level_failed(level, ErrorKind::LevelLoad, format!("{url}: {error}")),
        }
    }

    /// The reference timeline for live alignment: the loading level's playlist, else any.
    fn reference_playlist(&self, except: usize) -> Option<&MediaPlaylist> {
        self.loading_level
            .filter(|level| *level != except)
            .and_then(|level| self.levels[level].playlist.as_ref())
            .or_else(|| {
                self.levels
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| *index != except)
                    .find_map(|(_, level)| level.playlist.as_ref())
            })
    }

    fn accept_level_playlist(&mut self, level: usize, mut media: MediaPlaylist) {
        let first_playlist = self.levels.iter().all(|entry| entry.playlist.is_none());
        let mut stale = false;
        if let Some(previous) = self.levels[level].playlist.take() {
            match merge_reload(&previous, media.clone()) {
                Ok(reload) => {
                    stale = reload.stale;
                    media = reload.playlist;
                }
                Err(error) => {
                    self.emit(Event::Error {
                        kind: ErrorKind::LiveDiscontinuity,
                        fatal: false,
                        details: format!(
                            "level {level}: {error}; restarting from the new playlist"
                        ),
                    });
                    if let Some(reference) = self.reference_playlist(level) {
                        align_to(&reference.clone(), &mut media);
                    }
                    self.tracks[MAIN].reset_cursor(media.timeline_start());
                }
            }
        } else if media.is_live()
            && let Some(reference) = self.reference_playlist(level)
        {
            let reference = reference.clone();
            align_to(&reference, &mut media);
        }
        let live = media.is_live();
        let target = media.target_duration.max(0.5);
        self.levels[level].reload_at =
            live.then(|| self.now + if stale { target / 2.0 } else { target });
        self.emit(Event::LevelLoaded {
            level,
            live,
            duration: media.duration(),
            target_duration: media.target_duration,
            segments: media.segments.len(),
        });
        if first_playlist {
            self.live = live;
            if live {
                // Tell the API the stream is live.
                let levels = self.levels();
                self.emit(Event::ManifestLoaded { levels, live: true });
            }
        }
        if self.live && !live {
            // EXT-X-ENDLIST appeared: the stream is now a finished recording.
            self.live = false;
        }
        if !live && self.duration_sent.is_none() {
            let duration = media.end();
            if duration > 0.0 {
                self.duration_sent = Some(duration);
                self.push(Action::SetDuration { seconds: duration });
            }
        }
        if !self.start_position_set {
            self.start_position_set = true;
            let start = self.start_position(&media);
            if start > 0.0 {
                for track in &mut self.tracks {
                    track.reset_cursor(start);
                }
                self.push(Action::SeekMedia { position: start });
                self.media.current_time = start;
            }
        }
        self.levels[level].playlist = Some(media);
    }

    /// Where playback begins: the `startPosition` option, else `EXT-X-START`, else 0 for
    /// VOD and the live sync point for live.
    fn start_position(&self, media: &MediaPlaylist) -> f64 {
        let offset = self.config.start_position_s.or_else(|| {
            media
                .start
                .or_else(|| self.master.as_ref().and_then(|master| master.start))
                .map(|start| start.time_offset)
        });
        let first = media.timeline_start();
        let end = media.end();
        if let Some(offset) = offset {
            let position = if offset < 0.0 {
                end + offset
            } else {
                first + offset
            };
            return position.max(first).min(end.max(first));
        }
        if media.is_live() {
            (end - self.config.live_sync_target_durations * media.target_duration).max(first)
        } else {
            first
        }
    }

    fn on_audio_playlist(&mut self, text: &str, url: &Url) {
        let Some(audio) = self.audio.as_mut() else {
            return;
        };
        audio.loading = None;
        let media = match parse_playlist(text, url) {
            Ok(Playlist::Media(media)) => media,
            Ok(Playlist::Master(_)) => {
                self.fail(
                    ErrorKind::LevelLoad,
                    format!("{url}: audio rendition is a master playlist"),
                );
                return;
            }
            Err(error) => {
                self.fail(ErrorKind::LevelLoad, format!("{url}: {error}"));
                return;
            }
        };
        let reference = self
            .loading_level
            .and_then(|level| self.levels[level].playlist.clone());
        let audio = self.audio.as_mut().expect("checked above");
        let mut stale = false;
        let media = match audio.playlist.take() {
            Some(previous) => match merge_reload(&previous, media.clone()) {
                Ok(reload) => {
                    stale = reload.stale;
                    reload.playlist
                }
                Err(_) => media,
            },
            None => {
                let mut media = media;
                if media.is_live()
                    && let Some(reference) = reference
                {
                    align_to(&reference, &mut media);
                }
                media
            }
        };
        let target = media.target_duration.max(0.5);
        audio.reload_at = media
            .is_live()
            .then(|| self.now + if stale { target / 2.0 } else { target });
        audio.playlist = Some(media);
    }

    /// VOD with byte ranges: loads, one at a time, the playlists of levels not loaded yet
    /// (their byte ranges give the ABR exact segment sizes).
    pub(super) fn preload_playlists(&mut self) {
        if !self.config.preload_playlists
            || self.live
            || self.levels.iter().any(|level| level.loading.is_some())
        {
            return;
        }
        let Some(next) = self
            .levels
            .iter()
            .position(|level| level.playlist.is_none() && !level.failed)
        else {
            return;
        };
        let sizes_known = self
            .levels
            .iter()
            .filter_map(|level| level.playlist.as_ref())
            .any(|playlist| {
                !playlist.is_live()
                    && !playlist.segments.is_empty()
                    && playlist
                        .segments
                        .iter()
                        .all(|segment| segment.byte_range.is_some())
            });
        if sizes_known {
            self.load_level_playlist(next);
        }
    }

    /// Live: reloads the playlists in use when their time has come.
    pub(super) fn reload_live_playlists(&mut self) {
        if !self.live {
            return;
        }
        if let Some(level) = self.loading_level
            && self.levels[level]
                .reload_at
                .is_some_and(|at| at <= self.now)
            && self.levels[level].loading.is_none()
        {
            self.levels[level].reload_at = None;
            self.load_level_playlist(level);
        }
        if let Some(audio) = self.audio.as_mut()
            && audio.reload_at.is_some_and(|at| at <= self.now)
            && audio.loading.is_none()
        {
            audio.reload_at = None;
            self.load_audio_playlist();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_follow_container_and_codecs() {
        let url = |path: &str| Url::parse(&format!("https://x.test/{path}")).unwrap();
        let avc = vec!["avc1.64001f".to_owned(), "mp4a.40.2".to_owned()];
        assert_eq!(
            track_mime(TrackId::Main, &avc, &url("init.mp4")),
            "video/mp4; codecs=\"avc1.64001f,mp4a.40.2\""
        );
        assert_eq!(
            track_mime(TrackId::Main, &avc, &url("seg1.TS?token=1")),
            "video/mp2t; codecs=\"avc1.64001f,mp4a.40.2\""
        );
        assert_eq!(
            track_mime(TrackId::Audio, &["mp4a.40.2".to_owned()], &url("a.m4s")),
            "audio/mp4; codecs=\"mp4a.40.2\""
        );
        assert_eq!(track_mime(TrackId::Audio, &[], &url("a.aac")), "audio/aac");
        assert_eq!(track_mime(TrackId::Main, &[], &url("v.m4s")), "video/mp4");
    }

    #[test]
    fn audio_codecs_are_recognised() {
        for codec in ["mp4a.40.2", "ac-3", "ec-3", "opus", "fLaC", "mp3"] {
            assert!(is_audio_codec(codec), "{codec}");
        }
        for codec in [
            "avc1.4d401f",
            "hvc1.1.6.L93.B0",
            "av01.0.04M.08",
            "vp09.00.10.08",
        ] {
            assert!(!is_audio_codec(codec), "{codec}");
        }
    }
}
