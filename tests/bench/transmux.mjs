// Transmux throughput in Node: our wasm transmuxer (transmux/pkg, built by
// transmux/build.sh) against mux.js's mp4.Transmuxer and hls.js's transmuxer (its real
// worker bundle, dist/hls.worker.js, driven through its message interface with a
// stand-in `self`: TSDemuxer + MP4Remuxer exactly as hls.js runs them off the main
// thread), on the same TS segments, in the same process, in alternating order.
//
// Input: a 30 s 1080p30 x264 (3 B-frames, ~6 Mbit/s) + AAC 128k stream cut into 4 s HLS
// MPEG-TS segments by ffmpeg (encoded once into target/bench-transmux/). Each run
// transmuxes every segment in order with a fresh transmuxer; MB/s = MB of TS in / wall
// time. RUNS runs (default 9) after one warm-up run each; medians.
//
//   node tests/bench/transmux.mjs          (make bench-transmux builds the module first)
//
// Environment: RUNS, SECONDS (30), BITRATE (6M). JSON in tests/bench/results/transmux.json.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'tests/e2e/package.json'));
const RUNS = Number(process.env.RUNS ?? 9);
const SECONDS = Number(process.env.SECONDS ?? 30);
const BITRATE = process.env.BITRATE ?? '6M';

// ---- input ---------------------------------------------------------------------------

const inputDir = join(root, 'target/bench-transmux', `1080p-${SECONDS}s-${BITRATE}`);
if (!existsSync(join(inputDir, 'index.m3u8'))) {
  mkdirSync(inputDir, { recursive: true });
  console.error(`encoding ${SECONDS} s of 1080p at ${BITRATE} into ${inputDir} (once)…`);
  execFileSync('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(SECONDS),
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', BITRATE, '-maxrate', BITRATE, '-bufsize', '12M',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-bf', '3', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k',
    '-f', 'hls', '-hls_time', '4', '-hls_segment_type', 'mpegts', '-hls_playlist_type', 'vod',
    '-hls_segment_filename', join(inputDir, 'seg%03d.ts'), join(inputDir, 'index.m3u8'),
  ], { stdio: 'inherit' });
}
const segments = readdirSync(inputDir)
  .filter((name) => name.endsWith('.ts'))
  .sort()
  .map((name) => new Uint8Array(readFileSync(join(inputDir, name))));
const inputBytes = segments.reduce((sum, s) => sum + s.byteLength, 0);
const probe = JSON.parse(execFileSync('ffprobe', [
  '-v', 'error', '-of', 'json', '-show_entries', 'format=bit_rate,duration',
  `concat:${readdirSync(inputDir).filter((n) => n.endsWith('.ts')).sort().map((n) => join(inputDir, n)).join('|')}`,
]));

// ---- ours ------------------------------------------------------------------------------

const pkg = join(root, 'transmux/pkg');
if (!existsSync(join(pkg, 'transmux_bg.wasm'))) {
  console.error('transmux/pkg missing: run bash transmux/build.sh (or make bench-transmux)');
  process.exit(1);
}
const ours = await import(join(pkg, 'transmux.js'));
ours.initSync({ module: readFileSync(join(pkg, 'transmux_bg.wasm')) });

function runOurs() {
  const transmuxer = new ours.Transmuxer();
  let out = 0;
  const start = performance.now();
  for (const segment of segments) {
    const result = transmuxer.push(segment, false);
    if (result.init) out += result.init.combined.byteLength;
    out += (result.video?.byteLength ?? 0) + (result.audio?.byteLength ?? 0);
    if (result.warnings.length) throw new Error(`ours: ${result.warnings}`);
  }
  const ms = performance.now() - start;
  transmuxer.free();
  return { ms, out };
}

// ---- mux.js ----------------------------------------------------------------------------

const muxjs = require('mux.js');

function runMuxjs() {
  const transmuxer = new muxjs.mp4.Transmuxer();
  let out = 0;
  transmuxer.on('data', (segment) => {
    out += segment.initSegment.byteLength + segment.data.byteLength;
  });
  const start = performance.now();
  for (const segment of segments) {
    transmuxer.push(segment);
    transmuxer.flush();
  }
  const ms = performance.now() - start;
  transmuxer.dispose?.();
  return { ms, out };
}

// ---- hls.js ----------------------------------------------------------------------------

const Hls = (await import(require.resolve('hls.js/dist/hls.mjs'))).default;
const hlsConfig = JSON.stringify(Hls.DefaultConfig);
const hlsWorkerCode = readFileSync(require.resolve('hls.js/dist/hls.worker.js'), 'utf8');

/** hls.js's worker bundle in this thread: `post` sends it a message, replies collected. */
function hlsWorker() {
  const listeners = [];
  const replies = [];
  const self = {
    addEventListener: (type, listener) => type === 'message' && listeners.push(listener),
    removeEventListener() {},
    postMessage: (message) => replies.push(message),
    performance,
    console,
  };
  new Function('self', hlsWorkerCode)(self);
  const post = (data) => listeners.forEach((listener) => listener({ data }));
  return { post, replies };
}

function chunkMeta(sn, size) {
  const stats = () => ({ start: 0, executeStart: 0, executeEnd: 0, end: 0 });
  return {
    level: 0, sn, part: -1, id: sn, size, partial: false,
    transmuxing: stats(),
    buffering: { audio: stats(), video: stats(), audiovideo: stats() },
  };
}

/** Copies of the segments' bytes for hls.js (its worker takes an ArrayBuffer and owns it). */
function hlsInputs() {
  return segments.map((s) => s.slice().buffer);
}

function runHls(inputs) {
  const { post, replies } = hlsWorker();
  post({
    cmd: 'init', instanceNo: 0, id: 'main', vendor: '', config: hlsConfig,
    typeSupported: { mp4: true, mpeg: false, mp3: false, ac3: false },
  });
  post({
    cmd: 'configure', instanceNo: 0,
    config: { audioCodec: 'mp4a.40.2', videoCodec: 'avc1.640028', duration: SECONDS, defaultInitPts: undefined },
  });
  replies.length = 0;
  let out = 0;
  let time = 0;
  const start = performance.now();
  inputs.forEach((data, sn) => {
    const meta = chunkMeta(sn, data.byteLength);
    post({
      cmd: 'demux', instanceNo: 0, data, decryptdata: null, chunkMeta: meta,
      state: {
        discontinuity: sn === 0, contiguous: sn > 0, accurateTimeOffset: true,
        trackSwitch: false, timeOffset: time, initSegmentChange: false,
      },
    });
    post({ cmd: 'flush', instanceNo: 0, chunkMeta: meta });
    time += 4;
  });
  const ms = performance.now() - start;
  for (const reply of replies) {
    if (reply.event === 'error' || reply.event === 'hlsError') throw new Error(`hls.js: ${JSON.stringify(reply.data)}`);
    const result = reply.event === 'transmuxComplete' && reply.data?.remuxResult;
    if (!result) continue;
    if (result.initSegment?.data) out += result.initSegment.data.byteLength;
    for (const track of [result.video, result.audio]) {
      if (track) out += (track.data1?.byteLength ?? 0) + (track.data2?.byteLength ?? 0);
    }
  }
  return { ms, out };
}

// ---- the runs --------------------------------------------------------------------------

const peers = {
  ours: () => runOurs(),
  'mux.js': () => runMuxjs(),
  'hls.js': null,
};
try {
  const trial = runHls(hlsInputs());
  if (trial.out < inputBytes / 2) throw new Error(`hls.js produced only ${trial.out} bytes`);
  peers['hls.js'] = (inputs) => runHls(inputs);
} catch (error) {
  console.error(`hls.js transmuxer not measured: ${error.message}`);
  delete peers['hls.js'];
}

const names = Object.keys(peers);
const times = Object.fromEntries(names.map((name) => [name, []]));
const outputs = {};
for (const name of names) {
  const run = peers[name];
  outputs[name] = run(name === 'hls.js' ? hlsInputs() : undefined).out; // warm-up
}
for (let round = 0; round < RUNS; round++) {
  const order = round % 2 ? [...names].reverse() : names;
  for (const name of order) {
    const inputs = name === 'hls.js' ? hlsInputs() : undefined;
    times[name].push(peers[name](inputs).ms);
  }
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const mbps = (ms) => inputBytes / 1e6 / (ms / 1000);
const results = names.map((name) => ({
  name,
  medianMs: median(times[name]),
  mbPerSecond: mbps(median(times[name])),
  runsMs: times[name].map((ms) => Math.round(ms * 10) / 10),
  outputBytes: outputs[name],
}));
const fastestJs = results.filter((r) => r.name !== 'ours').sort((a, b) => b.mbPerSecond - a.mbPerSecond)[0];
const oursResult = results.find((r) => r.name === 'ours');

// gzip -9, as transmux/build.sh and tests/bench/size.sh measure.
const size = (file) => execFileSync('gzip', ['-9c', file], { maxBuffer: 1 << 26 }).byteLength;
const sizes = {
  oursWasmGzip: size(join(pkg, 'transmux_bg.wasm')),
  oursGlueGzip: size(join(pkg, 'transmux.js')),
  oursWasmBytes: readFileSync(join(pkg, 'transmux_bg.wasm')).byteLength,
  muxjsMinGzip: size(require.resolve('mux.js/dist/mux.min.js')),
  muxjsMp4MinGzip: size(require.resolve('mux.js/dist/mux-mp4.min.js')),
};

console.log(`input: ${segments.length} segments, ${(inputBytes / 1e6).toFixed(2)} MB of TS, ` +
  `${Number(probe.format.duration).toFixed(1)} s, ${(Number(probe.format.bit_rate) / 1e6).toFixed(2)} Mbit/s`);
console.log(`machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}, ${RUNS} runs, medians`);
for (const r of results) {
  console.log(`${r.name.padEnd(7)} ${r.mbPerSecond.toFixed(1).padStart(7)} MB/s  ` +
    `(${r.medianMs.toFixed(1)} ms per 30 s of TS; output ${(r.outputBytes / 1e6).toFixed(2)} MB)`);
}
console.log(`ours / fastest JS (${fastestJs.name}): ${(oursResult.mbPerSecond / fastestJs.mbPerSecond).toFixed(2)}×`);
console.log(`module: ours ${sizes.oursWasmGzip} B wasm + ${sizes.oursGlueGzip} B JS glue gzipped ` +
  `(${sizes.oursWasmBytes} B wasm); mux.js mux.min.js ${sizes.muxjsMinGzip} B, mux-mp4.min.js ${sizes.muxjsMp4MinGzip} B gzipped`);

mkdirSync(join(root, 'tests/bench/results'), { recursive: true });
writeFileSync(join(root, 'tests/bench/results/transmux.json'), JSON.stringify({
  date: new Date().toISOString(),
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
  input: { segments: segments.length, bytes: inputBytes, ...probe.format },
  runs: RUNS,
  results,
  ratioToFastestJs: oursResult.mbPerSecond / fastestJs.mbPerSecond,
  sizes,
}, null, 2));
