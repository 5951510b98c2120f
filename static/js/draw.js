// draw.js: the network as SVG, and the animations of each phase.
//
// Neurons are circles showing their activation a inside and, once the
// backward pass reached them, their blame ∂L/∂z below in the backward style.
// Edges are coloured by sign, dashed when negative, and as thick as the
// weight is big. Forward steps send dots left to right; backward steps send
// diamonds right to left; updates grow or shrink the changed edges from
// their old width to the new. With reduced motion everything is instant.

import { layoutNetwork, layerSizes, edgePath, pointOnEdge, placeEdgeLabels } from './layout.js';
import { signColor, dashFor, edgeWidth } from './colors.js';
import { fmt, displayValue } from './format.js';
import { shortName, neuronName } from './narrate.js';
import { findUpdate } from './state.js';

const NS = 'http://www.w3.org/2000/svg';

/**
 * @typedef {{kind: 'neuron', layer: number, neuron: number} |
 *   {kind: 'weight', layer: number, to: number, from: number|null}} Selection
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
 *   fit?: () => {zoom: number, maxHeight?: number}}} opts fit: a presenter's projector draws everything zoom×
 *   larger (laid out for a box zoom× narrower, scaled up) and up to maxHeight screen pixels tall
 */
export function createDiagram(container, opts) {
  /** @type {SVGSVGElement} */
  let svg = null;
  let shapeKey = '';
  let lay = null;
  /** @type {{hit: SVGPathElement, line: SVGPathElement, label: SVGTextElement, g: SVGGElement, l: number, j: number, i: number, a: import('./layout.js').NodePos, b: import('./layout.js').NodePos}[]} */
  let edges = [];
  /** @type {{g: SVGGElement, ring: SVGCircleElement, value: SVGTextElement, blame: SVGTextElement|null, l: number, j: number}[][]} */
  let nodes = [];
  let pulses = null;
  let model = null;
  /** @type {Selection|null} */
  let selected = null;
  let anim = null;
  let lastWidth = 0;
  let labelAll = false;

  function build(m) {
    const fit = opts.fit?.();
    const zoom = fit?.zoom ?? 1;
    const width = Math.max(280, (container.clientWidth || 800) / zoom);
    lastWidth = width;
    const sizes = layerSizes(m.network);
    // An embed's frame takes its height from the content (embed.js), so
    // its own window height says nothing: sizing the diagram by it would
    // grow the frame, then the diagram, and so on. It is drawn as for a
    // 720 px screen instead.
    const viewHeight = document.documentElement.classList.contains('embedded') ? 720 : window.innerHeight;
    const maxHeight = (fit?.maxHeight ?? Math.max(240, Math.min(viewHeight * 0.5, 560))) / zoom;
    lay = layoutNetwork(sizes, { width, maxHeight });
    svg = el('svg', {
      viewBox: `0 0 ${lay.width} ${lay.height}`,
      width: '100%',
      class: 'net',
      role: 'group',
      'aria-label': `Network diagram: ${sizes.join('–')} neurons. Tab to a neuron or weight to inspect it.`,
    });
    const gEdges = el('g', { class: 'edges' }, svg);
    const gLabels = el('g', { class: 'edge-labels', 'aria-hidden': 'true' }, svg);
    const gNodes = el('g', { class: 'nodes' }, svg);
    // Text lives outside the focusable neurons, whose names come from
    // aria-label alone, and is hidden from assistive technology: the label
    // says the same in words.
    const gText = el('g', { class: 'node-texts', 'aria-hidden': 'true' }, svg);
    pulses = el('g', { class: 'pulses', 'aria-hidden': 'true' }, svg);
    edges = [];
    const total = m.network.weights.reduce((s, l) => s + l.length * (l[0]?.length ?? 0), 0);
    const focusableEdges = total <= 120;
    // Every edge carries its number only when there are few enough to
    // read; otherwise only the selected edge and the biggest changes do.
    labelAll = total <= 9;
    m.network.weights.forEach((layer, l) =>
      layer.forEach((row, j) =>
        row.forEach((_, i) => {
          const a = lay.nodes[l][i];
          const b = lay.nodes[l + 1][j];
          const d = edgePath(a, b);
          const g = el('g', { class: 'edge', 'data-l': l, 'data-j': j, 'data-i': i }, gEdges);
          if (focusableEdges) {
            g.setAttribute('tabindex', '0');
            g.setAttribute('role', 'button');
          }
          const hit = el('path', { d, class: 'edge-hit' }, g);
          const line = el('path', { d, class: 'edge-line' }, g);
          // Where the label goes depends on its text: paint places it.
          const label = el('text', { class: 'edge-label', 'text-anchor': 'middle', 'dominant-baseline': 'central' }, gLabels);
          edges.push({ g, hit, line, label, l, j, i, a, b });
        }),
      ),
    );
    nodes = sizes.map((n, li) =>
      Array.from({ length: n }, (_, j) => {
        const l = li - 1; // -1: inputs
        const p = lay.nodes[li][j];
        const g = el('g', { class: `node ${l < 0 ? 'input' : l === sizes.length - 2 ? 'output' : 'hidden'}`, tabindex: 0, role: 'button', 'data-l': l, 'data-j': j }, gNodes);
        const ring = el('circle', { cx: p.x, cy: p.y, r: p.r, class: 'node-ring' }, g);
        const kind = l < 0 ? 'input' : l === sizes.length - 2 ? 'output' : 'hidden';
        const value = el('text', { x: p.x, y: p.y, class: `node-value ${kind}`, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'font-size': Math.max(9, Math.min(15, p.r * 0.62)) }, gText);
        let blame = null;
        if (l >= 0) blame = el('text', { x: p.x, y: p.y + p.r + 13, class: `node-blame ${kind}`, 'text-anchor': 'middle' }, gText);
        const name = l < 0 ? m.network.inputs[j] : l === sizes.length - 2 ? m.network.outputs[j] : null;
        let real = null;
        if (name) {
          const left = l < 0;
          const x = left ? p.x - p.r - 6 : p.x + p.r + 6;
          const anchor = left ? 'end' : 'start';
          const t = el('text', { x, y: p.y - (left ? 7 : 12), class: 'node-name', 'text-anchor': anchor, 'dominant-baseline': 'central' }, gText);
          t.textContent = clip(name, fitChars(lay.labelLeft - p.r - 8, 8.2));
          real = el('text', { x, y: p.y + (left ? 9 : 4), class: 'node-real', 'text-anchor': anchor, 'dominant-baseline': 'central' }, gText);
          if (!left) real.target = el('text', { x, y: p.y + 18, class: 'node-real', 'text-anchor': anchor, 'dominant-baseline': 'central' }, gText);
        }
        return { g, ring, value, blame, real, l, j };
      }),
    );
    svg.addEventListener('click', onPick);
    svg.addEventListener('focusin', onPick);
    svg.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        onPick(ev);
        ev.preventDefault();
        ev.stopPropagation();
      }
    });
    container.replaceChildren(svg);
  }

  function onPick(ev) {
    const t = /** @type {Element} */ (ev.target).closest?.('.node, .edge');
    if (!t) return;
    const l = Number(t.getAttribute('data-l'));
    const j = Number(t.getAttribute('data-j'));
    /** @type {Selection} */
    const sel = t.classList.contains('node') ? { kind: 'neuron', layer: l, neuron: j } : { kind: 'weight', layer: l, to: j, from: Number(t.getAttribute('data-i')) };
    if (selected && JSON.stringify(selected) === JSON.stringify(sel) && ev.type === 'focusin') return;
    selected = sel;
    markSelected();
    opts.onSelect(sel);
  }

  function markSelected() {
    for (const e of edges) e.g.classList.toggle('selected', !!selected && selected.kind === 'weight' && selected.layer === e.l && selected.to === e.j && selected.from === e.i);
    for (const layer of nodes) for (const n of layer) n.g.classList.toggle('selected', !!selected && selected.kind === 'neuron' && selected.layer === n.l && selected.neuron === n.j);
  }

  /**
   * crowded says whether layer l's neurons are too close together for a
   * line of text under each.
   * @param {number} l
   */
  function crowded(l) {
    const col = lay.nodes[l + 1];
    return col.length > 1 && col[1].y - col[0].y < 2 * col[0].r + 20;
  }

  /** paint sets every attribute from the model (the final picture). */
  function paint(m, widths) {
    const pal = opts.palette();
    let maxAbs = 0;
    for (const layer of m.network.weights) for (const row of layer) for (const w of row) maxAbs = Math.max(maxAbs, Math.abs(w));
    const topChanged = new Set(
      m.updates
        .filter((u) => !u.bias)
        .sort((a, b) => Math.abs(b.new - b.old) - Math.abs(a.new - a.old))
        .slice(0, 3),
    );
    /** @type {{e: typeof edges[number], rank: number, texts: string[]}[]} */
    const wanted = [];
    for (const e of edges) {
      const w = m.network.weights[e.l][e.j][e.i];
      const width = widths?.get(e) ?? edgeWidth(w, maxAbs);
      e.line.setAttribute('stroke', signColor(w, pal));
      e.line.setAttribute('stroke-width', String(width));
      e.line.setAttribute('stroke-dasharray', dashFor(w));
      const from = shortName(m.network, e.l - 1, e.i);
      const to = shortName(m.network, e.l, e.j);
      const u = findUpdate(m, e.l, e.j, e.i);
      const changed = u && m.events.some((x) => x.type === 'update');
      e.g.classList.toggle('changed', !!changed);
      if (e.g.hasAttribute('tabindex')) e.g.setAttribute('aria-label', `weight ${from} to ${to}: ${fmt(w)}${u ? `, last update ${fmt(u.old)} to ${fmt(u.new)}` : ''}`);
      const isSel = selected?.kind === 'weight' && selected.layer === e.l && selected.to === e.j && selected.from === e.i;
      const top = changed && topChanged.has(u);
      e.label.textContent = '';
      if (labelAll || isSel || top) wanted.push({ e, rank: isSel ? 0 : top ? 1 : 2, texts: changed ? [`${fmt(u.old)}→${fmt(u.new)}`, fmt(u.new)] : [fmt(w)] });
    }
    const v = m.values;
    nodes.forEach((layer) =>
      layer.forEach((n) => {
        let a = null;
        let dz = null;
        if (n.l < 0) a = m.sample ? m.sample.x[n.j] : null;
        else {
          a = v?.a?.[n.l]?.[n.j] ?? null;
          dz = v?.dZ?.[n.l]?.[n.j] ?? null;
        }
        n.value.textContent = a === null ? '' : fmt(a);
        // A long number (a diverging network's 2.90×10¹⁵⁴) is squeezed
        // into its neuron rather than spilling over the edges.
        const room = 2 * lay.radius - 6;
        if (n.value.textContent.length * Number(n.value.getAttribute('font-size')) * 0.6 > room) {
          n.value.setAttribute('textLength', String(room));
          n.value.setAttribute('lengthAdjust', 'spacingAndGlyphs');
        } else n.value.removeAttribute('textLength');
        n.ring.setAttribute('fill', a === null ? 'var(--node-fill)' : `color-mix(in srgb, ${signColor(a, pal)} ${Math.round(Math.min(1, Math.abs(a)) * 28)}%, var(--node-fill))`);
        if (n.blame) {
          // In a crowded layer the blame under one neuron would run into
          // the next: only the selected neuron shows it there (the dashed
          // ring still marks every blamed neuron; the inspector and the
          // table have the numbers).
          const mine = selected?.kind === 'neuron' && selected.layer === n.l && selected.neuron === n.j;
          n.blame.textContent = dz === null || (crowded(n.l) && !mine) ? '' : `∂ ${fmt(dz)}`;
        }
        n.g.classList.toggle('blamed', dz !== null);
        const who = n.l < 0 ? m.network.inputs[n.j] ?? `input ${n.j + 1}` : neuronName(m.network, n.l, n.j);
        const parts = [who];
        if (a !== null) parts.push(n.l < 0 ? `value ${fmt(a)}` : `a = ${fmt(a)}`);
        if (dz !== null) parts.push(`∂L/∂z = ${fmt(dz)}`);
        n.g.setAttribute('aria-label', parts.join(', '));
      }),
    );
    placeLabels(wanted);
    // Real units beside inputs and outputs: the example's values, the
    // prediction and the target.
    const disp = m.lesson?.display;
    const last = nodes.length - 1;
    nodes[0].forEach((n) => {
      const x = m.sample?.x?.[n.j];
      const room = fitChars(lay.labelLeft - lay.radius - 8, 6.6);
      n.real.textContent = x === undefined ? '' : clip(displayValue(x, disp?.inputs?.[n.j]), room);
    });
    nodes[last].forEach((n) => {
      const spec = disp?.outputs?.[n.j];
      const a = v?.a?.[n.l]?.[n.j];
      const y = m.sample?.y?.[n.j];
      const room = fitChars(lay.width - lay.labelRight - lay.radius - 8, 6.6);
      n.real.textContent = a !== null && a !== undefined ? clip(displayValue(a, spec), room) : '';
      n.real.target.textContent = y !== undefined && y !== null ? clip(`target ${displayValue(y, spec)}`, room) : '';
    });
  }

  /**
   * placeLabels puts the wanted edge labels where none collides with
   * another, a neuron or a neuron's blame: the selected edge first, then
   * the biggest changes, then the rest. A label with no room stays empty
   * (its number is in the inspector and the table).
   * @param {{e: typeof edges[number], rank: number, texts: string[]}[]} wanted
   */
  function placeLabels(wanted) {
    if (!wanted.length) return;
    wanted.sort((x, y) => x.rank - y.rank);
    const px = parseFloat(getComputedStyle(wanted[0].e.label).fontSize) || 11;
    const obstacles = [];
    for (const layer of nodes) {
      for (const n of layer) {
        const text = n.blame?.textContent;
        if (!text) continue;
        const x = Number(n.blame.getAttribute('x'));
        const y = Number(n.blame.getAttribute('y'));
        const w = text.length * 6.6;
        obstacles.push({ x0: x - w / 2, x1: x + w / 2, y0: y - 11, y1: y + 3 });
      }
    }
    const spots = placeEdgeLabels(
      wanted.map(({ e, texts }) => ({ a: e.a, b: e.b, texts })),
      { width: lay.width, height: lay.height, charPx: px * 0.6, linePx: px, obstacles },
    );
    spots.forEach((p, k) => {
      if (!p) return;
      const label = wanted[k].e.label;
      label.setAttribute('x', String(p.x));
      label.setAttribute('y', String(p.y));
      label.textContent = p.text;
    });
  }

  /** animate plays the phases of the last step's events. */
  function animate(m, prev) {
    cancel();
    const ev = m.events;
    if (!ev.length || opts.reducedMotion() || ev.length > 400) return;
    const layersF = [...new Set(ev.filter((e) => e.type === 'forward').map((e) => e.layer))];
    const layersB = [...new Set(ev.filter((e) => e.type === 'backward').map((e) => e.layer))];
    const ups = ev.filter((e) => e.type === 'update' && !e.bias);
    const micro = ev.length === 1;
    const seg = micro ? 450 : 320;
    /** @type {{kind: string, layer: number, start: number, dur: number, neuron?: number}[]} */
    const plan = [];
    let t = 0;
    for (const l of layersF) {
      plan.push({ kind: 'fwd', layer: l, start: t, dur: seg, neuron: micro ? ev[0].neuron : undefined });
      t += seg;
    }
    for (const l of layersB) {
      plan.push({ kind: 'bwd', layer: l, start: t, dur: seg, neuron: micro ? ev[0].neuron : undefined });
      t += seg;
    }
    if (ups.length) {
      plan.push({ kind: 'upd', layer: -1, start: t, dur: 500 });
      t += 500;
    }
    if (!plan.length) return;
    // Values appear as the wave reaches them.
    const hide = [];
    for (const p of plan) {
      if (p.kind === 'fwd') for (const n of nodes[p.layer + 1]) if (p.neuron === undefined || p.neuron === n.j) hide.push([n.value, p.start + p.dur]);
      if (p.kind === 'bwd') for (const n of nodes[p.layer + 1]) if (n.blame && (p.neuron === undefined || p.neuron === n.j)) hide.push([n.blame, p.start + p.dur]);
    }
    for (const [e] of hide) e.classList.add('pending');
    const upEdges = [];
    if (ups.length && prev?.network) {
      let maxAbs = 0;
      for (const layer of m.network.weights) for (const row of layer) for (const w of row) maxAbs = Math.max(maxAbs, Math.abs(w));
      for (const u of ups) {
        const e = edges.find((x) => x.l === u.layer && x.j === u.to && x.i === u.from);
        if (e) upEdges.push({ e, w0: edgeWidth(u.old, maxAbs), w1: edgeWidth(u.new, maxAbs) });
      }
      for (const { e, w0 } of upEdges) e.line.setAttribute('stroke-width', String(w0));
    }
    const dots = [];
    const t0 = performance.now();
    const frame = (now) => {
      const el_ = now - t0;
      let k = 0;
      for (const p of plan) {
        const f = (el_ - p.start) / p.dur;
        if (p.kind === 'upd') {
          const c = Math.max(0, Math.min(1, f));
          for (const { e, w0, w1 } of upEdges) e.line.setAttribute('stroke-width', (w0 + (w1 - w0) * ease(c)).toFixed(2));
          continue;
        }
        if (f < 0 || f > 1) continue;
        for (const e of edges) {
          if (e.l !== p.layer) continue;
          if (p.neuron !== undefined && e.j !== p.neuron) continue;
          const a = lay.nodes[e.l][e.i];
          const b = lay.nodes[e.l + 1][e.j];
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
      for (const { e, w1 } of upEdges) e.line.setAttribute('stroke-width', String(w1));
    };
    anim = requestAnimationFrame(frame);
    cancelFn = finish;
  }

  let cancelFn = null;
  function cancel() {
    if (anim) cancelAnimationFrame(anim);
    anim = null;
    cancelFn?.();
    cancelFn = null;
  }

  return {
    /**
     * render draws the model; prev is the model before the last frame, so
     * the update animation knows where the weights came from.
     * @param {import('./state.js').Model} m
     * @param {import('./state.js').Model|null} prev
     */
    render(m, prev) {
      if (!m.network) return;
      model = m;
      const key = layerSizes(m.network).join(',') + '|' + m.network.inputs.join(',') + '|' + m.network.outputs.join(',');
      if (key !== shapeKey || !svg) {
        shapeKey = key;
        cancel();
        build(m);
        markSelected();
      }
      cancel();
      paint(m);
      if (prev && m.events !== prev.events) animate(m, prev);
    },
    /** select highlights a selection made elsewhere (table, math). */
    select(sel) {
      selected = sel;
      markSelected();
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

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
