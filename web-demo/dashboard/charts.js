// Charts, drawn by uPlot (the npm package, served by the collector as
// /dashboard/vendor/uPlot.iife.min.js, which defines the global `uPlot`).
//
// - `TimeChart`: KPIs over time from /api/v1/timeseries (lines, or bars for counts);
// - `TimelineChart`: one view's bitrate steps over its playback-state bands, with seeks
//   and errors marked (/api/v1/views/{id}).

const uPlot = globalThis.uPlot;

/** Chart colours, in series order. */
export const COLORS = ['#2f6fde', '#e8710a', '#c62828', '#7b1fa2', '#16803c'];

function width(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width) || 400);
}

/** Resizes `chart` (a uPlot) with its container. */
function follow(el, chart, height) {
  const observer = new ResizeObserver(() => chart.setSize({ width: width(el), height }));
  observer.observe(el);
  return observer;
}

/**
 * KPIs over time. `series`: [{ metric, label, color, bars, scale }]: `scale` multiplies the
 * API's values (1e-6 for bit/s to Mbit/s); `format(value)` writes legend values and
 * `tick(value)` axis labels; `integer` keeps ticks on whole numbers (counts).
 */
export class TimeChart {
  constructor(el, { series, format, tick = format, integer = false, height = 200 }) {
    this.el = el;
    this.series = series;
    this.height = height;
    this.range = [0, 1];
    const opts = {
      width: width(el),
      height,
      scales: {
        x: { time: true, range: () => this.range },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { stroke: '#5f6b7c', grid: { stroke: '#eef0f3' } },
        {
          stroke: '#5f6b7c',
          grid: { stroke: '#eef0f3' },
          size: 64,
          values: (u, values) => values.map((v) => tick(v)),
          // Counts tick at whole numbers only.
          ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6] } : {}),
        },
      ],
      series: [
        { label: 'time', value: (u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleString()) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color || COLORS[i],
          width: 2,
          fill: s.bars ? `${s.color || COLORS[i]}99` : undefined,
          paths: s.bars ? uPlot.paths.bars({ size: [0.7, 60] }) : undefined,
          points: { show: !s.bars, size: 5 },
          spanGaps: false,
          value: (u, v) => (v == null ? '–' : format(v)),
        })),
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    this.plot = new uPlot(opts, [[], ...series.map(() => [])], el);
    this.observer = follow(el, this.plot, height);
  }

  /** Shows `answer` (a /api/v1/timeseries JSON) over its period. */
  update(answer) {
    this.range = [answer.period.from / 1000, answer.period.to / 1000];
    const x = answer.t.map((t) => t / 1000);
    // Bars of nothing are left out rather than drawn flat.
    const ys = this.series.map((s) =>
      (answer.series[s.metric] || []).map((v) => (v == null || (s.bars && v === 0) ? null : v * (s.scale || 1))),
    );
    this.plot.setData([x, ...ys]);
  }
}

/** Fills [from, to] (seconds on the x scale) across the plot area. */
function band(u, from, to, color) {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  const x0 = u.valToPos(from, 'x', true);
  const x1 = u.valToPos(to, 'x', true);
  ctx.fillStyle = color;
  ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
}

/** A vertical line at `at` (seconds) with a label at the top (`row` 0 or 1, so that
 * labels of different kinds do not overlap). */
function marker(u, at, color, dashed, label, row = 0) {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  const x = Math.round(u.valToPos(at, 'x', true));
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.setLineDash(dashed ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.fillStyle = color;
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  ctx.fillText(label, x + 4 * devicePixelRatio, top + (12 + 14 * row) * devicePixelRatio);
  ctx.restore();
}

/** Colours of the timeline's bands and markers (the page's legend uses the same). */
export const TIMELINE_COLORS = {
  starting: 'rgba(47, 111, 222, 0.14)',
  rebuffering: 'rgba(198, 40, 40, 0.28)',
  paused: 'rgba(95, 107, 124, 0.16)',
  seeking: 'rgba(123, 31, 162, 0.22)',
  seek: '#7b1fa2',
  error: '#c62828',
  bitrate: '#2f6fde',
};

/**
 * One view: the bitrate on screen as a step line (Mbit/s) over the seconds since the
 * view's first event, on bands for startup, stalls and pauses, with seeks and errors
 * marked.
 */
export class TimelineChart {
  constructor(el, height = 280) {
    this.el = el;
    this.height = height;
    this.view = { start: 0, end: 1, spans: [], seeks: [], errors: [] };
    const opts = {
      width: width(el),
      height,
      scales: {
        x: { time: false, range: () => [0, Math.max(1, (this.view.end - this.view.start) / 1000)] },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.25 : 1] },
      },
      axes: [
        {
          stroke: '#5f6b7c',
          grid: { stroke: '#eef0f3' },
          label: 'seconds since the view began',
          values: (u, values) => values.map((v) => `${v} s`),
        },
        {
          stroke: '#5f6b7c',
          grid: { stroke: '#eef0f3' },
          label: 'bitrate on screen (Mbit/s)',
          size: 60,
          values: (u, values) => values.map((v) => v.toFixed(1)),
        },
      ],
      series: [
        { label: 'at', value: (u, v) => (v == null ? '–' : `${v.toFixed(1)} s`) },
        {
          label: 'bitrate',
          stroke: TIMELINE_COLORS.bitrate,
          width: 2.5,
          fill: 'rgba(47, 111, 222, 0.08)',
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: false },
          value: (u, v) => (v == null ? '–' : `${v.toFixed(2)} Mbit/s`),
        },
      ],
      hooks: {
        drawClear: [(u) => this.drawBands(u)],
        draw: [(u) => this.drawMarkers(u)],
      },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    this.plot = new uPlot(opts, [[], []], el);
    this.observer = follow(el, this.plot, height);
  }

  seconds(t) {
    return (t - this.view.start) / 1000;
  }

  drawBands(u) {
    for (const span of this.view.spans) {
      const color = TIMELINE_COLORS[span.state];
      if (color) {
        band(u, this.seconds(span.from), this.seconds(span.to), color);
      }
    }
    for (const seek of this.view.seeks) {
      band(u, this.seconds(seek.t - seek.latency_ms), this.seconds(seek.t), TIMELINE_COLORS.seeking);
    }
  }

  drawMarkers(u) {
    for (const seek of this.view.seeks) {
      marker(u, this.seconds(seek.t), TIMELINE_COLORS.seek, true, `seek ${Math.round(seek.latency_ms)} ms`);
    }
    for (const error of this.view.errors) {
      marker(u, this.seconds(error.t), TIMELINE_COLORS.error, !error.fatal, `${error.fatal ? 'fatal ' : ''}error ${error.code}`, 1);
    }
  }

  /** Shows the `timeline` of a /api/v1/views/{id} answer. */
  update(timeline) {
    const events = timeline.events || [];
    const start = timeline.start_ms ?? 0;
    const end = timeline.end_ms ?? start + 1000;
    this.view = {
      start,
      end,
      spans: timeline.spans || [],
      seeks: events.filter((e) => e.type === 'seek'),
      errors: events.filter((e) => e.type === 'error'),
    };
    const steps = timeline.bitrate || [];
    const x = steps.map((s) => this.seconds(s.t));
    const y = steps.map((s) => s.bitrate / 1e6);
    if (steps.length > 0) {
      // The last rendition stays on screen to the end of the view.
      x.push(this.seconds(end));
      y.push(y[y.length - 1]);
    }
    this.plot.setData([x, y]);
  }
}
