// What a viewer experienced with one player on one <video>, measured by the page the
// same way whatever the player: the comparison page puts our player and hls.js side by
// side with one `Meter` each, so their figures share every definition.
//
// Definitions (those of player_wasm::qoe, which the collector's analytics also use):
// - time: seconds since the page asked the player to load (`t0`, performance.now());
// - startup: load to the element's first `playing`;
// - stall (rebuffering): after the first frame, `waiting` while not seeking, until
//   `playing`, a seek, a pause or the end (or the player's own stall events, when the
//   page feeds them with `stallStarted` / `stallEnded`);
// - switches: changes of the level on screen after the first;
// - time-weighted bitrate: the on-screen level's declared bitrate, weighted by the
//   playhead's progress;
// - QoE_lin per segment (Pensieve, MPC): each main-track segment that arrives scores its
//   level's bitrate in Mbit/s, minus 4.3 × the stall time since the previous segment
//   arrived, minus the bitrate change from the previous segment.

/** Penalty per second of rebuffering, in Mbit/s-equivalents (player_wasm::qoe). */
export const REBUFFER_PENALTY_PER_S = 4.3;

/** Seconds of media buffered ahead of the playhead in `video`. */
export function bufferAhead(video) {
  const t = video.currentTime;
  const ranges = video.buffered;
  for (let i = 0; i < ranges.length; i += 1) {
    // A hair of tolerance: the playhead may sit just before a range's start.
    if (ranges.start(i) <= t + 0.1 && t < ranges.end(i)) return ranges.end(i) - t;
  }
  return 0;
}

/**
 * One player's figures over time. `source` says what only the player knows:
 * `estimateBps()` (its bandwidth estimate, bit/s, or null), `level()` (the level on
 * screen: { index, bitrate, height } or null) and optionally `bufferAheadS()` (default:
 * the element's buffered ranges). With `elementStalls: false` the page reports stalls.
 */
export class Meter {
  constructor(video, source, { t0 = performance.now(), elementStalls = true } = {}) {
    this.video = video;
    this.source = source;
    this.t0 = t0;
    this.elementStalls = elementStalls;
    // Samples, one per `sample()`: seconds, and the series the charts draw.
    this.t = [];
    this.traceMbps = [];
    this.estimateMbps = [];
    this.bitrateMbps = [];
    this.bufferS = [];
    // [{ from, to }] in seconds (to: null while ongoing).
    this.stalls = [];
    this.firstFrameS = null;
    this.switches = 0;
    this.lastLevel = null;
    this.segments = [];
    this.stallSinceSegmentS = 0;
    this.stallUncountedFrom = null;
    this.playedS = 0;
    this.bitrateSeconds = 0;
    this.lastPosition = null;
    this.listeners = [];
    const on = (name, f) => {
      video.addEventListener(name, f);
      this.listeners.push([name, f]);
    };
    on('playing', () => {
      if (this.firstFrameS === null) this.firstFrameS = this.now();
      if (this.elementStalls) this.stallEnded();
    });
    on('waiting', () => {
      if (this.elementStalls && !video.seeking) this.stallStarted();
    });
    for (const name of ['seeking', 'pause', 'ended']) {
      on(name, () => {
        if (this.elementStalls) this.stallEnded();
      });
    }
  }

  /** Seconds since t0. */
  now() {
    return (performance.now() - this.t0) / 1000;
  }

  stalled() {
    const last = this.stalls[this.stalls.length - 1];
    return Boolean(last && last.to === null);
  }

  /** A stall began (ignored before the first frame or while stalled). */
  stallStarted() {
    if (this.firstFrameS === null || this.stalled()) return;
    const now = this.now();
    this.stalls.push({ from: now, to: null });
    this.stallUncountedFrom = now;
  }

  /** Playback resumed. */
  stallEnded() {
    if (!this.stalled()) return;
    const now = this.now();
    this.stalls[this.stalls.length - 1].to = now;
    if (this.stallUncountedFrom !== null) this.stallSinceSegmentS += Math.max(0, now - this.stallUncountedFrom);
    this.stallUncountedFrom = null;
  }

  /** The level on screen is now level `index` (the player said so). */
  levelSwitched(index) {
    if (this.lastLevel !== null && index !== this.lastLevel) this.switches += 1;
    this.lastLevel = index;
  }

  /** A main-track segment of a level of `bitrate` bit/s arrived: scores its QoE_lin. */
  segmentArrived(bitrate) {
    const now = this.now();
    let rebuffer = this.stallSinceSegmentS;
    if (this.stallUncountedFrom !== null) {
      rebuffer += Math.max(0, now - this.stallUncountedFrom);
      this.stallUncountedFrom = now;
    }
    this.stallSinceSegmentS = 0;
    const mbps = bitrate / 1e6;
    const previous = this.segments.length > 0 ? this.segments[this.segments.length - 1].mbps : mbps;
    this.segments.push({
      t: now,
      mbps,
      rebufferS: rebuffer,
      qoe: mbps - REBUFFER_PENALTY_PER_S * rebuffer - Math.abs(mbps - previous),
    });
  }

  /** Takes one sample of every series; `traceMbps` is the link's rate now (or null). */
  sample(traceMbps = null) {
    const video = this.video;
    const level = this.source.level();
    const position = video.currentTime;
    if (this.lastPosition !== null && level && !video.seeking) {
      const progress = position - this.lastPosition;
      // Playhead progress, not seeks.
      if (progress > 0 && progress < 2) {
        this.playedS += progress;
        this.bitrateSeconds += progress * level.bitrate;
      }
    }
    this.lastPosition = position;
    const estimate = this.source.estimateBps();
    this.t.push(this.now());
    this.traceMbps.push(traceMbps);
    this.estimateMbps.push(Number.isFinite(estimate) && estimate > 0 ? estimate / 1e6 : null);
    this.bitrateMbps.push(level ? level.bitrate / 1e6 : null);
    this.bufferS.push(this.source.bufferAheadS ? this.source.bufferAheadS() : bufferAhead(video));
  }

  /** The figures so far. */
  summary() {
    const now = this.now();
    const stallS = this.stalls.reduce((sum, s) => sum + ((s.to ?? now) - s.from), 0);
    const qoeTotal = this.segments.reduce((sum, s) => sum + s.qoe, 0);
    const quality = typeof this.video.getVideoPlaybackQuality === 'function'
      ? this.video.getVideoPlaybackQuality()
      : null;
    return {
      startupS: this.firstFrameS,
      stallCount: this.stalls.length,
      stallS,
      rebufferRatio: this.playedS + stallS > 0 ? stallS / (this.playedS + stallS) : 0,
      switches: this.switches,
      averageBitrateBps: this.playedS > 0 ? this.bitrateSeconds / this.playedS : null,
      segments: this.segments.length,
      qoeLinTotal: qoeTotal,
      qoeLinPerSegment: this.segments.length > 0 ? qoeTotal / this.segments.length : null,
      bufferAheadS: this.bufferS.length > 0 ? this.bufferS[this.bufferS.length - 1] : null,
      estimateMbps: this.estimateMbps.length > 0 ? this.estimateMbps[this.estimateMbps.length - 1] : null,
      droppedFrames: quality ? quality.droppedVideoFrames : null,
      totalFrames: quality ? quality.totalVideoFrames : null,
    };
  }

  /** Stops listening to the element. */
  destroy() {
    for (const [name, f] of this.listeners) this.video.removeEventListener(name, f);
    this.listeners = [];
  }
}
