// charts.js: the loss over time (uPlot), and for 2-D lessons the decision
// boundary heatmap behind the data points plus one small heatmap per hidden
// neuron, drawn from the server's `boundary` frames.

import uPlot from '../vendor/uplot/uPlot.min.js';
import { heatColor } from './colors.js';
import { boundaryLabel, createClassMap } from './classmap.js';
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

/** The colour scale of each palette, worked out once. */
const luts = new WeakMap();

/**
 * heatmapRGBA colours heatmap bytes with the theme's diverging scale, into
 * out when given (4 bytes a heatmap byte), else into a new array.
 * @param {Uint8Array} bytes
 * @param {import('./colors.js').Palette} pal
 * @param {Uint8ClampedArray<ArrayBuffer>} [out]
 * @returns {Uint8ClampedArray<ArrayBuffer>} what ImageData takes
 */
export function heatmapRGBA(bytes, pal, out) {
  let lut = luts.get(pal);
  if (!lut) {
    lut = [];
    for (let v = 0; v < 256; v++) lut.push(heatColor(v / 255, pal));
    luts.set(pal, lut);
  }
  return lookupRGBA(bytes, lut, out);
}

/**
 * lookupRGBA turns colour indices into opaque RGBA pixels through lut,
 * into out when given (a heatmap drawn again reuses its pixels: the big
 * networks' 192 hidden maps made 3 MB of garbage a redraw), else into a
 * new array.
 * @param {ArrayLike<number>} indices
 * @param {number[][]} lut [r, g, b] colours
 * @param {Uint8ClampedArray<ArrayBuffer>} [out] indices.length × 4 bytes
 * @returns {Uint8ClampedArray<ArrayBuffer>}
 */
export function lookupRGBA(indices, lut, out = new Uint8ClampedArray(indices.length * 4)) {
  for (let i = 0; i < indices.length; i++) {
    const c = lut[indices[i]];
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

/** LOSS_EVERY_MS is the least time between two loss-chart redraws during Play. */
const LOSS_EVERY_MS = 250;

/**
 * HEAT_EVERY_MS is the least time between two redraws of the heatmaps (the
 * decision boundary and every hidden neuron's map) during Play: scaling
 * them up and marking every data point was most of a frame, and the server
 * sends new ones up to ten times a second. Paused or stepping, they are
 * drawn at once.
 */
export const HEAT_EVERY_MS = 300;

/**
 * redrawWait is how long to wait before redrawing a chart last drawn at
 * drawnAt (ms), now, at most once every `every` ms during Play (progress
 * frames): 0 means draw now. Outside Play, or for the first drawing, it is
 * always 0.
 * @param {number} drawnAt
 * @param {number} now
 * @param {number} every
 * @param {boolean} playing the frame is a progress frame of Play
 */
export function redrawWait(drawnAt, now, every, playing) {
  if (!playing || drawnAt <= 0) return 0;
  return Math.max(0, drawnAt + every - now);
}

/** LOG_SPAN is how many times the biggest loss must exceed the smallest for the log axis. */
export const LOG_SPAN = 100;

/**
 * wantsLog reports whether the loss history spans more than LOG_SPAN
 * times, so a log axis shows both the first drop and the later learning
 * (and a divergence as a climb, not a wall).
 * @param {{trainLoss: number, testLoss: number|null}[]} losses
 */
export function wantsLog(losses) {
  let lo = Infinity;
  let hi = 0;
  for (const l of losses) {
    for (const v of [l.trainLoss, l.testLoss]) {
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return hi / lo > LOG_SPAN;
}

/**
 * hasTest reports whether any point has a test loss: without a test set
 * the chart has no test series and no legend entry for one.
 * @param {{testLoss: number|null}[]} losses
 */
export function hasTest(losses) {
  return losses.some((l) => typeof l.testLoss === 'number' && Number.isFinite(l.testLoss));
}

/** EPOCH_STEPS are the distances between epoch ticks: whole epochs only. */
export const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

/**
 * lossTicks writes the loss axis's tick labels with just enough digits to
 * tell neighbouring ticks apart (incr is their distance on a linear axis),
 * or, on a log axis, with two significant digits.
 * @param {number[]} ticks
 * @param {number|undefined} incr
 * @param {boolean} log
 * @returns {string[]}
 */
export function lossTicks(ticks, incr, log) {
  if (log) return ticks.map((t) => (t >= 1000 || t < 1e-4 ? fmt(t, 0) : String(Number(t.toPrecision(2)))));
  const step = incr && incr > 0 ? incr : 1;
  const d = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return ticks.map((t) => fmt(Math.abs(t) < step / 2 ? 0 : t, d));
}

/**
 * axisWidth is the room the loss axis needs for its longest label, in
 * pixels, so no label is clipped.
 * @param {string[]|null} labels
 */
export function axisWidth(labels) {
  const longest = Math.max(3, ...(labels ?? []).map((v) => String(v).length));
  return Math.ceil(longest * 7.2 + 14);
}

/**
 * epochTicks writes the epoch axis's labels: whole epochs, grouped.
 * @param {number[]} ticks
 */
export function epochTicks(ticks) {
  return ticks.map((t) => (Number.isInteger(t) ? t.toLocaleString('en-US') : ''));
}

// One offscreen canvas per heatmap size, reused by every paint.
const offscreens = new Map();

// One ImageData per heatmap size, refilled by every paint.
const images = new Map();

/**
 * paintHeatmap draws heatmap bytes (grid × grid) over the whole canvas, or
 * over the rectangle at (x, y), size pixels square, and returns its context.
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8Array} bytes
 * @param {number} grid
 * @param {import('./colors.js').Palette} pal
 * @param {{x: number, y: number, size: number}} [at]
 */
function paintHeatmap(canvas, bytes, grid, pal, at) {
  let image = images.get(grid);
  if (!image) images.set(grid, (image = new ImageData(grid, grid)));
  if (bytes.length !== grid * grid) return paintRGBA(canvas, heatmapRGBA(bytes, pal), grid);
  heatmapRGBA(bytes, pal, image.data);
  return paintImage(canvas, image, grid, at);
}

/**
 * paintRGBA draws grid×grid pixels over the whole canvas, smoothed, and
 * returns its context.
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8ClampedArray<ArrayBuffer>} rgba
 * @param {number} grid
 */
export function paintRGBA(canvas, rgba, grid) {
  return paintImage(canvas, new ImageData(rgba, grid, grid), grid);
}

/**
 * paintImage is paintRGBA for pixels already in an ImageData (over the
 * rectangle at, when given).
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} image grid × grid
 * @param {number} grid
 * @param {{x: number, y: number, size: number}} [at]
 */
function paintImage(canvas, image, grid, at) {
  let off = offscreens.get(grid);
  if (!off) {
    off = document.createElement('canvas');
    off.width = grid;
    off.height = grid;
    offscreens.set(grid, off);
  }
  const octx = off.getContext('2d');
  octx.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  if (at) ctx.drawImage(off, at.x, at.y, at.size, at.size);
  else ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  return ctx;
}

/**
 * createCharts draws into the page's chart slots.
 * @param {{loss: HTMLElement, summary: HTMLElement, boundaryBox: HTMLElement, boundary: HTMLElement, hidden: HTMLElement}} slots
 * @param {{palette: () => import('./colors.js').Palette, added?: () => {x1: number, x2: number, label: number}[]}} opts
 *   added: points the learner has placed on the plot but not trained on yet
 */
export function createCharts(slots, opts) {
  /** @type {uPlot|null} */
  let plot = null;
  let plotWidth = 0;
  let lastLosses = null;
  let lastBoundary = null;
  let lastData = null;
  let themeKey = '';
  let hiddenKey = '';
  // The slots' widths, measured by a ResizeObserver (0: not yet).
  let lossWidth = 0;
  let boundaryWidth = 0;
  let lastModel = null;
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) {
        if (e.target === slots.loss) {
          lossWidth = e.contentRect.width;
          if (plot && lastLosses && lossWidth && Math.abs(Math.max(220, lossWidth) - plotWidth) > 8) drawLoss(lastLosses);
        } else {
          const before = boundaryWidth;
          boundaryWidth = e.contentRect.width;
          if (lastBoundary && boundaryWidth && Math.abs(boundaryWidth - before) > 8) drawBoundary(lastBoundary, lastData);
        }
      }
    });
    ro.observe(slots.loss);
    ro.observe(slots.boundary);
    // The maps' frames wrap to the slot's width: measured again, drawn again.
    new ResizeObserver(() => {
      mapSpots = null;
      if (lastBoundary && mapFrames.length) paintHiddenMaps(lastBoundary, opts.palette());
    }).observe(slots.hidden);
  }
  // During Play the loss chart is redrawn at most every LOSS_EVERY_MS (the
  // newest losses win); the diagram gets the rest of each frame.
  let lossDrawnAt = 0;
  let lossTimer = null;
  // And the heatmaps at most every HEAT_EVERY_MS.
  let heatDrawnAt = 0;
  let heatTimer = null;
  // The hidden neurons' maps are drawn on one canvas under their frames
  // (a canvas each cost the browser a layer to composite on every frame:
  // a third of each frame of Play for a network of 192 hidden neurons).
  const mapCanvas = document.createElement('canvas');
  mapCanvas.className = 'hidden-maps-paint';
  mapCanvas.setAttribute('aria-hidden', 'true');
  /** @type {HTMLElement[]} */
  let mapFrames = [];
  /** @type {{x: number, y: number}[]|null} where each frame is in the slot, measured once per layout */
  let mapSpots = null;
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.className = 'boundary-canvas';
  const classMap = createClassMap(slots.boundary);

  // The log axis: automatic (null) until the learner chooses.
  let userLog = null;
  let plotLog = false;
  let plotTest = true;
  const logBox = document.createElement('label');
  logBox.className = 'chart-option';
  const logInput = document.createElement('input');
  logInput.type = 'checkbox';
  logInput.dataset.role = 'loss-log';
  logBox.append(logInput, ' log scale');
  logBox.hidden = true;
  slots.loss.before(logBox);
  logInput.addEventListener('change', () => {
    userLog = logInput.checked;
    plot = null;
    if (lastLosses) drawLoss(lastLosses);
  });

  function makePlot(width, log, test) {
    const pal = opts.palette();
    plot?.destroy();
    slots.loss.replaceChildren();
    plotWidth = width;
    plotLog = log;
    plotTest = test;
    const few = (u) => u.data[0].length <= 40;
    /** @type {import('../vendor/uplot/uPlot.min.js').Series[]} */
    const series = [
      {},
      { label: 'training loss', stroke: pal.positive, width: 2, points: { show: few, size: 6, fill: pal.positive } },
    ];
    if (test) series.push({ label: 'test loss', stroke: pal.negative, width: 2, dash: [6, 4], points: { show: few, size: 6, fill: pal.negative } });
    plot = new uPlot(
      {
        width,
        height: 170,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: {
          x: { time: false, auto: false, min: 0, max: 1 },
          y: log ? { distr: 3, log: 10 } : { range: (_, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] },
        },
        axes: [
          { stroke: pal.muted, grid: { stroke: pal.neutral + '44' }, ticks: { stroke: pal.neutral }, label: 'epoch', labelSize: 18, size: 34, incrs: EPOCH_STEPS, values: (_, ticks) => epochTicks(ticks) },
          {
            stroke: pal.muted,
            grid: { stroke: pal.neutral + '44' },
            ticks: { stroke: pal.neutral },
            values: (_, ticks, _i, _space, incr) => lossTicks(ticks, incr, log),
            size: (_, values) => axisWidth(values),
          },
        ],
        series,
      },
      test ? lossSeries([]) : lossSeries([]).slice(0, 2),
      slots.loss,
    );
  }

  function drawLoss(losses) {
    slots.loss.hidden = losses.length === 0;
    logBox.hidden = losses.length < 2;
    // Reading a width makes the browser lay the page out: only when the
    // observer below has not measured it yet.
    if (!lossWidth) lossWidth = slots.loss.clientWidth;
    const width = Math.max(220, lossWidth || 320);
    const key = JSON.stringify(opts.palette());
    const log = userLog ?? wantsLog(losses);
    logInput.checked = log;
    const test = hasTest(losses);
    if (!plot || Math.abs(width - plotWidth) > 8 || key !== themeKey || log !== plotLog || test !== plotTest) {
      themeKey = key;
      makePlot(width, log, test);
    }
    const cols = lossSeries(losses);
    if (log) for (const c of cols.slice(1)) for (let i = 0; i < c.length; i++) if (!(c[i] > 0)) c[i] = null;
    plot.setData(test ? cols : cols.slice(0, 2));
    // Epochs from 0 to the latest (at least 1, so one point is not alone).
    plot.setScale('x', { min: 0, max: Math.max(1, losses[losses.length - 1]?.epoch ?? 1) });
    const last = losses[losses.length - 1];
    const first = losses[0];
    const start = first && first.epoch === 0 && last !== first ? ` (${fmt(first.trainLoss, 3)} before training)` : '';
    // One bracket at most: "(0.298 before training); no test set", not two in a row.
    const testPart = last && typeof last.testLoss === 'number' ? `, test loss ${fmt(last.testLoss, 3)}` : '; no test set';
    slots.summary.textContent = !last
      ? 'The loss is plotted after each epoch (one pass over all the training examples).'
      : last.epoch === 0
        ? `Before training: training loss ${fmt(last.trainLoss, 3)}${testPart}. A point follows after each epoch.`
        : `Epoch ${last.epoch.toLocaleString('en-US')}: training loss ${fmt(last.trainLoss, 3)}${start}${testPart}.`;
  }

  function drawBoundary(b, data) {
    const out = outputHeatmap(b);
    if (!out) {
      slots.boundaryBox.hidden = true;
      return;
    }
    slots.boundaryBox.hidden = false;
    const pal = opts.palette();
    if (!boundaryWidth) boundaryWidth = slots.boundary.clientWidth;
    const size = Math.min(320, Math.max(200, boundaryWidth || 280));
    const dpr = globalThis.devicePixelRatio || 1;
    // Resizing a canvas reallocates it: only when the size changes.
    const px = Math.round(size * dpr);
    if (canvas.width !== px || canvas.height !== px) {
      canvas.width = px;
      canvas.height = px;
      canvas.style.width = size + 'px';
      canvas.style.height = size + 'px';
    }
    if (!canvas.isConnected) slots.boundary.replaceChildren(canvas);
    // Several classes (a softmax): the class map of classmap.js.
    if (classMap.draw(canvas, b, data, { size, pal, model: lastModel, added: opts.added?.() ?? [] })) return paintHiddenMaps(b, pal);
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
    canvas.setAttribute('aria-label', boundaryLabel(lastModel, b.domain, n1, n0));
    paintHiddenMaps(b, pal);
  }

  function paintHiddenMaps(b, pal) {
    // Each map has a frame (its name, its border, what a screen reader
    // says), made once for a network; the maps are painted into the frames'
    // places on one canvas.
    const maps = b.hidden ?? [];
    const key = maps.map((layer) => layer.length).join(',');
    if (key !== hiddenKey) {
      hiddenKey = key;
      mapFrames = [];
      mapSpots = null;
      const frag = document.createDocumentFragment();
      maps.forEach((layer, l) =>
        layer.forEach((_, j) => {
          const fig = document.createElement('figure');
          fig.className = 'hidden-map';
          const frame = document.createElement('div');
          frame.className = 'map-frame';
          frame.setAttribute('role', 'img');
          const name = maps.length > 1 ? `h${l + 1}.${j + 1}` : `h${j + 1}`;
          frame.setAttribute('aria-label', `What hidden neuron ${name} responds to`);
          const cap = document.createElement('figcaption');
          cap.textContent = name;
          fig.append(frame, cap);
          frag.append(fig);
          mapFrames.push(frame);
        }),
      );
      slots.hidden.replaceChildren(frag);
      if (mapFrames.length) slots.hidden.prepend(mapCanvas);
    }
    if (!mapFrames.length || !slots.hidden.clientWidth) return;
    const dpr = globalThis.devicePixelRatio || 1;
    if (!mapSpots) {
      const box = slots.hidden.getBoundingClientRect();
      mapSpots = mapFrames.map((f) => {
        const r = f.getBoundingClientRect();
        return { x: r.left - box.left + f.clientLeft, y: r.top - box.top + f.clientTop };
      });
      const w = Math.round(slots.hidden.clientWidth * dpr);
      const h = Math.round(slots.hidden.clientHeight * dpr);
      if (mapCanvas.width !== w || mapCanvas.height !== h) {
        mapCanvas.width = w;
        mapCanvas.height = h;
      }
    }
    const ctx = mapCanvas.getContext('2d');
    ctx?.clearRect(0, 0, mapCanvas.width, mapCanvas.height);
    const size = mapFrames[0].clientWidth * dpr;
    let k = 0;
    for (const layer of maps) {
      for (const h of layer) {
        const data = heatmapData(h);
        const spot = mapSpots[k];
        if (data && spot && ctx) {
          // Inside its frame's rounded corners.
          ctx.save();
          ctx.beginPath();
          ctx.roundRect(spot.x * dpr, spot.y * dpr, size, size, 3 * dpr);
          ctx.clip();
          paintHeatmap(mapCanvas, decodeHeatmap(data), b.grid, pal, { x: spot.x * dpr, y: spot.y * dpr, size });
          ctx.restore();
        }
        k++;
      }
    }
  }

  return {
    /** @param {import('./state.js').Model} m */
    render(m) {
      lastModel = m;
      if (m.losses !== lastLosses || !plot) {
        const wait = lossDrawnAt + LOSS_EVERY_MS - performance.now();
        if (m.reason === 'progress' && plot && wait > 0) {
          lossTimer ??= setTimeout(() => {
            lossTimer = null;
            this.render(lastModel);
          }, wait);
        } else {
          lastLosses = m.losses;
          lossDrawnAt = performance.now();
          drawLoss(m.losses);
        }
      }
      if (m.boundary !== lastBoundary || m.data !== lastData) {
        const wait = redrawWait(heatDrawnAt, performance.now(), HEAT_EVERY_MS, m.reason === 'progress' && m.data === lastData);
        if (wait > 0) {
          heatTimer ??= setTimeout(() => {
            heatTimer = null;
            this.render(lastModel);
          }, wait);
        } else {
          lastBoundary = m.boundary;
          lastData = m.data;
          heatDrawnAt = performance.now();
          drawBoundary(m.boundary, m.data);
        }
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
