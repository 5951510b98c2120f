// charts.js: the loss over time (uPlot), and for 2-D lessons the decision
// boundary heatmap behind the data points plus one small heatmap per hidden
// neuron, drawn from the server's `boundary` frames.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { heatColor } from './colors.js';
import { fmt } from './format.js';

/**
 * decodeHeatmap turns a boundary frame's base64 heatmap into its bytes.
 * @param {string} b64
 * @returns {Uint8Array}
 */
export function decodeHeatmap(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * heatmapData returns the base64 of one heatmap, which the protocol sends as
 * a string and the engine's JSON as {"range":[lo,hi],"data":"…"}.
 * @param {string|{data: string}|undefined} h
 * @returns {string|null}
 */
export function heatmapData(h) {
  if (typeof h === 'string') return h;
  if (h && typeof h.data === 'string') return h.data;
  return null;
}

/**
 * outputHeatmap returns the base64 of a boundary frame's first output.
 * @param {any} b
 */
export function outputHeatmap(b) {
  if (!b) return null;
  return heatmapData(Array.isArray(b.output) ? b.output[0] : b.output);
}

/**
 * toPixel maps a data point to canvas pixels; row 0 of a heatmap is the top
 * (x2 = domain max) and column 0 the left (x1 = domain min).
 * @param {number[]} point [x1, x2]
 * @param {number[]} domain [min, max]
 * @param {number} size canvas side in pixels
 */
export function toPixel(point, domain, size) {
  const [lo, hi] = domain;
  return { x: ((point[0] - lo) / (hi - lo)) * size, y: ((hi - point[1]) / (hi - lo)) * size };
}

/**
 * fromPixel is toPixel backwards: the point [x1, x2] under canvas pixel
 * (x, y) of a plot size pixels wide.
 * @param {number} x
 * @param {number} y
 * @param {number[]} domain [min, max]
 * @param {number} size
 * @returns {number[]}
 */
export function fromPixel(x, y, domain, size) {
  const [lo, hi] = domain;
  const clamp = (v) => Math.max(lo, Math.min(hi, v));
  return [clamp(lo + (x / size) * (hi - lo)), clamp(hi - (y / size) * (hi - lo))];
}

/**
 * heatmapRGBA colours heatmap bytes with the theme's diverging scale.
 * @param {Uint8Array} bytes
 * @param {import('./colors.js').Palette} pal
 * @returns {Uint8ClampedArray}
 */
export function heatmapRGBA(bytes, pal) {
  const lut = [];
  for (let v = 0; v < 256; v++) lut.push(heatColor(v / 255, pal));
  const out = new Uint8ClampedArray(bytes.length * 4);
  for (let i = 0; i < bytes.length; i++) {
    const c = lut[bytes[i]];
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * lossSeries turns the loss history into uPlot's columns.
 * @param {{epoch: number, trainLoss: number, testLoss: number}[]} losses
 */
export function lossSeries(losses) {
  const xs = [];
  const tr = [];
  const te = [];
  for (const l of losses) {
    xs.push(l.epoch);
    tr.push(Number.isFinite(l.trainLoss) ? l.trainLoss : null);
    te.push(Number.isFinite(l.testLoss) ? l.testLoss : null);
  }
  return [xs, tr, te];
}

function paintHeatmap(canvas, bytes, grid, pal) {
  const off = document.createElement('canvas');
  off.width = grid;
  off.height = grid;
  const octx = off.getContext('2d');
  octx.putImageData(new ImageData(heatmapRGBA(bytes, pal), grid, grid), 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  return ctx;
}

/**
 * createCharts draws into the page's chart slots.
 * @param {{loss: HTMLElement, summary: HTMLElement, boundaryBox: HTMLElement, boundary: HTMLElement, hidden: HTMLElement}} slots
 * @param {{palette: () => import('./colors.js').Palette, added?: () => {x1: number, x2: number, label: number}[]}} opts
 *   added: points the learner has placed on the plot but not trained on yet
 */
export function createCharts(slots, opts) {
  let plot = null;
  let plotWidth = 0;
  let lastLosses = null;
  let lastBoundary = null;
  let lastData = null;
  let themeKey = '';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.className = 'boundary-canvas';

  function makePlot(width) {
    const pal = opts.palette();
    plot?.destroy();
    slots.loss.replaceChildren();
    plotWidth = width;
    plot = new uPlot(
      {
        width,
        height: 170,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: false } },
        axes: [
          { stroke: pal.muted, grid: { stroke: pal.neutral + '44' }, ticks: { stroke: pal.neutral }, label: 'epoch', labelSize: 18, size: 34 },
          { stroke: pal.muted, grid: { stroke: pal.neutral + '44' }, ticks: { stroke: pal.neutral }, size: 46, values: (_, ticks) => ticks.map((t) => fmt(t)) },
        ],
        series: [
          {},
          { label: 'training loss', stroke: pal.positive, width: 2, points: { show: false } },
          { label: 'test loss', stroke: pal.negative, width: 2, dash: [6, 4], points: { show: false } },
        ],
      },
      lossSeries([]),
      slots.loss,
    );
  }

  function drawLoss(losses) {
    slots.loss.hidden = losses.length === 0;
    const width = Math.max(220, slots.loss.clientWidth || 320);
    const key = JSON.stringify(opts.palette());
    if (!plot || Math.abs(width - plotWidth) > 8 || key !== themeKey) {
      themeKey = key;
      makePlot(width);
    }
    plot.setData(lossSeries(losses));
    const last = losses[losses.length - 1];
    slots.summary.textContent = last
      ? `After ${last.epoch} ${last.epoch === 1 ? 'epoch' : 'epochs'}: training loss ${fmt(last.trainLoss, 3)}${typeof last.testLoss === 'number' ? `, test loss ${fmt(last.testLoss, 3)}` : ' (no test set)'}.`
      : 'The loss is plotted after each epoch (one pass over all the training examples).';
  }

  function drawBoundary(b, data) {
    const out = outputHeatmap(b);
    if (!out) {
      slots.boundaryBox.hidden = true;
      return;
    }
    slots.boundaryBox.hidden = false;
    const pal = opts.palette();
    const size = Math.min(320, Math.max(200, slots.boundary.clientWidth || 280));
    const dpr = globalThis.devicePixelRatio || 1;
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
    canvas.style.width = size + 'px';
    canvas.style.height = size + 'px';
    if (!canvas.isConnected) slots.boundary.replaceChildren(canvas);
    const ctx = paintHeatmap(canvas, decodeHeatmap(out), b.grid, pal);
    ctx.save();
    ctx.scale(dpr, dpr);
    let n1 = 0;
    let n0 = 0;
    const mark = (pt, y, hollow) => {
      const p = toPixel(pt, b.domain, size);
      const one = (Array.isArray(y) ? y[0] : y) >= 0.5;
      one ? n1++ : n0++;
      ctx.beginPath();
      if (one) ctx.arc(p.x, p.y, 3.6, 0, Math.PI * 2);
      else ctx.rect(p.x - 3.2, p.y - 3.2, 6.4, 6.4);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = pal.text;
      if (hollow) {
        ctx.strokeStyle = one ? pal.positive : pal.negative;
        ctx.lineWidth = 2;
      } else {
        ctx.fillStyle = one ? pal.positive : pal.negative;
        ctx.fill();
      }
      ctx.stroke();
    };
    for (const s of data?.train ?? []) if (s.point) mark(s.point, s.y, false);
    for (const s of data?.test ?? []) if (s.point) mark(s.point, s.y, true);
    // Added points: filled, with a ring around them in the text colour.
    for (const p of opts.added?.() ?? []) {
      mark([p.x1, p.x2], p.label, false);
      const q = toPixel([p.x1, p.x2], b.domain, size);
      ctx.beginPath();
      ctx.arc(q.x, q.y, 7, 0, Math.PI * 2);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = pal.text;
      ctx.stroke();
    }
    ctx.restore();
    canvas.setAttribute('aria-label', `Decision boundary over the plane from ${b.domain[0]} to ${b.domain[1]}, with ${n1} points of class 1 and ${n0} of class 0.`);

    const maps = b.hidden ?? [];
    const frag = document.createDocumentFragment();
    maps.forEach((layer, l) =>
      layer.forEach((h, j) => {
        const fig = document.createElement('figure');
        fig.className = 'hidden-map';
        const c = document.createElement('canvas');
        c.width = 64;
        c.height = 64;
        c.setAttribute('role', 'img');
        const name = maps.length > 1 ? `h${l + 1}.${j + 1}` : `h${j + 1}`;
        c.setAttribute('aria-label', `What hidden neuron ${name} responds to`);
        const data = heatmapData(h);
        if (data) paintHeatmap(c, decodeHeatmap(data), b.grid, pal);
        const cap = document.createElement('figcaption');
        cap.textContent = name;
        fig.append(c, cap);
        frag.append(fig);
      }),
    );
    slots.hidden.replaceChildren(frag);
  }

  return {
    /** @param {import('./state.js').Model} m */
    render(m) {
      if (m.losses !== lastLosses || !plot) {
        lastLosses = m.losses;
        drawLoss(m.losses);
      }
      if (m.boundary !== lastBoundary || m.data !== lastData) {
        lastBoundary = m.boundary;
        lastData = m.data;
        drawBoundary(m.boundary, m.data);
      }
    },
    /** canvas is the boundary plot, while one is shown. */
    canvas: () => (canvas.isConnected ? canvas : null),
    /** domain is the boundary plot's [lo, hi], or null. */
    domain: () => lastBoundary?.domain ?? null,
    /** redraw repaints everything, e.g. after a theme change or resize. */
    redraw(m) {
      themeKey = '';
      lastLosses = null;
      lastBoundary = null;
      this.render(m);
    },
  };
}
