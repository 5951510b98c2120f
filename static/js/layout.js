// layout.js: where the neurons of a network go. Pure; no DOM.
//
// Layers run left to right, neurons top to bottom, centred vertically. The
// drawing fills the width it is given; its height follows from the biggest
// layer, so a phone gets a taller, narrower diagram rather than a sideways
// scroll.

/**
 * @typedef {{x: number, y: number, r: number}} NodePos
 * @typedef {{width: number, height: number, radius: number, nodes: NodePos[][],
 *   labelLeft: number, labelRight: number, compact: boolean}} Layout
 */

/**
 * BLAME_LINE is the room a line of text under a neuron takes (its blame):
 * rows closer than two radii and this are crowded (draw.js), and a
 * squeezed layer keeps it while it can.
 */
export const BLAME_LINE = 20;

/**
 * naturalHeight is the most a diagram is drawn tall on a screen
 * viewHeight pixels high when nothing fits it to the room: half the
 * screen, between 240 and 560 pixels.
 * @param {number} viewHeight
 */
export function naturalHeight(viewHeight) {
  return Math.max(240, Math.min(viewHeight * 0.5, 560));
}

/** NAME_LINES is the height an input's or output's name and value take beside it (two lines). */
const NAME_LINES = 32;

/**
 * layoutNetwork places the neurons of a network whose layer sizes (inputs
 * first) are sizes, in a box width pixels wide.
 * @param {number[]} sizes neurons per layer, the inputs first
 * @param {{width: number, maxHeight?: number, labelWidth?: number, leftWidth?: number, rightWidth?: number}} box
 *   leftWidth, rightWidth: room the labels beside the inputs and the outputs would like
 * @returns {Layout}
 */
export function layoutNetwork(sizes, box) {
  const width = Math.max(160, Math.floor(box.width));
  const compact = width < 560;
  // Room at the sides for the input and output names (and their values in
  // real units): what the caller asks for, at least the default, at most
  // 30% of the width a side.
  const label = box.labelWidth ?? (compact ? 92 : 140);
  // On a narrow screen a side that asks for less than the default (short
  // names, no values in real units) gets only what it asks for, at least
  // 48 px: the rest goes to the network, so edges have room to cross.
  const floor = (want) => (compact && want !== undefined && box.labelWidth === undefined ? Math.min(label, Math.max(48, want)) : label);
  const side = (want) => Math.round(Math.max(floor(want), Math.min(want ?? 0, width * 0.3)));
  let left = side(box.leftWidth);
  let right = side(box.rightWidth);
  // A side whose names want more than 30% may have what the other side
  // leaves of 60% (which-size's "body weight" beside S, M and L on a
  // phone was cut to "body wei…" while the outputs' side stood empty).
  if ((box.leftWidth ?? 0) > left) left = Math.round(Math.min(box.leftWidth ?? 0, width * 0.6 - right));
  if ((box.rightWidth ?? 0) > right) right = Math.round(Math.min(box.rightWidth ?? 0, width * 0.6 - left));
  const maxSize = Math.max(1, ...sizes);
  const columns = sizes.length;
  const inner = width - left - right;
  const colGap = columns > 1 ? inner / (columns - 1) : 0;

  // The radius shrinks for many neurons but keeps a tappable minimum.
  const byWidth = columns > 1 ? colGap / 4 : 40;
  let radius = Math.max(7, Math.min(compact ? 22 : 28, byWidth));
  let rowGap = radius * 2 + (compact ? 26 : 30);
  // A narrow screen has height to spare: rows at least 0.8 columns apart
  // (up to 110 px) cross their edges at a readable angle, with room
  // between the rows for the weights' labels.
  if (compact && columns > 1) rowGap = Math.max(rowGap, Math.min(colGap * 0.8, 110));
  const maxHeight = box.maxHeight ?? Infinity;
  const roomyGap = rowGap;
  if (44 + radius * 2 + rowGap * (maxSize - 1) > maxHeight && maxSize > 1) {
    // Squeeze: share the height out evenly, shrinking neurons to fit,
    // and rather a little more while they stay 16 across than lose the
    // line between the rows where each neuron's blame is written
    // (draw.js crowded).
    rowGap = (maxHeight - 44) / maxSize;
    const withBlame = (rowGap - BLAME_LINE - 2) / 2;
    radius = Math.max(2.5, Math.min(radius, withBlame >= 16 ? withBlame : (rowGap - 4) / 2));
  }
  const pad = radius + 22;
  const height = Math.ceil(pad * 2 + rowGap * (maxSize - 1));
  const mid = height / 2;

  const nodes = sizes.map((n, l) => {
    const x = columns > 1 ? left + colGap * l : width / 2;
    // Where the squeeze leaves less than two lines of text a row, a layer
    // of few neurons keeps them as far apart as an unsqueezed layer would
    // (two inputs beside 64 hidden neurons stood 7 px apart, their names
    // and values written over each other).
    const gap = n > 1 && rowGap < NAME_LINES ? Math.max(rowGap, Math.min(roomyGap, (height - 2 * pad) / (n - 1))) : rowGap;
    const top = mid - (gap * (n - 1)) / 2;
    return Array.from({ length: n }, (_, j) => ({ x: round(x), y: round(top + gap * j), r: round(radius) }));
  });
  return { width, height, radius: round(radius), nodes, labelLeft: left, labelRight: width - right, compact };
}

/**
 * edgePath is the SVG path of the edge from a to b: a gentle S-curve, so
 * edges that cross stay apart near the neurons.
 * @param {NodePos} a
 * @param {NodePos} b
 */
export function edgePath(a, b) {
  const x1 = a.x + a.r;
  const x2 = b.x - b.r;
  const dx = (x2 - x1) / 2;
  return `M${round(x1)} ${round(a.y)} C${round(x1 + dx)} ${round(a.y)} ${round(x2 - dx)} ${round(b.y)} ${round(x2)} ${round(b.y)}`;
}

/**
 * pointOnEdge returns the point a fraction t along the curve edgePath(a, b),
 * for the pulses that travel along edges.
 * @param {NodePos} a
 * @param {NodePos} b
 * @param {number} t
 */
export function pointOnEdge(a, b, t) {
  const x1 = a.x + a.r;
  const x2 = b.x - b.r;
  const dx = (x2 - x1) / 2;
  const p0 = [x1, a.y];
  const p1 = [x1 + dx, a.y];
  const p2 = [x2 - dx, b.y];
  const p3 = [x2, b.y];
  const u = 1 - t;
  const x = u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0];
  const y = u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1];
  return { x, y };
}

/**
 * layerSizes lists the neurons per layer of a protocol network, inputs first.
 * @param {{inputs: string[], layers: {size: number}[]}} network
 */
export function layerSizes(network) {
  return [network.inputs.length, ...network.layers.map((l) => l.size)];
}

function round(v) {
  return Math.round(v * 10) / 10;
}

/**
 * @typedef {{x0: number, y0: number, x1: number, y1: number}} Box
 * @typedef {{a: NodePos, b: NodePos, texts: string[]}} EdgeLabel
 */

// Where along an edge a label may sit, best first: the middle reads most
// clearly, then further towards either end.
const labelSpots = [0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8, 0.14, 0.86];

/**
 * placeEdgeLabels finds a place for each edge's label so that no two labels
 * overlap and none covers a neuron or another obstacle (the blame under a
 * neuron). Labels are placed in the order given, so the most important come
 * first. Each label has texts to try, longest first ("0.20→0.21", then
 * "0.21"): the first that fits somewhere along its edge wins. A label that
 * fits nowhere gets null; its number is still in the inspector and the
 * table.
 * @param {EdgeLabel[]} labels
 * @param {{width: number, height: number, charPx: number, linePx: number, obstacles?: Box[]}} box
 * @returns {({x: number, y: number, text: string}|null)[]} centres of the placed labels
 */
export function placeEdgeLabels(labels, box) {
  /** @type {Box[]} */
  const taken = [...(box.obstacles ?? []), ...crossingBoxes(labels, box.linePx)];
  const hits = (r) => r.x0 < 1 || r.y0 < 1 || r.x1 > box.width - 1 || r.y1 > box.height - 1 || taken.some((o) => r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1);
  const nodes = new Map();
  for (const { a, b } of labels) for (const n of [a, b]) nodes.set(`${n.x},${n.y}`, n);
  for (const n of nodes.values()) taken.push({ x0: n.x - n.r - 1, y0: n.y - n.r - 1, x1: n.x + n.r + 1, y1: n.y + n.r + 1 });
  const h = box.linePx + 2;
  // On the line first (the halo behind the text hides the line under it),
  // then just above or below it.
  const shifts = [0, -(h / 2 + 1), h / 2 + 1];
  return labels.map(({ a, b, texts }) => {
    for (const text of texts) {
      const w = text.length * box.charPx + 4;
      for (const dy of shifts) {
        for (const t of labelSpots) {
          const p = pointOnEdge(a, b, t);
          const r = { x0: p.x - w / 2, y0: p.y + dy - h / 2, x1: p.x + w / 2, y1: p.y + dy + h / 2 };
          if (hits(r)) continue;
          taken.push(r);
          return { x: round(p.x), y: round(p.y + dy), text };
        }
      }
    }
    return null;
  });
}

/**
 * crossingBoxes are small squares around the points where two labelled
 * edges between the same columns cross, so that no label's plate hides a
 * crossing (the reader could not tell which line goes where). Only for a
 * few labels: the pairs grow with their square.
 * @param {EdgeLabel[]} labels
 * @param {number} linePx
 * @returns {Box[]}
 */
export function crossingBoxes(labels, linePx) {
  /** @type {Box[]} */
  const out = [];
  if (labels.length > 40) return out;
  const half = linePx / 2 + 1;
  for (let p = 0; p < labels.length; p++) {
    for (let q = p + 1; q < labels.length; q++) {
      const e = labels[p];
      const f = labels[q];
      if (e.a.x !== f.a.x || e.b.x !== f.b.x) continue;
      // Both curves run y = ya + (yb − ya)·s for the same s at each x
      // (curveAt), so they meet where their straight-line mixes agree.
      const rise = e.b.y - e.a.y - (f.b.y - f.a.y);
      if (rise === 0) continue;
      const s = (f.a.y - e.a.y) / rise;
      if (!(s > 0 && s < 1)) continue;
      const t = smoothInverse(s);
      const c = pointOnEdge(e.a, e.b, t);
      out.push({ x0: c.x - half, y0: c.y - half, x1: c.x + half, y1: c.y + half });
    }
  }
  return out;
}

/** smoothInverse is the t in [0, 1] where 3t² − 2t³ = s. */
function smoothInverse(s) {
  let lo = 0;
  let hi = 1;
  for (let k = 0; k < 30; k++) {
    const t = (lo + hi) / 2;
    if (3 * t * t - 2 * t * t * t < s) lo = t;
    else hi = t;
  }
  return (lo + hi) / 2;
}

/**
 * curveAt is where, as a fraction t along every edge between two columns
 * of neurons, the curve edgePath crosses the vertical line at x, and the
 * curve's vertical progress s and steepness there. The curve's x runs
 * x1 + (x2 − x1)·(1.5t − 1.5t² + t³), which only grows, and its y runs
 * ya + (yb − ya)·(3t² − 2t³), so one t serves every edge of the column.
 * @param {number} x
 * @param {number} x1 where the edges leave their neurons
 * @param {number} x2 where they reach the next ones
 * @returns {{s: number, ds: number}} s: the fraction of the way down
 *   from ya to yb; ds: d(s)/dx, for the edge's slope
 */
export function curveAt(x, x1, x2) {
  const span = x2 - x1;
  const want = (x - x1) / span;
  let lo = 0;
  let hi = 1;
  for (let k = 0; k < 30; k++) {
    const t = (lo + hi) / 2;
    if (1.5 * t - 1.5 * t * t + t * t * t < want) lo = t;
    else hi = t;
  }
  const t = (lo + hi) / 2;
  return { s: 3 * t * t - 2 * t * t * t, ds: (6 * t - 6 * t * t) / (span * (1.5 - 3 * t + 3 * t * t)) };
}

/**
 * edgeNear finds the edge whose curve passes nearest the point (x, y),
 * within tol pixels, in a layout: the weight a click or a tap on a
 * drawing without an element per edge means. It costs one pass over the
 * edges of the one column the point is in.
 * @param {Layout} lay
 * @param {number} x
 * @param {number} y
 * @param {number} tol
 * @returns {{layer: number, to: number, from: number}|null} layer: the
 *   weight's layer (0: from the inputs), to: the neuron it feeds, from: the
 *   neuron it comes from
 */
export function edgeNear(lay, x, y, tol) {
  for (let l = 0; l + 1 < lay.nodes.length; l++) {
    const left = lay.nodes[l];
    const right = lay.nodes[l + 1];
    if (!left.length || !right.length) continue;
    const x1 = left[0].x + left[0].r;
    const x2 = right[0].x - right[0].r;
    if (x < x1 || x > x2 || x2 <= x1) continue;
    const { s, ds } = curveAt(x, x1, x2);
    let best = null;
    let bestD = tol;
    for (let j = 0; j < right.length; j++) {
      const yb = right[j].y;
      for (let i = 0; i < left.length; i++) {
        const ya = left[i].y;
        const slope = (yb - ya) * ds;
        const d = Math.abs(ya + (yb - ya) * s - y) / Math.sqrt(1 + slope * slope);
        if (d <= bestD) {
          bestD = d;
          best = { layer: l, to: j, from: i };
        }
      }
    }
    return best;
  }
  return null;
}
