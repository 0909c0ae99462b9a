// Live charts of one player (a `Meter`), drawn by uPlot (the npm package, served by the
// collector as /demo/vendor/uPlot.iife.min.js, which defines the global `uPlot`):
//
// - throughput, Mbit/s: the trace's real bandwidth at each instant of the shaped session,
//   the player's bandwidth estimate, and the bitrate of the level on screen;
// - buffer ahead of the playhead, seconds.
//
// Both over seconds since the load, with startup and stalls as bands. Charts given the
// same `sync` key move their cursors together; `limits` lets several charts share their
// y scales (the comparison page).

const uPlot = globalThis.uPlot;

/** Colours of the series and bands (the pages' legends use the same). */
export const CHART_COLORS = {
  trace: '#8a94a6',
  traceFill: 'rgba(138, 148, 166, 0.22)',
  estimate: '#2f6fde',
  bitrate: '#e8710a',
  buffer: '#16803c',
  bufferFill: 'rgba(22, 128, 60, 0.12)',
  starting: 'rgba(47, 111, 222, 0.12)',
  stalled: 'rgba(198, 40, 40, 0.30)',
};

const AXIS = { stroke: '#5f6b7c', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#dde1e7' } };

function widthOf(el) {
  return Math.max(260, Math.floor(el.getBoundingClientRect().width) || 400);
}

function fmt(v, digits, unit) {
  return v == null ? '–' : `${v.toFixed(digits)} ${unit}`;
}

/** The charts of one player, in `container`. */
export class PlayerCharts {
  /**
   * `heights`: { network, buffer } in CSS pixels; `sync`: a cursor sync key; `limits`:
   * optional { mbps(), bufferS() } giving each y scale's top (shared between charts);
   * `legend`: uPlot's legends with the values under the cursor (else the page has one).
   */
  constructor(container, { heights = { network: 220, buffer: 150 }, sync = 'player', limits = null, legend = true } = {}) {
    this.container = container;
    this.meter = null;
    this.limits = limits;
    this.heights = heights;
    const network = document.createElement('div');
    network.className = 'chart chart-network';
    const buffer = document.createElement('div');
    buffer.className = 'chart chart-buffer';
    container.replaceChildren(network, buffer);
    const bands = (u) => this.drawBands(u);
    const xScale = { time: false, range: () => this.xRange() };
    const xAxis = {
      ...AXIS,
      label: 'seconds since load',
      labelSize: 18,
      size: 36,
      values: (u, values) => values.map((v) => `${v}`),
    };
    const cursor = { sync: { key: sync }, drag: { x: false, y: false } };
    this.network = new uPlot(
      {
        width: widthOf(container),
        height: heights.network,
        scales: {
          x: xScale,
          y: { range: (u, min, max) => [0, this.top('mbps', max)] },
        },
        axes: [
          xAxis,
          { ...AXIS, label: 'Mbit/s', labelSize: 18, size: 44, values: (u, values) => values.map((v) => v.toFixed(v < 10 && v % 1 ? 1 : 0)) },
        ],
        series: [
          { label: 'at', value: (u, v) => fmt(v, 1, 's') },
          {
            label: 'trace (real bandwidth)',
            stroke: CHART_COLORS.trace,
            fill: CHART_COLORS.traceFill,
            width: 1.5,
            paths: uPlot.paths.stepped({ align: 1 }),
            points: { show: false },
            value: (u, v) => fmt(v, 2, 'Mbit/s'),
          },
          {
            label: 'bandwidth estimate',
            stroke: CHART_COLORS.estimate,
            width: 2,
            points: { show: false },
            value: (u, v) => fmt(v, 2, 'Mbit/s'),
          },
          {
            label: 'bitrate on screen',
            stroke: CHART_COLORS.bitrate,
            width: 2.5,
            paths: uPlot.paths.stepped({ align: 1 }),
            points: { show: false },
            value: (u, v) => fmt(v, 2, 'Mbit/s'),
          },
        ],
        hooks: { drawClear: [bands] },
        legend: { show: legend },
        cursor,
      },
      [[], [], [], []],
      network,
    );
    this.buffer = new uPlot(
      {
        width: widthOf(container),
        height: heights.buffer,
        scales: {
          x: xScale,
          y: { range: (u, min, max) => [0, this.top('bufferS', max)] },
        },
        axes: [
          xAxis,
          { ...AXIS, label: 'buffer, s', labelSize: 18, size: 44, values: (u, values) => values.map((v) => `${v}`) },
        ],
        series: [
          { label: 'at', value: (u, v) => fmt(v, 1, 's') },
          {
            label: 'buffer ahead',
            stroke: CHART_COLORS.buffer,
            fill: CHART_COLORS.bufferFill,
            width: 2,
            points: { show: false },
            value: (u, v) => fmt(v, 1, 's'),
          },
        ],
        hooks: { drawClear: [bands] },
        legend: { show: legend },
        cursor,
      },
      [[], []],
      buffer,
    );
    this.observer = new ResizeObserver(() => {
      const width = widthOf(container);
      this.network.setSize({ width, height: heights.network });
      this.buffer.setSize({ width, height: heights.buffer });
    });
    this.observer.observe(container);
  }

  /** Seconds shown: from the load to now, at least 30. */
  xRange() {
    const t = this.meter ? this.meter.t : [];
    const last = t.length > 0 ? t[t.length - 1] : 0;
    return [0, Math.max(30, Math.ceil(last / 10) * 10)];
  }

  /**
   * Top of a y scale: a round number a little above the data (or above `limits`, shared
   * between charts), so that the top tick is labelled.
   */
  top(which, max) {
    const shared = this.limits ? this.limits[which]() : null;
    const top = shared ?? max;
    const floor = which === 'mbps' ? 1 : 5;
    return Number.isFinite(top) && top > 0 ? Math.max(floor, roundUp(top * 1.08)) : floor;
  }

  /** Startup (load to first frame) and every stall, across the plot. */
  drawBands(u) {
    const meter = this.meter;
    if (!meter) return;
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    const now = meter.t.length > 0 ? meter.t[meter.t.length - 1] : 0;
    const fill = (from, to, color) => {
      const x0 = u.valToPos(from, 'x', true);
      const x1 = u.valToPos(to, 'x', true);
      ctx.fillStyle = color;
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    };
    fill(0, meter.firstFrameS ?? now, CHART_COLORS.starting);
    for (const stall of meter.stalls) fill(stall.from, stall.to ?? now, CHART_COLORS.stalled);
  }

  /** Draws `meter`'s samples so far. */
  update(meter) {
    this.meter = meter;
    this.network.setData([meter.t, meter.traceMbps, meter.estimateMbps, meter.bitrateMbps]);
    this.buffer.setData([meter.t, meter.bufferS]);
  }

  destroy() {
    this.observer.disconnect();
    this.network.destroy();
    this.buffer.destroy();
  }
}

/** The smallest of 1, 2, 2.5, 5 × 10^k not below `v` (> 0). */
function roundUp(v) {
  const base = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * base >= v) return step * base;
  }
  return 10 * base;
}

/** The largest finite value of `arrays` (null when none). */
export function maxOf(...arrays) {
  let max = null;
  for (const values of arrays) {
    for (const v of values) {
      if (Number.isFinite(v) && (max === null || v > max)) max = v;
    }
  }
  return max;
}
