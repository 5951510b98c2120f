// draw.js: the network as SVG, and the animations of each phase.
//
// Neurons are circles showing their activation a inside and, once the
// backward pass reached them, their blame below in the backward style ("blame
// −0.11", or "∂ −0.11" with the math shown: ∂L/∂z).
// Edges are coloured by sign, dashed when negative, and as thick as the
// weight is big. Forward steps send dots left to right; backward steps send
// diamonds right to left; updates grow or shrink the changed edges from
// their old width to the new. With reduced motion everything is instant.

import { layoutNetwork, layerSizes, edgePath, pointOnEdge, placeEdgeLabels, edgeNear, naturalHeight, BLAME_LINE } from './layout.js';
import { createEdgeLayer, widthSteps, CHANGED, BLAME, SELECTED } from './edges.js';
import { nodeTint, edgeWidth } from './colors.js';
import { fmt, displayValue, realValue, hasUnits, shortAmount, fitValue, scaleSentence, changeDecimals } from './format.js';
import { shortName, neuronName } from './narrate.js';
import { mistakeOf } from './mistake.js';
import { setText } from './dom.js';

/** MISTAKE_H is the height of the strip under the network where the mistake is drawn. */
export const MISTAKE_H = 64;

const NS = 'http://www.w3.org/2000/svg';

/**
 * @typedef {{kind: 'neuron', layer: number, neuron: number} |
 *   {kind: 'weight', layer: number, to: number, from: number|null}} Selection
 */

/**
 * NodeView is a drawn neuron: its elements (blame for layers past the
 * inputs, real for named inputs and outputs), its value's font size and how
 * many characters fit in its circle, and what the last paint set (text: its
 * label's key, fill, squeezed: its value pressed to the circle's width;
 * tiny: too small for a digit, its value only by colour).
 * @typedef {{g: SVGGElement, ring: SVGCircleElement, value: SVGTextElement, exp: SVGTextElement,
 *   blame: SVGTextElement|null, real: SVGTextElement|null, l: number, j: number,
 *   fontSize: number, squeezed: boolean, tiny: boolean, chars: number, text: string|null, fill: string}} NodeView
 */

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.append(e);
  return e;
}

/**
 * createDiagram draws into container.
 * @param {HTMLElement} container
 * @param {{onSelect: (s: Selection) => void, reducedMotion: () => boolean, palette: () => import('./colors.js').Palette,
 *   fit?: () => {zoom: number, maxHeight?: number}, stepBudget?: () => number|null, math?: () => boolean}} opts
 *   math: the math is shown (a neuron's blame is written "∂ −0.11", else "blame −0.11"); fit: a presenter's
 *   projector draws everything zoom× larger (laid out for a box zoom× narrower, scaled up) and up to maxHeight
 *   screen pixels tall; stepBudget: while the page plays step by step, the milliseconds until its next step
 *   (a step's animation fills most of them), else null
 */
export function createDiagram(container, opts) {
  /** @type {SVGSVGElement} */
  let svg = null;
  let shapeKey = '';
  let lay = null;
  /** @type {ReturnType<typeof createEdgeLayer>|null} the edges, drawn on a canvas */
  let edgeLayer = null;
  // Each edge's weight (layer l, to neuron j, from neuron i), by edge index.
  let edgeL = new Uint16Array(0);
  let edgeJ = new Uint16Array(0);
  let edgeI = new Uint16Array(0);
  /** @type {{g: SVGGElement, aria: string}[]} a small network's focusable edges, by edge index */
  let hits = [];
  /** @type {SVGGElement|null} */
  let gLabels = null;
  /** @type {Map<number, {label: SVGTextElement, bg: SVGRectElement|null}>} the edges' labels, made when first wanted */
  let labels = new Map();
  /** @type {Set<number>} the edges whose blame path is marked */
  let blamePath = new Set();
  /** @type {NodeView[][]} */
  let nodes = [];
  let pulses = null;
  let model = null;
  /** @type {Selection|null} */
  let selected = null;
  let anim = null;
  let lastWidth = 0;
  let labelAll = false;
  let labelPx = 0; // the edge labels' font size, read once per drawing
  /** @type {number[]} where each layer's edges start: edge offs[l] + j*nin + i */
  let offs = [];
  /** @type {any} the mistake strip's elements */
  let strip = null;
  /** @type {HTMLParagraphElement|null} */
  let scaleNote = null;
  // What the last paint derived from m.updates, rebuilt only when they change.
  let updFor = null;
  /** @type {(import('./state.js').Update|null)[]} the last update of each edge, by edge index */
  let updByEdge = [];
  /** @type {Set<any>} */
  let topChanged = new Set();
  let edgesDrawn = false; // the last paint redrew the edges

  function build(m) {
    const fit = opts.fit?.();
    const zoom = fit?.zoom ?? 1;
    const boxWidth = container.clientWidth || 800;
    const width = Math.max(280, boxWidth / zoom);
    lastWidth = width;
    const sizes = layerSizes(m.network);
    // An embed's frame takes its height from the content (embed.js), so
    // its own window height says nothing: sizing the diagram by it would
    // grow the frame, then the diagram, and so on. It is drawn as for a
    // 720 px screen instead.
    const viewHeight = document.documentElement.classList.contains('embedded') ? 720 : window.innerHeight;
    const maxHeight = (fit?.maxHeight ?? naturalHeight(viewHeight)) / zoom;
    lay = layoutNetwork(sizes, { width, maxHeight, ...labelRoom(m, sizes) });
    svg = el('svg', {
      viewBox: `0 0 ${lay.width} ${lay.height + MISTAKE_H}`,
      width: '100%',
      class: 'net',
      role: 'group',
      'aria-label': `Network diagram: ${sizes.join('–')} neurons. Tab to a neuron or weight to inspect it.`,
    });
    // The edges are strokes on a canvas under the SVG (edges.js); small
    // networks also get an invisible SVG path per edge, which a keyboard
    // and a screen reader reach as a button.
    const canvas = document.createElement('canvas');
    canvas.className = 'net-edges';
    canvas.setAttribute('aria-hidden', 'true');
    const gEdges = el('g', { class: 'edges' }, svg);
    gLabels = el('g', { class: 'edge-labels', 'aria-hidden': 'true' }, svg);
    const gNodes = el('g', { class: 'nodes' }, svg);
    // Text lives outside the focusable neurons, whose names come from
    // aria-label alone, and is hidden from assistive technology: the label
    // says the same in words.
    const gText = el('g', { class: 'node-texts', 'aria-hidden': 'true' }, svg);
    /** @type {{t: SVGTextElement, name: string, room: number}[]} the inputs' and outputs' names, fitted once drawn */
    const names = [];
    pulses = el('g', { class: 'pulses', 'aria-hidden': 'true' }, svg);
    offs = [];
    blamePath = new Set();
    updFor = null;
    labelPx = 0;
    labels = new Map();
    const total = m.network.weights.reduce((s, l) => s + l.length * (l[0]?.length ?? 0), 0);
    canvas.dataset.edges = String(total);
    const focusableEdges = total <= 120;
    // Every edge carries its number only when there are few enough to
    // read; otherwise only the selected edge and the biggest changes do.
    labelAll = total <= 9;
    const ends = new Float32Array(4 * total);
    edgeL = new Uint16Array(total);
    edgeJ = new Uint16Array(total);
    edgeI = new Uint16Array(total);
    hits = [];
    let k = 0;
    m.network.weights.forEach((layer, l) => {
      offs.push(k);
      layer.forEach((row, j) =>
        row.forEach((_, i) => {
          const a = lay.nodes[l][i];
          const b = lay.nodes[l + 1][j];
          ends.set([a.x + a.r, a.y, b.x - b.r, b.y], 4 * k);
          edgeL[k] = l;
          edgeJ[k] = j;
          edgeI[k] = i;
          if (focusableEdges) {
            const g = el('g', { class: 'edge', 'data-l': l, 'data-j': j, 'data-i': i, tabindex: 0, role: 'button' }, gEdges);
            el('path', { d: edgePath(a, b), class: 'edge-hit' }, g);
            hits.push({ g, aria: '' });
          }
          k++;
        }),
      );
    });
    edgeLayer?.dispose();
    edgeLayer = createEdgeLayer(canvas, ends);
    // The canvas covers the SVG exactly: as many CSS pixels as the
    // diagram is shown at, times the screen's pixel ratio.
    const units = boxWidth / lay.width;
    edgeLayer.size(boxWidth, (lay.height + MISTAKE_H) * units, units);
    updByEdge = new Array(total).fill(null);
    nodes = sizes.map((n, li) =>
      Array.from({ length: n }, (_, j) => {
        const l = li - 1; // -1: inputs
        const p = lay.nodes[li][j];
        const g = el('g', { class: `node ${l < 0 ? 'input' : l === sizes.length - 2 ? 'output' : 'hidden'}`, tabindex: 0, role: 'button', 'data-l': l, 'data-j': j }, gNodes);
        const ring = el('circle', { cx: p.x, cy: p.y, r: p.r, class: 'node-ring' }, g);
        const kind = l < 0 ? 'input' : l === sizes.length - 2 ? 'output' : 'hidden';
        const value = el('text', { x: p.x, y: p.y, class: `node-value ${kind}`, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'font-size': Math.max(9, Math.min(15, p.r * 0.62)) }, gText);
        // A power of ten that does not fit in the circle goes above it.
        const exp = el('text', { x: p.x + p.r * 0.6, y: p.y - p.r - 2, class: 'node-exp', 'text-anchor': 'start' }, gText);
        let blame = null;
        if (l >= 0) blame = el('text', { x: p.x, y: p.y + p.r + 13, class: `node-blame ${kind}`, 'text-anchor': 'middle' }, gText);
        const name = l < 0 ? m.network.inputs[j] : l === sizes.length - 2 ? m.network.outputs[j] : null;
        let real = null;
        if (name) {
          const left = l < 0;
          const x = left ? p.x - p.r - 6 : p.x + p.r + 6;
          const anchor = left ? 'end' : 'start';
          const t = el('text', { x, y: p.y - (left ? 7 : 12), class: 'node-name', 'text-anchor': anchor, 'dominant-baseline': 'central' }, gText);
          // Fitted to the room on its own side (an output's name is not
          // cut to the inputs' names' width) once the drawing is on the page.
          const room = left ? lay.labelLeft - p.r - 8 : lay.width - lay.labelRight - p.r - 8;
          names.push({ t, name, room });
          real = el('text', { x, y: p.y + (left ? 9 : 4), class: 'node-real', 'text-anchor': anchor, 'dominant-baseline': 'central' }, gText);
        }
        const fs = Number(value.getAttribute('font-size'));
        // A neuron narrower than a digit (a layer of dozens) shows its
        // value by its colour alone; an input's or output's number goes
        // beside it where its layer has room. The inspector and the table
        // have every number.
        const tiny = 2 * p.r < fs;
        return { g, ring, value, exp, blame, real, l, j, fontSize: fs, squeezed: false, tiny, chars: Math.max(3, Math.floor((2 * p.r - 4) / (fs * 0.6))), text: null, fill: '' };
      }),
    );
    strip = buildStrip();
    svg.addEventListener('click', onPick);
    svg.addEventListener('focusin', onPick);
    // Without an element per edge, the pointer finds its edge by geometry.
    if (!hits.length) svg.addEventListener('pointermove', onHover);
    svg.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        onPick(ev);
        ev.preventDefault();
        ev.stopPropagation();
      }
    });
    scaleNote = document.createElement('p');
    scaleNote.className = 'scale-note';
    scaleNote.textContent = scaleSentence(m.lesson?.display, m.network.inputs, m.network.outputs);
    scaleNote.hidden = !scaleNote.textContent;
    const wrap = document.createElement('div');
    wrap.className = 'net-wrap';
    wrap.append(canvas, svg);
    container.replaceChildren(wrap, scaleNote);
    for (const n of names) fitName(n.t, n.name, n.room); // measured, now that they are on the page
    // The canvas's pixels follow the size it is shown at (a scrollbar or
    // a zoom changes it by a few pixels without a rebuild).
    sizeWatch?.disconnect();
    if (typeof ResizeObserver === 'function') {
      sizeWatch = new ResizeObserver((entries) => {
        const box = entries[entries.length - 1].contentRect;
        if (!box.width || !edgeLayer) return;
        edgeLayer.size(box.width, box.height, box.width / lay.width);
        edgeLayer.draw(opts.palette());
      });
      sizeWatch.observe(canvas);
    }
  }

  /** @type {ResizeObserver|null} */
  let sizeWatch = null;

  /**
   * pointAt is where in the diagram's units a pointer event happened.
   * @param {MouseEvent} ev
   */
  function pointAt(ev) {
    const ctm = svg.getScreenCTM();
    if (!ctm) return null;
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
    return { x: p.x, y: p.y };
  }

  /** edgeUnder is the weight under a pointer event, on a drawing without an element per edge. */
  function edgeUnder(ev) {
    const p = pointAt(ev);
    if (!p) return null;
    // Seven CSS pixels either side of the line, in the diagram's units.
    const units = svg.getBoundingClientRect().width / lay.width || 1;
    return edgeNear(lay, p.x, p.y, 7 / units);
  }

  let hoverAsked = false;
  let hoverEvent = null;
  /** onHover shows a pointer hand over an edge, at most once an animation frame. */
  function onHover(ev) {
    hoverEvent = ev;
    if (hoverAsked) return;
    hoverAsked = true;
    requestAnimationFrame(() => {
      hoverAsked = false;
      const over = !/** @type {Element} */ (hoverEvent.target).closest?.('.node') && edgeUnder(hoverEvent) !== null;
      svg.style.cursor = over ? 'pointer' : '';
    });
  }

  /**
   * buildStrip makes the strip under the network where the mistake is
   * drawn at the loss phase: the guess and the truth on a line, the gap
   * between them as a bar, and the loss.
   */
  function buildStrip() {
    const y0 = lay.height;
    const x0 = Math.max(8, lay.width - 340);
    const x1 = lay.width - 8;
    const g = el('g', { class: 'mistake', 'aria-hidden': 'true' }, svg);
    const guess = el('text', { x: x0, y: y0 + 12, class: 'mistake-guess', 'text-anchor': 'start' }, g);
    const truth = el('text', { x: x1, y: y0 + 12, class: 'mistake-truth', 'text-anchor': 'end' }, g);
    el('line', { x1: x0, x2: x1, y1: y0 + 28, y2: y0 + 28, class: 'mistake-axis' }, g);
    const bar = el('rect', { y: y0 + 24, height: 8, class: 'mistake-gap' }, g);
    const gDot = el('circle', { cy: y0 + 28, r: 5.5, class: 'mistake-guess-mark' }, g);
    const tMark = el('rect', { y: y0 + 23, width: 10, height: 10, class: 'mistake-truth-mark' }, g);
    const gap = el('text', { x: x0, y: y0 + 50, class: 'mistake-text', 'text-anchor': 'start' }, g);
    return { g, guess, truth, bar, gDot, tMark, gap, x0, x1, y0, at: null, said: '', charW: 0 };
  }

  /**
   * paintMistake draws the current example's mistake in the strip, or hides
   * the strip until the loss is known.
   * @param {import('./state.js').Model} m
   */
  function paintMistake(m) {
    const k = mistakeOf(m);
    strip.g.style.display = k ? '' : 'none';
    strip.at = null;
    if (!k) return;
    const { x0, x1 } = strip;
    const at = (v) => x0 + 6 + ((v - k.axis.lo) / (k.axis.hi - k.axis.lo || 1)) * (x1 - x0 - 12);
    const xg = at(k.axis.guess);
    const xt = at(k.axis.truth);
    strip.guess.textContent = k.guess;
    strip.truth.textContent = k.truth;
    strip.bar.setAttribute('x', String(Math.min(xg, xt)));
    strip.bar.setAttribute('width', String(Math.max(1, Math.abs(xt - xg))));
    strip.at = { xg, xt };
    strip.gDot.setAttribute('cx', String(xg));
    strip.tMark.setAttribute('x', String(xt - 5));
    strip.tMark.setAttribute('transform', `rotate(45 ${xt} ${strip.y0 + 28})`);
    strip.g.classList.toggle('right', k.right === true);
    // Brightest at the loss phase itself, when the mistake is measured.
    strip.g.classList.toggle('fresh', m.events.some((e) => e.type === 'loss') || m.reason === 'progress');
    fitCaption(k);
  }

  /**
   * fitCaption writes the mistake's words under its line inside the
   * drawing: from the line's left end when they fit there, else ending at
   * its right end, else on two lines (the gaps, then the loss). Laid out
   * again only when the words change.
   * @param {import('./mistake.js').Mistake} k
   */
  function fitCaption(k) {
    const said = `${k.gap} → ${k.loss}`;
    if (strip.said === said) return;
    strip.said = said;
    const { gap, x0, x1, y0 } = strip;
    const line = (x, anchor) => {
      gap.setAttribute('x', String(x));
      gap.setAttribute('text-anchor', anchor);
    };
    gap.setAttribute('y', String(y0 + 50));
    line(x0, 'start');
    gap.textContent = said;
    // The width of a character, measured once a drawing in bold (the
    // loss phase's weight, the widest): measuring on every paint during
    // Play would make the browser lay the page out each frame.
    if (!strip.charW) {
      const bold = !strip.g.classList.contains('fresh');
      if (bold) strip.g.classList.add('fresh');
      const w = typeof gap.getComputedTextLength === 'function' ? gap.getComputedTextLength() : 0;
      if (bold) strip.g.classList.remove('fresh');
      strip.charW = w > 0 ? w / said.length : 7.2;
    }
    const len = said.length * strip.charW;
    if (len <= x1 - x0) return;
    line(x1, 'end');
    if (len <= x1 - 8) return;
    gap.textContent = '';
    gap.setAttribute('y', String(y0 + 46));
    [`${k.gap} →`, k.loss].forEach((words, q) => {
      const t = el('tspan', { x: x1, dy: q ? 14 : 0 }, gap);
      t.textContent = words;
    });
  }

  /**
   * labelRoom is the room the names and real values beside the inputs and
   * the outputs need, from the names and the longest value in the data.
   * @param {import('./state.js').Model} m
   * @param {number[]} sizes
   */
  function labelRoom(m, sizes) {
    const r = 28;
    const disp = m.lesson?.display;
    const longest = (names, specs, pick) => {
      let px = Math.max(0, ...names.map((n) => n.length * 8.2));
      specs?.forEach((spec, j) => {
        if (!hasUnits(spec)) return;
        for (const p of m.data?.train ?? []) {
          const v = pick(p)?.[j];
          if (typeof v === 'number') px = Math.max(px, displayValue(v, spec).length * 6.6);
        }
      });
      return px + r + 12;
    };
    return {
      leftWidth: longest(m.network.inputs, disp?.inputs, (p) => p.x),
      rightWidth: longest(m.network.outputs, disp?.outputs, (p) => p.y),
    };
  }

  function onPick(ev) {
    const t = /** @type {Element} */ (ev.target).closest?.('.node, .edge');
    /** @type {Selection} */
    let sel = null;
    if (t) {
      const l = Number(t.getAttribute('data-l'));
      const j = Number(t.getAttribute('data-j'));
      sel = t.classList.contains('node') ? { kind: 'neuron', layer: l, neuron: j } : { kind: 'weight', layer: l, to: j, from: Number(t.getAttribute('data-i')) };
    } else if (ev.type === 'click' && !hits.length) {
      const w = edgeUnder(ev);
      if (w) sel = { kind: 'weight', ...w };
    }
    if (!sel) return;
    if (selected && JSON.stringify(selected) === JSON.stringify(sel) && ev.type === 'focusin') return;
    selected = sel;
    markSelected();
    edgeLayer.draw(opts.palette());
    opts.onSelect(sel);
  }

  function markSelected() {
    const k = selected?.kind === 'weight' ? edgeAt(selected.layer, selected.to, selected.from) : -1;
    edgeLayer.clearFlag(SELECTED);
    if (k >= 0) edgeLayer.flag(k, SELECTED, true);
    hits.forEach((h, e) => h.g.classList.toggle('selected', e === k));
    for (const layer of nodes) for (const n of layer) n.g.classList.toggle('selected', !!selected && selected.kind === 'neuron' && selected.layer === n.l && selected.neuron === n.j);
  }

  /**
   * markBlame marks the edges that carry a hidden neuron's blame back
   * (math.js blameEdges), with a band under them.
   * @param {{layer: number, to: number, from: number}[]} list
   */
  function markBlame(list) {
    if (!edgeLayer) return;
    const want = new Set();
    for (const w of list) {
      const k = edgeAt(w.layer, w.to, w.from);
      if (k >= 0) want.add(k);
    }
    for (const k of blamePath) if (!want.has(k)) edgeLayer.flag(k, BLAME, false);
    for (const k of want) edgeLayer.flag(k, BLAME, true);
    hits.forEach((h, e) => h.g.classList.toggle('blame-path', want.has(e)));
    blamePath = want;
    edgeLayer.draw(opts.palette());
  }

  /**
   * crowded says whether layer l's neurons are too close together for a
   * line of text under each.
   * @param {number} l
   */
  function crowded(l) {
    const col = lay.nodes[l + 1];
    return col.length > 1 && col[1].y - col[0].y < 2 * col[0].r + BLAME_LINE;
  }

  /**
   * indexUpdates files m.updates by edge, and picks the three biggest
   * weight changes, once per set of updates: a repaint then looks each
   * edge's update up in constant time.
   * @param {import('./state.js').Model} m
   */
  function indexUpdates(m) {
    if (updFor === m.updates) return;
    updFor = m.updates;
    updByEdge.fill(null);
    for (const u of m.updates) {
      if (u.bias) continue;
      const k = edgeAt(u.layer, u.to, u.from);
      if (k >= 0) updByEdge[k] = u;
    }
    topChanged = new Set(
      m.updates
        .filter((u) => !u.bias)
        .sort((a, b) => Math.abs(b.new - b.old) - Math.abs(a.new - a.old))
        .slice(0, 3),
    );
  }

  /** edgeAt is the index in edges of weight (l, j, i), or −1. */
  function edgeAt(l, j, i) {
    if (l < 0 || l >= offs.length) return -1;
    const nin = lay.nodes[l].length;
    const k = offs[l] + j * nin + i;
    return k < edgeL.length && i < nin ? k : -1;
  }

  /** paint sets every attribute from the model (the final picture). */
  function paint(m) {
    const pal = opts.palette();
    let maxAbs = 0;
    for (const layer of m.network.weights) for (const row of layer) for (const w of row) maxAbs = Math.max(maxAbs, Math.abs(w));
    indexUpdates(m);
    // During Play widths move in half pixels: the edges are redrawn when
    // one changes by a step an eye sees (stroking them was most of a
    // frame), and in tenths again at the frame after Play.
    const steps = m.reason === 'progress' ? 2 : widthSteps(edgeL.length);
    const updated = m.events.some((x) => x.type === 'update');
    const selK = selected?.kind === 'weight' ? edgeAt(selected.layer, selected.to, selected.from) : -1;
    /** @type {{k: number, rank: number, texts: string[]}[]} */
    const wanted = [];
    // Edge k is weight (l, j, i) at k = offs[l] + j·nin + i: the order of
    // these loops.
    let k = 0;
    for (const layer of m.network.weights) {
      for (const row of layer) {
        for (let i = 0; i < row.length; i++, k++) {
          const w = row[i];
          edgeLayer.set(k, w, Math.round(edgeWidth(w, maxAbs) * steps) / steps);
          const u = updByEdge[k];
          const changed = !!u && updated;
          edgeLayer.flag(k, CHANGED, changed);
          if (hits.length && m.reason !== 'progress') {
            const aria = `weight ${shortName(m.network, edgeL[k] - 1, i)} to ${shortName(m.network, edgeL[k], edgeJ[k])}: ${fmt(w)}${u ? `, last update ${fmt(u.old)} to ${fmt(u.new)}` : ''}`;
            if (aria !== hits[k].aria) {
              hits[k].aria = aria;
              hits[k].g.setAttribute('aria-label', aria);
            }
          }
          const top = changed && topChanged.has(u);
          if (labelAll || k === selK || top) wanted.push({ k, rank: k === selK ? 0 : top ? 1 : 2, texts: changed ? changeTexts(u) : [fmt(w)] });
        }
      }
    }
    edgesDrawn = edgeLayer.draw(pal);
    const v = m.values;
    const disp = m.lesson?.display;
    const last = nodes.length - 1;
    const math = !!opts.math?.();
    nodes.forEach((layer, li) =>
      layer.forEach((n) => {
        let a = null;
        let dz = null;
        if (n.l < 0) a = m.sample ? m.sample.x[n.j] : null;
        else {
          a = v?.a?.[n.l]?.[n.j] ?? null;
          dz = v?.dZ?.[n.l]?.[n.j] ?? null;
        }
        // Inputs and outputs with units show the real amount; the number
        // the network sees is in the label, the inspector and the table.
        const spec = li === 0 ? disp?.inputs?.[n.j] : li === last ? disp?.outputs?.[n.j] : undefined;
        const real = a !== null && hasUnits(spec);
        const fit = a === null || n.tiny ? { inside: '', outside: '' } : real ? { inside: shortAmount(realValue(a, spec), spec), outside: '' } : fitValue(a, n.chars);
        setText(n.value, fit.inside);
        setText(n.exp, fit.outside);
        // A long number is squeezed into its neuron rather than spilling
        // over the edges.
        const room = 2 * lay.radius - 10;
        const squeeze = room > 0 && fit.inside.length * n.fontSize * 0.6 > room;
        if (squeeze && !n.squeezed) {
          n.value.setAttribute('textLength', String(room));
          n.value.setAttribute('lengthAdjust', 'spacingAndGlyphs');
        } else if (!squeeze && n.squeezed) n.value.removeAttribute('textLength');
        n.squeezed = squeeze;
        const fill = a === null ? 'var(--node-fill)' : nodeTint(a, pal);
        if (fill !== n.fill) {
          n.fill = fill;
          n.ring.setAttribute('fill', fill);
        }
        if (n.blame) {
          // In a crowded layer the blame under one neuron would run into
          // the next: only the selected neuron shows it there (the dashed
          // ring still marks every blamed neuron; the inspector and the
          // table have the numbers).
          const mine = selected?.kind === 'neuron' && selected.layer === n.l && selected.neuron === n.j;
          setText(n.blame, dz === null || (crowded(n.l) && !mine) ? '' : `${math ? '∂' : 'blame'} ${fmt(dz)}`);
        }
        n.g.classList.toggle('blamed', dz !== null);
        if (n.real) {
          const room = fitChars(li === 0 ? lay.labelLeft - lay.radius - 8 : lay.width - lay.labelRight - lay.radius - 8, 6.6);
          setText(n.real, a === null ? '' : real ? clip(displayValue(a, spec), room) : n.tiny && !crowded(n.l) ? fmt(a) : '');
        }
        // What a screen reader says on focus: not rewritten for every
        // frame of Play (hundreds of neurons, thirty times a second), but
        // at the frame after it, which is not a progress frame.
        const said = `${a}|${dz}|${math}`;
        if (n.text !== said && m.reason !== 'progress') {
          n.text = said;
          const who = n.l < 0 ? m.network.inputs[n.j] ?? `input ${n.j + 1}` : neuronName(m.network, n.l, n.j);
          const parts = [who];
          if (a !== null) parts.push(real ? `${displayValue(a, spec)} (the network sees ${fmt(a)})` : n.l < 0 ? `value ${fmt(a)}` : `a = ${fmt(a)}`);
          if (dz !== null) parts.push(math ? `∂L/∂z = ${fmt(dz)}` : `blame ${fmt(dz)}`);
          n.g.setAttribute('aria-label', parts.join(', '));
        }
      }),
    );
    placeLabels(wanted);
    paintMistake(m);
  }

  /**
   * placeLabels puts the wanted edge labels where none collides with
   * another, a neuron or a neuron's blame: the selected edge first, then
   * the biggest changes, then the rest. A label with no room stays empty
   * (its number is in the inspector and the table). Labels are made the
   * first time an edge needs one, and emptied when it no longer does.
   * @param {{k: number, rank: number, texts: string[]}[]} wanted
   */
  function placeLabels(wanted) {
    const shown = new Set();
    if (wanted.length) {
      wanted.sort((x, y) => x.rank - y.rank);
      const spots = placeEdgeLabels(
        wanted.map(({ k, texts }) => ({ a: lay.nodes[edgeL[k]][edgeI[k]], b: lay.nodes[edgeL[k] + 1][edgeJ[k]], texts })),
        { width: lay.width, height: lay.height, charPx: labelSize() * 0.6, linePx: labelSize(), obstacles: blameBoxes() },
      );
      const px = labelSize();
      spots.forEach((p, q) => {
        if (!p) return;
        const k = wanted[q].k;
        shown.add(k);
        let lb = labels.get(k);
        if (!lb) {
          // A plate under the digits, so that no edge runs through them (an
          // edge through "0.15" reads as the clock time "0:15").
          const bg = el('rect', { class: 'edge-label-bg', rx: 3 }, gLabels);
          const label = el('text', { class: 'edge-label', 'text-anchor': 'middle', 'dominant-baseline': 'central' }, gLabels);
          lb = { label, bg };
          labels.set(k, lb);
        }
        lb.label.setAttribute('x', String(p.x));
        lb.label.setAttribute('y', String(p.y));
        setText(lb.label, p.text);
        const w = p.text.length * px * 0.6 + 6;
        lb.bg.setAttribute('x', (p.x - w / 2).toFixed(1));
        lb.bg.setAttribute('y', (p.y - px / 2 - 2).toFixed(1));
        lb.bg.setAttribute('width', w.toFixed(1));
        lb.bg.setAttribute('height', String(px + 4));
        lb.bg.style.display = '';
      });
    }
    for (const [k, lb] of labels) {
      if (shown.has(k) || !lb.label.textContent) continue;
      lb.label.textContent = '';
      lb.bg.style.display = 'none';
    }
  }

  /**
   * labelSize is the edge labels' font size, read once per drawing:
   * reading styles on every repaint would make the browser recompute them.
   */
  function labelSize() {
    if (!labelPx) {
      const probe = el('text', { class: 'edge-label' }, gLabels);
      labelPx = parseFloat(getComputedStyle(probe).fontSize) || 11;
      probe.remove();
    }
    return labelPx;
  }

  /** blameBoxes are where the blames under the neurons are written. */
  function blameBoxes() {
    const out = [];
    for (const layer of nodes) {
      for (const n of layer) {
        const text = n.blame?.textContent;
        if (!text) continue;
        const x = Number(n.blame.getAttribute('x'));
        const y = Number(n.blame.getAttribute('y'));
        const w = text.length * 6.6;
        out.push({ x0: x - w / 2, x1: x + w / 2, y0: y - 11, y1: y + 3 });
      }
    }
    return out;
  }

  /** animate plays the phases of the last step's events. */
  function animate(m, prev) {
    cancel();
    const ev = m.events;
    if (!ev.length || opts.reducedMotion() || ev.length > 400) return;
    animEvents = ev;
    const ups = ev.filter((e) => e.type === 'update' && !e.bias);
    const { plan, total: t } = phasePlan(ev, opts.stepBudget?.() ?? null);
    if (!plan.length) return;
    // Values appear as the wave reaches them, the mistake once it is
    // measured.
    /** @type {[SVGElement, number][]} an element and when it shows */
    const hide = [];
    for (const p of plan) {
      if (p.kind === 'fwd') for (const n of nodes[p.layer + 1]) if (p.neuron === undefined || p.neuron === n.j) hide.push([n.value, p.start + p.dur]);
      if (p.kind === 'bwd') for (const n of nodes[p.layer + 1]) if (n.blame && (p.neuron === undefined || p.neuron === n.j)) hide.push([n.blame, p.start + p.dur]);
      if (p.kind === 'loss') hide.push([strip.g, p.start]);
    }
    for (const [e] of hide) e.classList.add('pending');
    /** @type {{k: number, w: number, w0: number, w1: number}[]} */
    const upEdges = [];
    if (ups.length && prev?.network) {
      let maxAbs = 0;
      for (const layer of m.network.weights) for (const row of layer) for (const w of row) maxAbs = Math.max(maxAbs, Math.abs(w));
      for (const u of ups) {
        const k = edgeAt(u.layer, u.to, u.from);
        if (k >= 0) upEdges.push({ k, w: u.new, w0: edgeWidth(u.old, maxAbs), w1: edgeLayer.width(k) });
      }
      for (const { k, w, w0 } of upEdges) edgeLayer.set(k, w, w0);
      edgeLayer.draw(opts.palette());
    }
    const steps = widthSteps(edgeL.length);
    const dots = [];
    const t0 = performance.now();
    const frame = (now) => {
      const el_ = now - t0;
      let k = 0;
      for (const p of plan) {
        const f = (el_ - p.start) / p.dur;
        if (p.kind === 'loss') {
          // The gap between the guess and the truth is drawn out from the
          // guess: the engine's numbers are written beside it already.
          if (strip.at) {
            const c = Math.max(0, Math.min(1, f));
            const { xg, xt } = strip.at;
            const x = xg + (xt - xg) * ease(c);
            strip.bar.setAttribute('x', String(Math.min(xg, x)));
            strip.bar.setAttribute('width', String(Math.max(1, Math.abs(x - xg))));
          }
          continue;
        }
        if (p.kind === 'upd') {
          const c = Math.max(0, Math.min(1, f));
          for (const { k, w, w0, w1 } of upEdges) edgeLayer.set(k, w, Math.round((w0 + (w1 - w0) * ease(c)) * steps) / steps);
          edgeLayer.draw(opts.palette());
          continue;
        }
        if (f < 0 || f > 1) continue;
        const end = p.layer + 1 < offs.length ? offs[p.layer + 1] : edgeL.length;
        for (let e = offs[p.layer]; e < end; e++) {
          if (p.neuron !== undefined && edgeJ[e] !== p.neuron) continue;
          const a = lay.nodes[p.layer][edgeI[e]];
          const b = lay.nodes[p.layer + 1][edgeJ[e]];
          const pt = pointOnEdge(a, b, p.kind === 'fwd' ? ease(f) : 1 - ease(f));
          const d = dots[k] ?? (dots[k] = el('rect', { width: 8, height: 8, rx: 4 }, pulses));
          d.setAttribute('class', p.kind === 'fwd' ? 'pulse fwd' : 'pulse bwd');
          d.setAttribute('rx', p.kind === 'fwd' ? '4' : '1');
          d.setAttribute('x', (pt.x - 4).toFixed(1));
          d.setAttribute('y', (pt.y - 4).toFixed(1));
          d.setAttribute('transform', p.kind === 'bwd' ? `rotate(45 ${pt.x.toFixed(1)} ${pt.y.toFixed(1)})` : '');
          d.style.display = '';
          k++;
          if (k > 300) break;
        }
      }
      for (let i = k; i < dots.length; i++) dots[i].style.display = 'none';
      for (const [e, at] of hide) if (el_ >= at) e.classList.remove('pending');
      if (el_ < t) anim = requestAnimationFrame(frame);
      else finish();
    };
    const finish = () => {
      anim = null;
      cancelFn = null;
      for (const d of dots) d.remove();
      for (const [e] of hide) e.classList.remove('pending');
      if (strip.at) {
        const { xg, xt } = strip.at;
        strip.bar.setAttribute('x', String(Math.min(xg, xt)));
        strip.bar.setAttribute('width', String(Math.max(1, Math.abs(xt - xg))));
      }
      for (const { k, w, w1 } of upEdges) edgeLayer.set(k, w, w1);
      edgeLayer.draw(opts.palette());
    };
    anim = requestAnimationFrame(frame);
    cancelFn = finish;
  }

  let cancelFn = null;
  /** @type {any[]|null} the events the running animation plays */
  let animEvents = null;
  function cancel() {
    if (anim) cancelAnimationFrame(anim);
    anim = null;
    cancelFn?.();
    cancelFn = null;
  }

  return {
    /**
     * render draws the model; prev is the model before the last frame, so
     * the update animation knows where the weights came from. It reports
     * whether the edges were redrawn (not when no edge's look changed).
     * @param {import('./state.js').Model} m
     * @param {import('./state.js').Model|null} prev
     * @returns {boolean}
     */
    render(m, prev) {
      if (!m.network) return false;
      model = m;
      const key = layerSizes(m.network).join(',') + '|' + m.network.inputs.join(',') + '|' + m.network.outputs.join(',');
      if (key !== shapeKey || !svg) {
        shapeKey = key;
        cancel();
        build(m);
        markSelected();
      }
      // Frames that do not change the events (the command's done, a
      // position) repaint without cutting short the step's animation.
      const going = anim !== null && m.events === animEvents;
      if (!going) cancel();
      paint(m);
      if (!going && prev && m.events !== prev.events) animate(m, prev);
      return edgesDrawn;
    },
    /** pictures are the edges' raster drawings so far and their cost (edges.js), or null where the edges are strokes. */
    pictures: () => edgeLayer?.pictures() ?? null,
    /** markBlame marks the edges that carry a hidden neuron's blame back (math.js blameEdges). */
    markBlame,
    /** select highlights a selection made elsewhere (table, math). */
    select(sel) {
      selected = sel;
      if (!edgeLayer) return;
      markSelected();
      edgeLayer.draw(opts.palette());
    },
    /** resize redraws when the container's width changed (or always, with force: the fit changed). */
    resize(force = false) {
      if (!model || !svg) return;
      const w = container.clientWidth / (opts.fit?.()?.zoom ?? 1);
      if (!force && Math.abs(w - lastWidth) < 8) return;
      shapeKey = '';
      this.render(model, null);
    },
    /** animating reports whether an animation is playing. */
    animating() {
      return anim !== null;
    },
    /** finish jumps to the end of any animation. */
    finish() {
      cancel();
    },
  };
}

/**
 * @typedef {{kind: 'fwd'|'loss'|'bwd'|'upd', layer: number, start: number, dur: number, neuron?: number}} PhaseSegment
 */

/**
 * phasePlan is the animation of a step's events, one segment after the
 * other: the forward wave layer by layer, the mistake being measured, the
 * blame going back layer by layer, the weights changing. With a budget
 * (Play paced by the page: the time until the next step, in ms) the plan
 * is stretched or squeezed to fill most of it, so a slow Play moves all
 * the time and a faster one still shows every phase before the next step.
 * @param {{type: string, layer?: number, neuron?: number, bias?: boolean}[]} events
 * @param {number|null} budget
 * @returns {{plan: PhaseSegment[], total: number}}
 */
export function phasePlan(events, budget) {
  const layersF = [...new Set(events.filter((e) => e.type === 'forward').map((e) => e.layer))];
  const layersB = [...new Set(events.filter((e) => e.type === 'backward').map((e) => e.layer))];
  const loss = events.some((e) => e.type === 'loss');
  const ups = events.some((e) => e.type === 'update' && !e.bias);
  const micro = events.length === 1;
  const seg = micro ? 450 : 320;
  const neuron = micro ? events[0].neuron : undefined;
  /** @type {PhaseSegment[]} */
  const plan = [];
  let t = 0;
  const add = (kind, layer, dur) => {
    plan.push({ kind, layer, start: t, dur, neuron: kind === 'fwd' || kind === 'bwd' ? neuron : undefined });
    t += dur;
  };
  for (const l of layersF) add('fwd', l, seg);
  if (loss) add('loss', -1, seg);
  for (const l of layersB) add('bwd', l, seg);
  if (ups) add('upd', -1, 500);
  if (budget && budget > 0 && t > 0) {
    const f = (budget * 0.85) / t;
    for (const p of plan) {
      p.start *= f;
      p.dur *= f;
    }
    t *= f;
  }
  return { plan, total: t };
}

/**
 * changeTexts are an updated weight's label, long then short: old → new
 * with enough decimals to see the change.
 * @param {import('./state.js').Update} u
 */
function changeTexts(u) {
  const d = changeDecimals(u.old, u.new);
  return [`${fmt(u.old, d)}→${fmt(u.new, d)}`, fmt(u.new, d)];
}

function ease(t) {
  return t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;
}

/**
 * fitChars is how many characters of a label fit in px pixels, with
 * charPx the width of an average character (bold names at 13–14 px are
 * about 8, values at 11 px about 6.6), so a label never runs off the side.
 * @param {number} px
 * @param {number} charPx
 */
function fitChars(px, charPx) {
  return Math.max(4, Math.floor(px / charPx));
}

/**
 * fitName writes name into t, cut with an ellipsis only as far as it must
 * be to fit in room pixels: measured once the drawing is on the page, else
 * estimated at 8.2 px a character.
 * @param {SVGTextElement} t
 * @param {string} name
 * @param {number} room
 */
function fitName(t, name, room) {
  t.textContent = name;
  const measured = t.isConnected ? t.getComputedTextLength() : 0;
  if (measured === 0) {
    t.textContent = clip(name, fitChars(room, 8.2));
    return;
  }
  for (let n = name.length - 1; n >= 4 && t.getComputedTextLength() > room; n--) t.textContent = clip(name, n);
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
