// The transmuxer's Web Worker (a module worker): MPEG-TS or packed-audio segments in,
// fMP4 out, one Transmuxer per track. The player starts it only when a stream's segments
// need transmuxing; fMP4 playback never loads it or its wasm module (./transmux_bg.wasm).
//
// In:  { track, epoch, request, start, bytes: Uint8Array (its buffer transferred),
//      discontinuity, videoOnly } or { reset: true } (a new stream: every track forgotten).
// Out: { track, epoch, request, start (echoed), init, changed, mime, media } — init: the track's current init segment
//      (`changed` when it is new), media: the segment's moof/mdat (video then audio) —
//      with the media's videoRange / audioRange ({ start, end }, seconds of media time),
//      metadata (the segment's ID3 tags: [{ pts, data }], pts in seconds) and warnings;
//      or { track, epoch, request, error }, or { error } when the module cannot load.
import init, { Transmuxer } from './transmux.js';

const ready = init({ module_or_path: new URL('./transmux_bg.wasm', import.meta.url) });
const tracks = new Map();
let queue = Promise.resolve();

self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};

async function handle(message) {
  if (message.reset) {
    for (const state of tracks.values()) state.transmuxer.free();
    tracks.clear();
    return;
  }
  const { track, epoch, request, start, bytes, discontinuity, videoOnly } = message;
  const echo = { track, epoch, request, start };
  try {
    await ready;
    let state = tracks.get(track);
    if (!state) {
      state = { transmuxer: new Transmuxer(), init: undefined, mime: undefined, dropAudio: false };
      tracks.set(track, state);
    }
    // Already fMP4 (handed back by QuotaExceededError, appended again): as it is.
    const box = String.fromCharCode(...bytes.subarray(4, 8));
    if (box === 'moof' || box === 'styp') {
      self.postMessage({ ...echo, init: state.init, changed: false, mime: state.mime, media: bytes }, [bytes.buffer]);
      return;
    }
    const out = state.transmuxer.push(bytes, Boolean(discontinuity));
    let changed = false;
    if (out.init) {
      const video = Boolean(videoOnly && out.init.video);
      state.dropAudio = video;
      state.init = video ? out.init.video : out.init.combined;
      state.mime = video ? `video/mp4; codecs="${out.codecs.video}"` : out.mimeType;
      changed = true;
    }
    const parts = [out.video, state.dropAudio ? undefined : out.audio];
    const present = parts.filter((part) => part != null && part.length > 0);
    let media = present[0] ?? new Uint8Array(0);
    if (present.length > 1) {
      media = new Uint8Array(present.reduce((n, part) => n + part.length, 0));
      let at = 0;
      for (const part of present) {
        media.set(part, at);
        at += part.length;
      }
    }
    self.postMessage(
      {
        ...echo,
        init: state.init,
        changed,
        mime: state.mime,
        media,
        videoRange: out.videoRange,
        audioRange: out.audioRange,
        metadata: out.metadata,
        warnings: out.warnings,
      },
      [media.buffer],
    );
  } catch (error) {
    self.postMessage({ ...echo, error: `transmuxer: ${error?.message ?? error}` });
  }
}
