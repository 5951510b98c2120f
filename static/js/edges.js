// edges.js: the network's edges, drawn on one canvas under the SVG neurons.
//
// An SVG element per edge costs the browser style, layout and paint work
// for every edge, and a DOM write for every edge whose width changes: at
// 8,384 edges a repaint took hundreds of milliseconds. On a canvas the
// edges are strokes: those that look alike (same sign, same width) are one
// path, so a repaint is one pass over the edges and a few dozen strokes,
// whatever their number. The neurons, labels and pulses stay SVG above.
//
// Widths are told apart to a tenth of a pixel, or to half a pixel past
// BIG_EDGES edges (a half pixel is what an eye tells apart among thousands
// of lines). Past BIG_EDGES the canvas's own strokes cost too much (a
// software canvas took a second for 8,384 curves, most of it filling
// thousands of overlapping anti-aliased strokes), so the edges are written
// into pixels here, one column of pixels at a time, without anti-aliasing,
// which at that density nobody sees: the pixels are kept a column after
// the other (a column's run is one stretch of memory) and turned into rows
// once for the canvas; the curve is worked out every other column; edges
// are 1 to 3 pixels wide instead of 1 to 7 (denseWidth). Where every edge
// of a layer crosses a column is one table, shared by all of them. Every
// array is made once per network (and per size of the canvas). At any
// size, edges are drawn thin first, so the big weights lie on top.
//
// Writing the pixels of a [2, 64, 64, 64, 1] network takes 10–15 ms on a
// slow machine, most of a frame: a worker does it (edgeworker.js), off the
// page's thread, while the page draws the neurons and answers the learner;
// each drawing reaches the canvas as a bitmap a few milliseconds later, and
// only the latest is drawn when the worker falls behind. WebGL was tried
// first and dropped: a browser without a graphics processor draws it in
// software, 120–440 ms for these 8,384 curves.

import { mix, hexToRgb } from './colors.js';

/** BIG_EDGES is the number of edges past which widths go in half pixels. */
export const BIG_EDGES = 1000;

/** The widest edge (colors.js edgeWidth: 1 to 7 pixels). */
const MIN_W = 1;
const MAX_W = 7;

/**
 * widthSteps is how many widths a pixel is cut into for n edges.
 * @param {number} n
 */
export function widthSteps(n) {
  return n > BIG_EDGES ? 2 : 10;
}

/**
 * denseWidth is how wide an edge px wide (1 to 7 pixels) is drawn past
 * BIG_EDGES edges: 1 to 3 pixels. There the neurons are a few pixels
 * apart, and edges up to 7 pixels wide covered each other into one mass;
 * five widths in half pixels still tell big weights from small ones.
 * @param {number} px
 */
export function denseWidth(px) {
  return MIN_W + (px - MIN_W) / 3;
}

/**
 * lookOf is the look of an edge: its width cut into steps per pixel and
 * its sign (0 positive, 1 negative, 2 zero), as one small number ordered
 * by width first. Edges are drawn thin under thick, so where thousands
 * cover each other the big weights are on top. Within one width neither
 * sign may always be drawn last: where a big network's edges cover each
 * other, the sign drawn last was all one saw (a hidden layer of as many
 * positive weights as negative ones looked all negative). The raster
 * draws each width's edges in their own order, signs mixed (widthOrder);
 * the strokes, a path a look, take the signs of one width in turn
 * (lookOrder).
 * @param {number} w the weight
 * @param {number} width its width in pixels
 * @param {number} steps widthSteps
 */
export function lookOf(w, width, steps) {
  const per = (MAX_W - MIN_W) * steps + 1;
  const k = Math.max(0, Math.min(per - 1, Math.round((width - MIN_W) * steps)));
  return k * 3 + (w > 0 ? 0 : w < 0 ? 1 : 2);
}

/**
 * looks is how many looks there are at steps widths a pixel.
 * @param {number} steps
 */
export function looks(steps) {
  return 3 * ((MAX_W - MIN_W) * steps + 1);
}

/**
 * bucketEdges orders the first n edges by look (a counting sort), so each
 * look is drawn as one path: order[starts[k]] up to order[starts[k + 1]]
 * are the edges of look k. It allocates nothing; the caller's arrays are
 * reused for every repaint.
 * @param {Uint16Array} look the look of each edge
 * @param {number} n
 * @param {Uint32Array} starts looks + 1 entries
 * @param {Uint32Array} next looks entries of scratch
 * @param {Uint32Array} order n entries or more
 */
export function bucketEdges(look, n, starts, next, order) {
  starts.fill(0);
  for (let e = 0; e < n; e++) starts[look[e] + 1]++;
  for (let k = 1; k < starts.length; k++) starts[k] += starts[k - 1];
  next.set(starts.subarray(0, next.length));
  for (let e = 0; e < n; e++) order[next[look[e]]++] = e;
}

/**
 * lookOrder sorts n edges by look (bucketEdges) into arrays made once:
 * each(look, fn) calls fn with each look's sign (0 positive, 1 negative,
 * 2 zero), width in pixels, and its edges order[a] up to order[b].
 * @param {number} n
 * @param {number} steps widthSteps
 */
export function lookOrder(n, steps) {
  const starts = new Uint32Array(looks(steps) + 1);
  const next = new Uint32Array(looks(steps));
  const order = new Uint32Array(n);
  return {
    order,
    /**
     * @param {Uint16Array} look
     * @param {(kind: number, px: number, a: number, b: number) => void} fn
     */
    each(look, fn) {
      bucketEdges(look, n, starts, next, order);
      for (let width = 0; 3 * width + 3 < starts.length; width++) {
        // Positive then negative at one width, negative then positive at
        // the next: neither sign is always the one on top.
        const signs = width % 2 === 0 ? SIGNS_UP : SIGNS_DOWN;
        for (const kind of signs) {
          const k = 3 * width + kind;
          if (starts[k] !== starts[k + 1]) fn(kind, MIN_W + width / steps, starts[k], starts[k + 1]);
        }
      }
    },
  };
}

const SIGNS_UP = [2, 0, 1];
const SIGNS_DOWN = [2, 1, 0];

/**
 * mixedOrder is the edges 0..n-1 in an order that hops around the network
 * (e·k mod n, k prime to n, near n times the golden ratio's fraction): in
 * the edges' own order the last source neuron's edges were drawn over all
 * the others, streaks of one neuron's signs across a layer.
 * @param {number} n
 */
export function mixedOrder(n) {
  const out = new Uint32Array(n);
  const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
  let k = Math.max(1, Math.round(n * 0.6180339887));
  while (n > 1 && gcd(k, n) !== 1) k++;
  for (let e = 0; e < n; e++) out[e] = (e * k) % n;
  return out;
}

/**
 * widthOrder sorts n edges by width only, into arrays made once: each(look,
 * fn) calls fn with each width in pixels and its edges order[a] up to
 * order[b], in a mixed order (mixedOrder; the sort is stable), so that the
 * signs of one width are mixed as the network mixes them.
 * @param {number} n
 * @param {number} steps widthSteps
 */
export function widthOrder(n, steps) {
  const widths = looks(steps) / 3;
  const key = new Uint16Array(n);
  const starts = new Uint32Array(widths + 1);
  const next = new Uint32Array(widths);
  const order = new Uint32Array(n);
  const mixed = mixedOrder(n);
  return {
    order,
    /**
     * @param {Uint16Array} look
     * @param {(px: number, a: number, b: number) => void} fn
     */
    each(look, fn) {
      for (let i = 0; i < n; i++) key[i] = (look[mixed[i]] / 3) | 0;
      bucketEdges(key, n, starts, next, order);
      for (let q = 0; q < n; q++) order[q] = mixed[order[q]];
      for (let k = 0; k < widths; k++) {
        if (starts[k] !== starts[k + 1]) fn(MIN_W + k / steps, starts[k], starts[k + 1]);
      }
    },
  };
}

/** Flags of an edge. */
export const CHANGED = 1;
export const BLAME = 2;
export const SELECTED = 4;

const DASH = [[], [7, 4], [2, 4]];

/**
 * curveTable is, for each pixel column from x1 to x2 (device pixels),
 * how far down its way from ya to yb an edge is there (s) and the rate of
 * that per pixel (ds): the curve of layout.js edgePath, whose x only grows.
 * @param {number} x1
 * @param {number} x2
 * @returns {{s: Float32Array, ds: Float32Array}}
 */
export function curveTable(x1, x2) {
  const n = Math.max(0, Math.round(x2) - Math.round(x1));
  const s = new Float32Array(n);
  const ds = new Float32Array(n);
  let t = 0;
  for (let x = 0; x < n; x++) {
    // x(t)/span = 1.5t − 1.5t² + t³: Newton from the last column's t.
    const want = (x + 0.5) / n;
    for (let k = 0; k < 6; k++) {
      const f = 1.5 * t - 1.5 * t * t + t * t * t - want;
      t -= f / (1.5 - 3 * t + 3 * t * t);
    }
    t = Math.max(0, Math.min(1, t));
    s[x] = 3 * t * t - 2 * t * t * t;
    ds[x] = (6 * t - 6 * t * t) / (n * (1.5 - 3 * t + 3 * t * t));
  }
  return { s, ds };
}

/**
 * edgeRuns works out where one edge lies in every other pixel column from
 * its start (the curve from ya to yb, table from curveTable, px thick
 * measured across the edge): the top and bottom row of each run, two
 * numbers a column pair at runs[at...], cut to height rows (an empty run
 * off the canvas). Half the columns: the arithmetic is most of the cost,
 * and the runs of a curve worked out every other column still touch (each
 * is as tall as the edge is steep).
 * @param {Uint16Array} runs ceil(columns / 2) pairs from at
 * @param {number} at
 * @param {number} ya
 * @param {number} yb
 * @param {{s: Float32Array, ds: Float32Array}} table
 * @param {number} px
 * @param {number} height
 */
export function edgeRuns(runs, at, ya, yb, table, px, height) {
  const s = table.s;
  const ds = table.ds;
  const dy = yb - ya;
  const half = px / 2;
  for (let x = 0, o = at; x < s.length; x += 2, o += 2) {
    const slope = dy * ds[x];
    const h = half * Math.sqrt(1 + slope * slope);
    // Rounded by truncation (Math.round cost a third of the time).
    const y = ya + dy * s[x] + 0.5;
    const above = y + h;
    const t = y - h;
    let top = t < 0 ? 0 : t | 0;
    let bottom = above < 1 ? 0 : above | 0;
    if (above >= 1 && bottom <= top) bottom = top + 1;
    if (top > height) top = height;
    if (bottom > height) bottom = height;
    runs[o] = top;
    runs[o + 1] = bottom;
  }
}

/**
 * fillRuns writes an edge's runs (edgeRuns) into pixels stored a column
 * after the other (pixel (x, y) at x·height + y, one uint32 a pixel), from
 * column x1 for columns columns: a column's run is one stretch of memory
 * (written row after row, it touched a new cache line every pixel). dash
 * (on, off) in column pairs leaves gaps, starting phase pairs into the
 * pattern; off 0 draws solid.
 * @param {Uint32Array} cols width × height pixels, column after column
 * @param {number} width
 * @param {number} height
 * @param {number} x1
 * @param {number} columns
 * @param {Uint16Array} runs
 * @param {number} at
 * @param {number} color
 * @param {number} on
 * @param {number} off
 * @param {number} phase
 */
export function fillRuns(cols, width, height, x1, columns, runs, at, color, on, off, phase) {
  // As an int32 (a colour with alpha is past 2³¹: stored as a double, each
  // write would convert it).
  const c = color | 0;
  const x0 = Math.round(x1);
  const period = on + off;
  let d = off > 0 ? phase % period : 0;
  for (let x = 0, o = at; x < columns; x += 2, o += 2) {
    if (off > 0) {
      const gap = d >= on;
      if (++d === period) d = 0;
      if (gap) continue;
    }
    const col = x0 + x;
    if (col + 1 < 0) continue;
    if (col >= width) break;
    const top = runs[o];
    const bottom = runs[o + 1];
    if (col >= 0) for (let p = col * height + top, end = col * height + bottom; p < end; p++) cols[p] = c;
    if (x + 1 < columns && col + 1 < width) for (let p = (col + 1) * height + top, end = (col + 1) * height + bottom; p < end; p++) cols[p] = c;
  }
}

let scratch = new Uint16Array(0);

/**
 * rasterEdge writes one edge into pixels stored a column after the other:
 * edgeRuns, then fillRuns (for the few edges drawn at a width of their
 * own: highlights, the last update's glow).
 * @param {Uint32Array} cols
 * @param {number} width
 * @param {number} height
 * @param {number} x1
 * @param {number} ya
 * @param {number} yb
 * @param {{s: Float32Array, ds: Float32Array}} table
 * @param {number} px
 * @param {number} color
 * @param {number} on
 * @param {number} off
 * @param {number} [phase]
 */
export function rasterEdge(cols, width, height, x1, ya, yb, table, px, color, on, off, phase = 0) {
  const need = 2 * Math.ceil(table.s.length / 2);
  if (scratch.length < need) scratch = new Uint16Array(need);
  edgeRuns(scratch, 0, ya, yb, table, px, height);
  fillRuns(cols, width, height, x1, table.s.length, scratch, 0, color, on, off, phase);
}

/**
 * transpose copies pixels stored a column after the other (rasterEdge)
 * into rows (an ImageData's order), in tiles that stay in the cache.
 * @param {Uint32Array} cols
 * @param {Uint32Array} rows
 * @param {number} width
 * @param {number} height
 */
export function transpose(cols, rows, width, height) {
  const T = 32;
  for (let y0 = 0; y0 < height; y0 += T) {
    const y1 = Math.min(height, y0 + T);
    for (let x0 = 0; x0 < width; x0 += T) {
      const x1 = Math.min(width, x0 + T);
      for (let y = y0; y < y1; y++) {
        const r = y * width;
        for (let x = x0; x < x1; x++) rows[r + x] = cols[x * height + y];
      }
    }
  }
}

/**
 * rgba32 is a colour as one pixel of an ImageData's uint32 view (little
 * endian: alpha, blue, green, red from the top byte down).
 * @param {[number, number, number]} rgb
 */
export function rgba32(rgb) {
  return ((255 << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
}

/**
 * @typedef {{blame: number, selected: number, glow: number, kinds: number[]}} RasterColors
 * the colours of a raster drawing, as rgba32 pixels: the bands under blamed
 * and selected edges, the glow of the edges the last update changed, and
 * edges by sign (positive, negative, zero)
 */

/**
 * rasterColors are a palette's colours for createRaster.
 * @param {import('./colors.js').Palette} pal
 * @returns {RasterColors}
 */
export function rasterColors(pal) {
  return {
    blame: rgba32(mix(pal.surface, pal.backward, 0.4)),
    selected: rgba32(mix(pal.surface, pal.focus, 0.4)),
    glow: rgba32(mix(pal.surface, pal.forward, 0.45)),
    kinds: [pal.positive, pal.negative, pal.neutral].map((c) => rgba32(hexToRgb(c))),
  };
}

/**
 * createRaster writes a big network's edges (ends as for createEdgeLayer)
 * into pixels, with no canvas: the page's own thread uses it where it
 * has no worker, and edgeworker.js everywhere else.
 * @param {Float32Array} ends
 */
export function createRaster(ends) {
  const n = ends.length / 4;
  const sorted = widthOrder(n, widthSteps(n));
  const order = sorted.order;
  let w = 0;
  let h = 0;
  let scale = 0;
  /** @type {number[][]} each sign's dash (on, off) in pairs of columns (fillRuns), at this scale */
  let dash = [];
  let pixels = new Uint32Array(0);
  let cols = new Uint32Array(0);
  // Each edge's runs (edgeRuns) at the width runPx it was last drawn at:
  // during Play a few dozen of thousands change a repaint.
  let runs = new Uint16Array(0);
  const runAt = new Uint32Array(n);
  const runPx = new Float32Array(n);
  /** @type {{s: Float32Array, ds: Float32Array}[]} each edge's column table, shared within a layer */
  let tables = [];

  return {
    /**
     * size makes the pixels width × height, scale pixels to a unit of ends.
     * @param {number} width
     * @param {number} height
     * @param {number} s
     */
    size(width, height, s) {
      if (width === w && height === h && s === scale) return;
      w = width;
      h = height;
      scale = s;
      dash = DASH.map((d, kind) => (kind === 0 ? [1, 0] : d.map((v) => Math.max(1, Math.round((v * scale) / 2)))));
      pixels = new Uint32Array(0); // made when a drawing is asked for without its own
      cols = new Uint32Array(w * h);
      const byEnds = new Map();
      tables = [];
      let total = 0;
      for (let e = 0; e < n; e++) {
        const x1 = Math.round(ends[4 * e] * scale);
        const x2 = Math.round(ends[4 * e + 2] * scale);
        const key = x1 * 65536 + x2;
        let t = byEnds.get(key);
        if (!t) byEnds.set(key, (t = curveTable(x1, x2)));
        tables.push(t);
        runAt[e] = total;
        total += 2 * Math.ceil(t.s.length / 2);
      }
      runs = new Uint16Array(total);
      runPx.fill(-1);
    },
    /**
     * draw writes the edges, whose looks (lookOf) and flags are look and
     * flags, in colors: the bands under blamed and selected edges, then each
     * width's edges, thin under thick, signs mixed, each width over the glow
     * of its edges the last update changed. It returns the pixels, row after row (an
     * ImageData's order): out, or its own, valid until the next draw.
     * @param {Uint16Array} look
     * @param {Uint8Array} flags
     * @param {RasterColors} colors
     * @param {Uint32Array} [out] width × height pixels to write
     */
    draw(look, flags, colors, out) {
      if (!out) {
        if (pixels.length !== w * h) pixels = new Uint32Array(w * h);
        out = pixels;
      }
      cols.fill(0);
      const one = (e, px, color, on, off) => rasterEdge(cols, w, h, ends[4 * e] * scale, ends[4 * e + 1] * scale, ends[4 * e + 3] * scale, tables[e], px * scale, color, on, off, e);
      // An edge's runs are worked out again only when its width changed.
      const own = (e, px, color, on, off) => {
        const at = runAt[e];
        if (runPx[e] !== px) {
          runPx[e] = px;
          edgeRuns(runs, at, ends[4 * e + 1] * scale, ends[4 * e + 3] * scale, tables[e], px * scale, h);
        }
        fillRuns(cols, w, h, ends[4 * e] * scale, tables[e].s.length, runs, at, color, on, off, e);
      };
      for (let e = 0; e < n; e++) if (flags[e] & BLAME) one(e, 14, colors.blame, 1, 0);
      for (let e = 0; e < n; e++) if (flags[e] & SELECTED) one(e, 14, colors.selected, 1, 0);
      sorted.each(look, (px, a, b) => {
        for (let q = a; q < b; q++) if (flags[order[q]] & CHANGED) one(order[q], px + 2, colors.glow, 1, 0);
        for (let q = a; q < b; q++) {
          const e = order[q];
          const kind = look[e] % 3;
          own(e, px, colors.kinds[kind], dash[kind][0], dash[kind][1]);
        }
      });
      transpose(cols, out, w, h);
      return out;
    },
  };
}

/**
 * @typedef {{scale: number, look: Uint16Array, flags: Uint8Array, colors: RasterColors}} RasterJob
 * one drawing of a big network's edges: their looks and flags then
 */

/**
 * pixelPainter puts a big network's edges (ends as for createEdgeLayer) on
 * canvas. A worker (edgeworker.js) writes the pixels, off the page's
 * thread, one drawing at a time: asked again while it writes one, it
 * writes only the latest next, so Play never queues drawings behind
 * itself. Where there is no worker, or it fails, the page writes them.
 * @param {HTMLCanvasElement} canvas
 * @param {Float32Array} ends
 */
function pixelPainter(canvas, ends) {
  const ctx = canvas.getContext('2d');
  /** @type {ReturnType<typeof createRaster>|null} */
  let here = null;
  /** @type {ImageData|null} */
  let image = null;
  /** @type {Worker|null} */
  let worker = null;
  let busy = false;
  /** @type {RasterJob|null} the latest drawing asked for */
  let last = null;
  let waiting = false; // last is not drawn yet
  const stats = { pictures: 0, total: 0, worker: false };

  /** @param {RasterJob} job */
  function drawHere(job) {
    const t0 = performance.now();
    here ??= createRaster(ends);
    const w = canvas.width;
    const h = canvas.height;
    here.size(w, h, job.scale);
    if (!image || image.width !== w || image.height !== h) image = new ImageData(w, h);
    here.draw(job.look, job.flags, job.colors, new Uint32Array(image.data.buffer));
    ctx?.putImageData(image, 0, 0);
    counted(performance.now() - t0);
  }

  /** counted counts a drawing put on the canvas, which took ms to write (for tests and the benchmarks: drawCost in app.js). */
  function counted(ms) {
    stats.pictures++;
    stats.total += ms;
    canvas.dataset.painter = worker ? 'worker' : 'page';
    canvas.dataset.pictures = String(stats.pictures);
  }

  function send() {
    if (!worker || !last) return;
    waiting = false;
    busy = true;
    worker.postMessage({ width: canvas.width, height: canvas.height, ...last });
  }

  if (typeof Worker === 'function' && typeof createImageBitmap === 'function') {
    try {
      worker = new Worker(import.meta.resolve('./edgeworker.js'), { type: 'module' });
      worker.postMessage({ ends });
      stats.worker = true;
      worker.onmessage = (ev) => {
        busy = false;
        const { bitmap, ms } = ev.data;
        // A drawing for a canvas since resized is dropped: the one for its
        // new size is on its way.
        if (bitmap.width === canvas.width && bitmap.height === canvas.height && ctx) {
          ctx.globalCompositeOperation = 'copy';
          ctx.drawImage(bitmap, 0, 0);
          ctx.globalCompositeOperation = 'source-over';
          counted(ms);
        }
        bitmap.close();
        if (waiting) send();
      };
      worker.onerror = (ev) => {
        // The page draws from now on (a worker the browser refused to
        // start, or one that broke).
        ev.preventDefault();
        worker?.terminate();
        worker = null;
        busy = false;
        stats.worker = false;
        if (last) drawHere(last);
      };
    } catch {
      worker = null;
    }
  }

  return {
    /**
     * draw asks for a drawing of the edges with these looks and flags (the
     * layer's own arrays: a drawing sent later, when the worker is done
     * with the one before, shows them as they are then, and postMessage
     * copies them).
     * @param {number} scale
     * @param {Uint16Array} look
     * @param {Uint8Array} flags
     * @param {RasterColors} colors
     */
    draw(scale, look, flags, colors) {
      last = { scale, look, flags, colors };
      if (!worker) return drawHere(last);
      waiting = true;
      if (!busy) send();
    },
    /** stats are the drawings put on the canvas and the time they took to write (ms, in total), and whether a worker wrote them. */
    stats: () => ({ ...stats }),
    /** dispose stops the worker. */
    dispose() {
      worker?.terminate();
      worker = null;
    },
  };
}

/**
 * createEdgeLayer draws the edges whose ends are ends (four numbers an
 * edge: where it leaves its neuron and where it arrives, in the diagram's
 * units) on canvas.
 * @param {HTMLCanvasElement} canvas
 * @param {Float32Array} ends x1, y1, x2, y2 of each edge
 */
export function createEdgeLayer(canvas, ends) {
  const n = ends.length / 4;
  const steps = widthSteps(n);
  const width = new Float32Array(n).fill(-1);
  const sign = new Int8Array(n);
  const look = new Uint16Array(n);
  const flags = new Uint8Array(n);
  let dirty = true;
  let scale = 1;
  const raster = n > BIG_EDGES;
  // Past BIG_EDGES the edges are written into pixels by a worker, off the
  // page's thread (edgeworker.js), or here where there is none.
  const painter = raster ? pixelPainter(canvas, ends) : null;
  /** @type {import('./colors.js').Palette|null} */
  let drawnWith = null;
  /** @type {RasterColors|null} drawnWith's colours for the raster */
  let colors = null;
  const ctx = canvas.getContext('2d');

  function curve(e) {
    const x1 = ends[4 * e];
    const y1 = ends[4 * e + 1];
    const x2 = ends[4 * e + 2];
    const y2 = ends[4 * e + 3];
    const dx = (x2 - x1) / 2;
    ctx.moveTo(x1, y1);
    ctx.bezierCurveTo(x1 + dx, y1, x2 - dx, y2, x2, y2);
  }

  /** strokeFlagged draws a wide, faint band under the edges with flag f. */
  function strokeFlagged(f, color, alpha, lineWidth) {
    let any = false;
    for (let e = 0; e < n; e++) {
      if (!(flags[e] & f)) continue;
      if (!any) ctx.beginPath();
      any = true;
      curve(e);
    }
    if (!any) return;
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.setLineDash(DASH[0]);
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  // The strokes' order (the raster keeps its own).
  const sorted = raster ? null : lookOrder(n, steps);
  const order = sorted?.order ?? new Uint32Array(0);
  /** @param {(kind: number, px: number, a: number, b: number) => void} fn */
  const eachLook = (fn) => sorted?.each(look, fn);

  return {
    /** count is the number of edges. */
    count: n,
    /** pictures are the raster drawings put on the canvas and the time they took to write, or null for strokes. */
    pictures: () => painter?.stats() ?? null,
    /** dispose lets go of what the layer holds beside the page (a worker). */
    dispose() {
      painter?.dispose();
    },
    /**
     * size gives the canvas its pixels: cssWidth × cssHeight CSS pixels at
     * the screen's devicePixelRatio, units CSS pixels to a unit of ends.
     * @param {number} cssWidth
     * @param {number} cssHeight
     * @param {number} units
     */
    size(cssWidth, cssHeight, units) {
      const dpr = globalThis.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(cssWidth * dpr));
      const h = Math.max(1, Math.round(cssHeight * dpr));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      scale = units * dpr;
      dirty = true;
    },
    /**
     * set gives edge e its weight w and width: it is redrawn only if its
     * look changed.
     * @param {number} e
     * @param {number} w
     * @param {number} px
     */
    set(e, w, px) {
      const s = w > 0 ? 1 : w < 0 ? -1 : 0;
      if (px === width[e] && s === sign[e]) return;
      width[e] = px;
      sign[e] = s;
      look[e] = lookOf(w, raster ? denseWidth(px) : px, steps);
      dirty = true;
    },
    /** width is edge e's width as last set. */
    width: (e) => width[e],
    /**
     * flag turns flag f of edge e on or off.
     * @param {number} e
     * @param {number} f CHANGED, BLAME or SELECTED
     * @param {boolean} on
     */
    flag(e, f, on) {
      const v = on ? flags[e] | f : flags[e] & ~f;
      if (v === flags[e]) return;
      flags[e] = v;
      dirty = true;
    },
    /**
     * clearFlag turns flag f off on every edge.
     * @param {number} f
     */
    clearFlag(f) {
      for (let e = 0; e < n; e++) {
        if (flags[e] & f) {
          flags[e] &= ~f;
          dirty = true;
        }
      }
    },
    /**
     * draw repaints the canvas if anything changed since the last time.
     * @param {import('./colors.js').Palette} pal
     */
    draw(pal) {
      if (!dirty && pal === drawnWith) return false;
      dirty = false;
      if (painter && pal !== drawnWith) colors = rasterColors(pal);
      drawnWith = pal;
      if (painter) {
        painter.draw(scale, look, flags, /** @type {RasterColors} */ (colors));
        return true;
      }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(scale, 0, 0, scale, 0, 0);
      ctx.lineCap = 'round';
      strokeFlagged(BLAME, pal.backward, 0.4, 14);
      strokeFlagged(SELECTED, pal.focus, 0.35, 14);
      eachLook((kind, px, a, b) => {
        // The edges an update just changed glow in the forward colour.
        let glow = false;
        for (let q = a; q < b; q++) {
          if (!(flags[order[q]] & CHANGED)) continue;
          if (!glow) ctx.beginPath();
          glow = true;
          curve(order[q]);
        }
        if (glow) {
          ctx.globalAlpha = 0.45;
          ctx.strokeStyle = pal.forward;
          ctx.lineWidth = px + 4;
          ctx.setLineDash(DASH[0]);
          ctx.stroke();
          ctx.globalAlpha = 1;
        }
        ctx.beginPath();
        for (let q = a; q < b; q++) curve(order[q]);
        ctx.strokeStyle = kind === 0 ? pal.positive : kind === 1 ? pal.negative : pal.neutral;
        ctx.lineWidth = px;
        ctx.setLineDash(DASH[kind]);
        // Dashes with round ends cost a software canvas twice as much.
        ctx.lineCap = kind === 0 ? 'round' : 'butt';
        ctx.stroke();
        ctx.lineCap = 'round';
      });
      return true;
    },
  };
}
