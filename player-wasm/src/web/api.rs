//! The JavaScript API, in the vocabulary of hls.js: `Player.isSupported()`,
//! `new Player(video, options)`, `load`, `play`, `pause`, `seek`, `levels`,
//! `currentLevel`, `autoLevelEnabled`, `setLevel`, `stats()`, `on`/`off`, `destroy()`.

use std::rc::{Rc, Weak};

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlVideoElement, MediaSource};

use super::shell::{Note, Shared, Shell, deliver};
use super::telemetry::Reporter;
use super::{js, options};
use crate::engine::{Engine, EngineConfig, Input, cmcd::MAX_CMCD_ID};
use crate::qoe::beacons::{PLAYER_NAME, PLAYER_VERSION};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** One rung of the ladder (ascending bitrate; `index` is what `setLevel` takes). */
export interface Level {
  index: number;
  /** Declared peak bitrate (`BANDWIDTH`), bits per second. */
  bitrate: number;
  averageBitrate: number | null;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  codecs: string[];
  url: string;
}

/** Options of `new Player(video, options)`; every one is optional. */
export interface PlayerOptions {
  /** Adaptive-bitrate algorithm: `default` (ours), `throughput`, `bola`, `bb`, `robust-mpc`. */
  abr?: "default" | "throughput" | "bola" | "bb" | "robust-mpc";
  /** Level of the first segment, or -1 to let the ABR choose (default). */
  startLevel?: number;
  /** Where playback begins, seconds from the start of the stream; -1 (default) starts
   * at `EXT-X-START`, else at the start (VOD) or 3 target durations from the live edge. */
  startPosition?: number;
  /** Stop fetching when this much is buffered ahead, seconds (default 60). */
  maxBufferSeconds?: number;
  /** Keep at most this much behind the playhead, seconds; `null` or `Infinity` keeps all (default 30). */
  backBufferSeconds?: number | null;
  /** Never pick a level taller than the element on screen (default false). */
  capLevelToPlayerSize?: boolean;
  /** Start playing as soon as possible (default true). */
  autoplay?: boolean;
  /** Abandon a download that would stall playback and refetch it lower (default true). */
  abandonSlowDownloads?: boolean;
  /** Jump holes in the buffer up to this long, seconds (default 2). */
  maxGapJumpSeconds?: number;
  /** Live: start this many target durations behind the live edge (default 3). */
  liveSyncDurationCount?: number;
  /** Retry policy of every request; `playlistRetry` / `segmentRetry` override it per kind. */
  retry?: RetryOptions;
  playlistRetry?: RetryOptions;
  segmentRetry?: RetryOptions;
  /** VOD with byte ranges: load every level's playlist up front for exact segment sizes (default true). */
  preloadPlaylists?: boolean;
  /**
   * QoE analytics: beacons to a collector's `/v1/beacons` (default off). `true` reports to
   * this page's origin with the defaults.
   */
  analytics?: boolean | AnalyticsOptions;
  /** CMCD v1 (`CMCD=` query argument) on every playlist and segment request (default true). */
  cmcd?: boolean;
  /**
   * MPEG-TS and packed audio to fMP4 in a Web Worker (its own wasm module, fetched only
   * then): `auto` when the browser's MediaSource does not take them (default), `always`, `never`.
   */
  transmux?: "auto" | "always" | "never";
}

/** Where and how views are reported. Every option is optional. */
export interface AnalyticsOptions {
  /** The collector's beacon URL (default: this page's origin + `/v1/beacons`); relative URLs resolve against the page. */
  endpoint?: string;
  /** The property's ingest key (default `"demo"`, the collector's default property). */
  key?: string;
  /** Your id of the video (also the CMCD content id `cid` when at most 64 characters). */
  videoId?: string;
  videoTitle?: string;
  /** Up to 10 dimensions of your own (string values), to break metrics down by. */
  custom?: Record<string, string>;
  /** Fraction of views reported, above 0 and at most 1 (default 1); decided once per view. */
  sampleRate?: number;
  /** Send waiting events at least this often, milliseconds (default 10000). */
  flushIntervalMs?: number;
  /** Most events waiting to be sent; beyond, the oldest are dropped and counted (default 1000). */
  maxQueue?: number;
}

/** Options of `Monitor.attach(video, options)`: the analytics options, and the player's. */
export interface MonitorOptions extends AnalyticsOptions {
  /** The hls.js instance playing into the element: its levels, bandwidth estimate and fatal errors are reported. */
  hls?: unknown;
  /** `view.player` (default `"hls.js"` with `hls`, else `"native"`). */
  playerName?: string;
  /** `view.player_version` (default hls.js's version with `hls`, else this package's). */
  playerVersion?: string;
}

export interface RetryOptions {
  maxRetries?: number;
  initialDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** A request with no response after this long fails (and is retried). */
  timeoutSeconds?: number;
}

export type SwitchReason = "startup" | "buffer-low" | "throughput-up" | "throughput-down" | "abandon" | "manual" | string;

/** Events, by the name `on` takes. Every event object also carries its `type`. */
export interface PlayerEvents {
  manifestLoaded: { type: "manifestLoaded"; levels: Level[]; live: boolean };
  levelLoaded: { type: "levelLoaded"; level: number; live: boolean; duration: number; targetDuration: number; segments: number };
  levelSwitching: { type: "levelSwitching"; from: number | null; to: number; reason: SwitchReason };
  levelSwitched: { type: "levelSwitched"; from: number | null; to: number; reason: SwitchReason };
  fragLoaded: { type: "fragLoaded"; track: "main" | "audio"; level: number; sequence: number; bytes: number; duration: number; ttfb: number; loadTime: number };
  fragAbandoned: { type: "fragAbandoned"; request: number; level: number; sequence: number; toLevel: number };
  firstFrame: { type: "firstFrame"; startupTime: number };
  bufferStalled: { type: "bufferStalled"; position: number };
  bufferStallEnded: { type: "bufferStallEnded"; position: number; duration: number };
  gapJumped: { type: "gapJumped"; from: number; to: number };
  seeked: { type: "seeked"; position: number; latency: number };
  retryScheduled: { type: "retryScheduled"; request: number; attempt: number; delay: number };
  error: { type: "error"; kind: string; fatal: boolean; details: string };
  ended: { type: "ended" };
  /** An ID3 tag of a transmuxed MPEG-TS or packed-audio segment (timed metadata), raised
   * when the segment is ready to append: `time` is its place on the element's timeline,
   * `pts` the stream's own timestamp (seconds), `data` the whole tag ("ID3" header on). */
  metadata: { type: "metadata"; track: "main" | "audio"; time: number; pts: number; data: Uint8Array };
}

export type PlayerEvent = PlayerEvents[keyof PlayerEvents];

/** What `stats()` returns. */
export interface PlayerStats {
  bandwidthEstimateBps: number;
  bufferAheadS: number;
  positionS: number;
  loadingLevel: number | null;
  playingLevel: number | null;
  autoLevel: boolean;
  live: boolean;
  qoe: {
    startupTimeS: number | null;
    rebufferCount: number;
    rebufferS: number;
    rebufferRatio: number;
    playingTimeS: number;
    averageBitrateBps: number;
    switchCount: number;
    switchMagnitudeMbps: number;
    segments: number;
    qoeLinPerSegment: number;
    qoeLinTotal: number;
    droppedFrames: number;
    totalFrames: number;
  };
}
"#;

/// An HLS player bound to one `<video>` element.
#[wasm_bindgen]
pub struct Player {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl Player {
    /// Whether this browser has Media Source Extensions and plays H.264/AAC in fMP4.
    #[wasm_bindgen(js_name = isSupported)]
    pub fn is_supported() -> bool {
        let has_mse =
            js_sys::Reflect::has(&js_sys::global(), &"MediaSource".into()).unwrap_or(false);
        has_mse && MediaSource::is_type_supported("video/mp4; codecs=\"avc1.42E01E,mp4a.40.2\"")
    }

    /// A player for `video`. Throws a `TypeError` naming the option when `options` has
    /// an unknown key or a bad value.
    #[wasm_bindgen(constructor)]
    pub fn new(
        video: HtmlVideoElement,
        #[wasm_bindgen(unchecked_param_type = "PlayerOptions | undefined")] options: JsValue,
    ) -> Result<Player, JsValue> {
        let config = options::parse(&options, EngineConfig::default())?;
        let analytics = options::player_analytics(&options)?;
        let cmcd = options::cmcd(&options)?;
        let transmux = options::transmux(&options)?;
        let engine = Engine::new(config).map_err(|e| js_sys::TypeError::new(&e.to_string()))?;
        let shared = Shell::create(video, engine);
        let reporter = analytics
            .as_ref()
            .map(|analytics| Reporter::new(analytics, PLAYER_NAME, PLAYER_VERSION));
        let content = analytics
            .and_then(|analytics| analytics.video_id)
            .filter(|id| id.len() <= MAX_CMCD_ID);
        shared.with(|shell| {
            shell.set_telemetry(reporter, cmcd.then_some(content));
            shell.set_transmux(transmux);
        });
        Ok(Player { shared })
    }

    fn send(&self, input: Input) {
        deliver(&Rc::downgrade(&self.shared), Note::Input(input));
    }

    fn weak(&self) -> Weak<Shared> {
        Rc::downgrade(&self.shared)
    }

    /// Loads and (with `autoplay`, the default) plays the stream at `url`: a master or
    /// media playlist. Relative URLs resolve against the page.
    pub fn load(&self, url: &str) {
        let url = super::telemetry::absolute(url).unwrap_or_else(|| url.to_string());
        deliver(&self.weak(), Note::Input(Input::Load { url }));
    }

    /// Starts or resumes playback.
    pub fn play(&self) {
        self.send(Input::Play);
    }

    /// Pauses playback (downloads continue up to the buffer limit).
    pub fn pause(&self) {
        self.send(Input::Pause);
    }

    /// Moves the playhead to `seconds`.
    pub fn seek(&self, seconds: f64) {
        if seconds.is_finite() {
            self.send(Input::Seek { position: seconds });
        }
    }

    /// The ladder, ascending by bitrate (empty before `manifestLoaded`).
    #[wasm_bindgen(getter, unchecked_return_type = "Level[]")]
    pub fn levels(&self) -> JsValue {
        self.shared
            .with(|shell| js::levels(&shell.engine.levels()))
            .flatten()
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// The current view's id, a new one for each `load()`: the analytics view
    /// (`/api/v1/views/{id}`, the dashboard's view page) and the CMCD session id
    /// (`sid`). `undefined` before the first `load()`.
    #[wasm_bindgen(getter, js_name = viewId)]
    pub fn view_id(&self) -> Option<String> {
        self.shared.with(|shell| shell.view_id.clone()).flatten()
    }

    /// Level on screen, or -1 before the first frame.
    #[wasm_bindgen(getter, js_name = currentLevel)]
    pub fn current_level(&self) -> i32 {
        self.shared
            .with(|shell| shell.engine.playing_level().map_or(-1, |l| l as i32))
            .unwrap_or(-1)
    }

    /// Pins a level (`-1`: automatic), as `setLevel`.
    #[wasm_bindgen(setter, js_name = currentLevel)]
    pub fn set_current_level(&self, index: i32) {
        self.set_level(index);
    }

    /// Level of the segment being loaded, or -1.
    #[wasm_bindgen(getter, js_name = loadLevel)]
    pub fn load_level(&self) -> i32 {
        self.shared
            .with(|shell| shell.engine.loading_level().map_or(-1, |l| l as i32))
            .unwrap_or(-1)
    }

    /// Whether the ABR chooses the level (no level pinned).
    #[wasm_bindgen(getter, js_name = autoLevelEnabled)]
    pub fn auto_level_enabled(&self) -> bool {
        self.shared
            .with(|shell| shell.engine.auto_level())
            .unwrap_or(true)
    }

    /// Pins level `index`, or returns to automatic selection with `-1`.
    #[wasm_bindgen(js_name = setLevel)]
    pub fn set_level(&self, index: i32) {
        let level = usize::try_from(index).ok();
        self.send(Input::SetLevel { level });
    }

    /// Bandwidth estimate, buffer ahead, levels, dropped frames and QoE so far.
    #[wasm_bindgen(unchecked_return_type = "PlayerStats")]
    pub fn stats(&self) -> JsValue {
        self.shared
            .with(|shell| js::stats(&shell.engine.stats()))
            .flatten()
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Calls `callback(event)` for every event named `event` (`"*"`: every event).
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "keyof PlayerEvents | \"*\"")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: PlayerEvent) => void")] callback: Function,
    ) {
        self.shared.add_listener(event, callback);
    }

    /// Stops calling `callback` for `event`.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "keyof PlayerEvents | \"*\"")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: PlayerEvent) => void")] callback: Function,
    ) {
        self.shared.remove_listener(&event, &callback);
    }

    /// Releases everything: requests aborted, timers and listeners removed, the
    /// `MediaSource` detached and its object URL revoked. The element can take a new
    /// `Player` afterwards.
    pub fn destroy(&self) {
        self.shared.destroy();
    }
}
