// Charts of tests/bench/compare.mjs, drawn in headless Chromium and screenshotted.
// drawSummary(result): grouped bars per trace (and the means) for each figure, on a canvas.
// drawTimelines(result): per trace and player, uPlot charts of the trace's rate, the
// player's bandwidth estimate and the bitrate on screen over time, stalls shaded.
/* global uPlot */

const COLORS = { ours: '#1f77b4', hls: '#ff7f0e' };
const NAMES = { ours: 'ours (default ABR)', hls: 'hls.js (default)' };
const root = document.getElementById('root');

/** Two short lines: the set, and the trace's name shortened. */
function shortName(t) {
  const n = t.name.length > 18 ? `${t.name.slice(0, 8)}…${t.name.slice(-8)}` : t.name;
  return [t.set, n];
}

window.drawSummary = (d) => {
  root.innerHTML = '';
  const players = d.config.players;
  const panels = [
    ['qoeLinPerSegment', 'QoE_lin per 2 s segment (higher is better)', (x) => x.toFixed(2)],
    ['qoeLinPerSegmentStartupCharged', 'QoE_lin per 2 s segment, startup charged like rebuffering (4.3/s)', (x) => x.toFixed(2)],
    ['rebufferPct', 'rebuffer ratio, % of watch time (lower is better)', (x) => x.toFixed(1)],
    ['bitrateMbps', 'time-weighted bitrate, Mbit/s', (x) => x.toFixed(2)],
    ['startupMs', 'startup, ms (lower is better)', (x) => x.toFixed(0)],
    ['switches', 'switches', (x) => x.toFixed(0)],
  ];
  const groups = d.traces.map((t) => ({ label: shortName(t), values: Object.fromEntries(players.map((p) => {
    const r = d.runs.find((x) => x.trace === t.name && x.player === p);
    return [p, r ? r.figures : null];
  })) }));
  groups.push({ label: ['MEAN', ''], values: Object.fromEntries(players.map((p) => [p, d.summary.means[p]])) });

  const W = 1180;
  const PH = 210;
  const TOP = 92;
  const H = TOP + panels.length * (PH + 30) + 20;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  root.appendChild(canvas);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  g.fillStyle = '#222';
  g.font = 'bold 16px sans-serif';
  g.fillText(`Our player vs hls.js ${d.hlsVersion}: ${d.traces.length} traces × ${d.config.seconds} s, ${d.chromium} headless, ${d.date.slice(0, 10)}`, 10, 22);
  g.font = '13px sans-serif';
  const q = d.summary.ratios;
  if (q) {
    const o = d.summary.means.ours;
    const h = d.summary.means.hls;
    const f = (x, n) => (x === null || x === undefined ? '-' : Number(x).toFixed(n));
    g.fillText(
      `means, ours vs hls.js: QoE_lin per segment ${f(o.qoeLinPerSegment, 3)} vs ${f(h.qoeLinPerSegment, 3)} (${f(q.qoeLinPerSegment, 2)}×);` +
        ` with startup charged ${f(o.qoeLinPerSegmentStartupCharged, 3)} vs ${f(h.qoeLinPerSegmentStartupCharged, 3)}`,
      10, 42,
    );
    g.fillText(
      `rebuffer ${f(o.rebufferPct, 2)} vs ${f(h.rebufferPct, 2)} %; bitrate ${f(o.bitrateMbps, 3)} vs ${f(h.bitrateMbps, 3)} Mbit/s;` +
        ` startup ${f(o.startupMs, 0)} vs ${f(h.startupMs, 0)} ms; switches ${f(o.switches, 1)} vs ${f(h.switches, 1)}`,
      10, 60,
    );
  }
  let lx = 10;
  for (const p of players) {
    g.fillStyle = COLORS[p];
    g.fillRect(lx, 70, 12, 12);
    g.fillStyle = '#222';
    g.fillText(NAMES[p], lx + 16, 80);
    lx += 200;
  }
  const left = 60;
  const plotW = W - left - 10;
  panels.forEach(([key, title, fmt], pi) => {
    const y0 = TOP + pi * (PH + 30);
    g.fillStyle = '#222';
    g.font = 'bold 13px sans-serif';
    g.fillText(title, left, y0 + 12);
    g.font = '11px sans-serif';
    const vals = groups.flatMap((gr) => players.map((p) => (gr.values[p] ? gr.values[p][key] : null))).filter((v) => v !== null && Number.isFinite(v));
    const hi = Math.max(0, ...vals);
    const lo = Math.min(0, ...vals);
    const span = hi - lo || 1;
    const top = y0 + 22;
    const bottom = y0 + PH - 18;
    const yOf = (v) => bottom - ((v - lo) / span) * (bottom - top);
    // Axis and zero line.
    g.strokeStyle = '#ccc';
    g.beginPath();
    for (const v of [lo, (lo + hi) / 2, hi]) {
      g.moveTo(left, yOf(v));
      g.lineTo(left + plotW, yOf(v));
      g.fillStyle = '#666';
      g.fillText(fmt(v), 4, yOf(v) + 4);
    }
    g.stroke();
    g.strokeStyle = '#888';
    g.beginPath();
    g.moveTo(left, yOf(0));
    g.lineTo(left + plotW, yOf(0));
    g.stroke();
    const gw = plotW / groups.length;
    const bw = Math.min(30, (gw - 14) / players.length);
    groups.forEach((gr, gi) => {
      const gx = left + gi * gw + (gw - bw * players.length) / 2;
      if (gr.label[0] === 'MEAN') {
        g.fillStyle = '#f3f3f3';
        g.fillRect(left + gi * gw + 2, top - 4, gw - 4, bottom - top + 8);
      }
      players.forEach((p, k) => {
        const v = gr.values[p] ? gr.values[p][key] : null;
        if (v === null || !Number.isFinite(v)) return;
        g.fillStyle = COLORS[p];
        const y = yOf(v);
        g.fillRect(gx + k * bw, Math.min(y, yOf(0)), bw - 2, Math.max(1, Math.abs(yOf(0) - y)));
        g.fillStyle = '#222';
        g.fillText(fmt(v), gx + k * bw, v >= 0 ? y - 3 : y + 11);
      });
      g.fillStyle = '#444';
      g.save();
      g.font = gr.label[0] === 'MEAN' ? 'bold 11px sans-serif' : '10px sans-serif';
      gr.label.forEach((line, li) => {
        const tw = g.measureText(line).width;
        g.fillText(line, left + gi * gw + (gw - tw) / 2, bottom + 12 + li * 11);
      });
      g.restore();
    });
  });
  return { width: W + 20, height: H + 20 };
};

window.drawTimelines = (d) => {
  root.innerHTML = '';
  const h1 = document.createElement('h1');
  h1.textContent = `Per run: trace rate (grey, mean of the last 4 s), bandwidth estimate (dashed), bitrate on screen (thick), buffer ahead (green, right axis, s); stalls in red. ${d.seconds} s of playback.`;
  root.appendChild(h1);
  for (const t of d.traces) {
    const h2 = document.createElement('h2');
    h2.textContent = `${t.set}/${t.name}`;
    root.appendChild(h2);
    const row = document.createElement('div');
    row.className = 'row';
    root.appendChild(row);
    for (const p of ['ours', 'hls']) {
      const r = d.runs.find((x) => x.trace === t.name && x.player === p);
      const cell = document.createElement('div');
      cell.className = 'cell';
      row.appendChild(cell);
      if (!r) continue;
      const f = r.figures;
      const note = document.createElement('div');
      note.className = 'note';
      note.innerHTML = `<b style="color:${COLORS[p]}">${NAMES[p]}</b>: startup ${f.startupMs} ms, rebuffer ${f.rebufferPct}% (${f.rebufferCount}), bitrate ${f.bitrateMbps} Mbit/s, switches ${f.switches}, QoE/seg ${f.qoeLinPerSegment}`;
      cell.appendChild(note);
      const cols = [[], [], [], [], []];
      for (const s of r.samples) s.forEach((v, i) => cols[i].push(v));
      const stalls = r.stalls;
      new uPlot(
        {
          width: 580,
          height: 170,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false, range: [0, Math.max(d.seconds + 10, cols[0][cols[0].length - 1] || 0)] }, y: { range: (u, lo, hi) => [0, Math.max(5, hi)] }, b: { range: [0, 40] } },
          axes: [{ size: 24 }, { size: 34, label: 'Mbit/s', labelSize: 12 }, { scale: 'b', side: 1, size: 30, grid: { show: false } }],
          series: [
            {},
            { stroke: '#999', width: 1, spanGaps: true },
            { stroke: COLORS[p], width: 1, dash: [4, 3], spanGaps: true },
            { stroke: COLORS[p], width: 2.5, paths: uPlot.paths.stepped({ align: 1 }), spanGaps: false },
            { stroke: '#2ca02c', width: 1, scale: 'b' },
          ],
          hooks: {
            drawClear: [
              (u) => {
                const c = u.ctx;
                c.save();
                c.fillStyle = 'rgba(220,0,0,0.25)';
                for (const s of stalls) {
                  const a = u.valToPos(s.start, 'x', true);
                  const b = u.valToPos(s.end === null ? u.scales.x.max : s.end, 'x', true);
                  c.fillRect(a, u.bbox.top, Math.max(2, b - a), u.bbox.height);
                }
                c.restore();
              },
            ],
          },
        },
        cols,
        cell,
      );
    }
  }
  const box = root.getBoundingClientRect();
  return { width: Math.ceil(box.width) + 20, height: Math.ceil(box.height) + 20 };
};
