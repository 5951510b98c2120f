// classmap.js: the decision map of a network that picks one of several
// classes (a softmax output, as in which-size): every point of the plane
// coloured by the class the network picks there, fainter where it is less
// sure, the training examples marked with their class's colour and letter,
// and a legend with the lesson's class names. Everything it shows comes from
// the boundary frame's `classes` (docs/protocol.md), which the engine
// computes with its own forward pass. One-output lessons keep the diverging
// map drawn by charts.js.

import { contrast, mix } from './colors.js';
import { decodeHeatmap, lookupRGBA, paintRGBA, toPixel } from './charts.js';
import { percent } from './format.js';

/**
 * CLASS_COLORS are the class colours of each theme. Blue and orange are the
 * theme's own sign colours; the third differs from both in lightness as well
 * as hue, so the three stay apart for the common forms of colour blindness
 * (web/jstest/classmap.test.js simulates them). Beyond three classes the
 * colours repeat and the letters tell the classes apart.
 * @type {Record<string, string[]>}
 */
export const CLASS_COLORS = {
  light: ['#1f63a8', '#b3530b', '#e6c229'],
  dark: ['#6fb2f2', '#f4a04a', '#8844ff'],
  projector: ['#0044aa', '#a33a00', '#e6c229'],
};

/** The least and most strength of a region's colour over the surface. */
export const FAINTEST = 0.12;
export const STRONGEST = 0.62;

/**
 * classColors are the colours of k classes for a palette: the theme whose
 * sign colours the palette has, or light's.
 * @param {import('./colors.js').Palette} pal
 * @param {number} k
 * @returns {string[]}
 */
export function classColors(pal, k) {
  const theme = Object.keys(CLASS_COLORS).find((t) => CLASS_COLORS[t][0] === pal.positive) ?? 'light';
  const base = CLASS_COLORS[theme];
  return Array.from({ length: k }, (_, j) => base[j % base.length]);
}

/**
 * classLetters are one or two characters naming each class on the plot:
 * the output neurons' own names when they are that short (S, M, L), else
 * the first letter of each class name, else the class's number from 1, so
 * that no two classes share a mark.
 * @param {string[]} outputs the network's output names
 * @param {string[]} names the class names shown in the legend
 * @returns {string[]}
 */
export function classLetters(outputs, names) {
  const distinct = (/** @type {string[]} */ xs) => xs.every((x) => x) && new Set(xs).size === xs.length;
  if (outputs.length === names.length && outputs.every((o) => typeof o === 'string' && o.trim().length <= 2) && distinct(outputs.map((o) => o.trim()))) {
    return outputs.map((o) => o.trim());
  }
  const firsts = names.map((n) => String(n).trim().charAt(0).toUpperCase());
  if (distinct(firsts)) return firsts;
  return names.map((_, j) => String(j + 1));
}

/**
 * classNames are the names of a multi-output lesson's classes: the
 * lesson's `display.outputs[0].classes` when it names one per output, else
 * the output neurons' names.
 * @param {{network?: any, lesson?: any}|null} m
 * @returns {string[]}
 */
export function classNames(m) {
  const outputs = m?.network?.outputs ?? [];
  const classes = m?.lesson?.display?.outputs?.[0]?.classes;
  if (Array.isArray(classes) && classes.length === outputs.length) return classes.map(String);
  return outputs.map(String);
}

/**
 * certainty turns the winner's share (a byte over [0, 1]) into how sure
 * the network is, from 0 (all k classes equal, share 1/k) to 1 (share 1).
 * @param {number} shareByte
 * @param {number} k
 */
export function certainty(shareByte, k) {
  const even = 1 / k;
  return Math.max(0, Math.min(1, (shareByte / 255 - even) / (1 - even)));
}

/**
 * classMapRGBA colours a class map: each cell its winner's colour mixed
 * into the surface, from FAINTEST (unsure) to STRONGEST (sure).
 * @param {Uint8Array} winner
 * @param {Uint8Array} share
 * @param {string[]} colors one per class
 * @param {string} surface the theme's surface colour
 * @returns {Uint8ClampedArray<ArrayBuffer>}
 */
export function classMapRGBA(winner, share, colors, surface) {
  const k = colors.length;
  // 16 strengths per class are more than the eye tells apart.
  const levels = 16;
  const lut = colors.flatMap((c) => Array.from({ length: levels + 1 }, (_, s) => mix(surface, c, FAINTEST + ((STRONGEST - FAINTEST) * s) / levels)));
  const at = new Uint16Array(winner.length);
  for (let i = 0; i < winner.length; i++) {
    const w = winner[i] < k ? winner[i] : 0;
    at[i] = w * (levels + 1) + Math.round(certainty(share[i], k) * levels);
  }
  return lookupRGBA(at, lut);
}

/**
 * classOf is the class of an example: the index of its biggest target (its
 * one-hot 1), or for an added point its label.
 * @param {number[]|number} y
 */
export function classOf(y) {
  if (!Array.isArray(y)) return y;
  let best = 0;
  for (let j = 1; j < y.length; j++) if (y[j] > y[best]) best = j;
  return best;
}

/**
 * regionShares counts how much of the plane each class wins.
 * @param {Uint8Array} winner
 * @param {number} k
 * @returns {number[]} fractions, one per class
 */
export function regionShares(winner, k) {
  const n = new Array(k).fill(0);
  for (const w of winner) if (w < k) n[w]++;
  return n.map((c) => (winner.length ? c / winner.length : 0));
}

/**
 * mapLabel is the plot's text alternative: what share of the plane each
 * class wins and how many training examples each has.
 * @param {string[]} names
 * @param {number[]} shares from regionShares
 * @param {number[]} counts training examples per class
 * @param {number[]} domain
 */
export function mapLabel(names, shares, counts, domain) {
  const regions = names.map((n, j) => `${n} on ${percent(shares[j])}`).join(', ');
  const examples = names.map((n, j) => `${counts[j]} ${n}`).join(', ');
  return `Decision map over the plane from ${domain[0]} to ${domain[1]}: the network picks ${regions} of it. Training examples: ${examples}.`;
}

/**
 * mapCaption is the sentence under a class map, naming the lesson's
 * inputs on the axes.
 * @param {string[]} inputs
 */
export function mapCaption(inputs) {
  const [across, up] = inputs;
  return `Background: the class the network picks at each point of the plane, fainter where it is less sure. Marks: training examples, filled with their class's colour and letter; hollow marks: test examples. Across: ${across}; up: ${up}.`;
}

/**
 * textOn picks the theme's text or surface colour, whichever reads better
 * on a fill.
 * @param {string} fill
 * @param {import('./colors.js').Palette} pal
 */
export function textOn(fill, pal) {
  return contrast(fill, pal.text) >= contrast(fill, pal.surface) ? pal.text : pal.surface;
}

/**
 * createClassMap returns the drawer of a boundary canvas's class map and
 * its legend, which it keeps just after the plot's slot.
 * @param {HTMLElement} slot the element the boundary canvas sits in
 */
export function createClassMap(slot) {
  const legend = document.createElement('ul');
  legend.className = 'class-legend';
  legend.dataset.role = 'class-legend';
  legend.setAttribute('aria-label', 'Classes on the map');
  let legendKey = '';

  return {
    /**
     * draw paints the class map of boundary b onto canvas (size CSS
     * pixels square) with the examples of data and the added points, and
     * shows the legend. It returns false, and removes the legend, when b
     * has no class map (a one-output lesson), leaving the canvas to the
     * caller.
     * @param {HTMLCanvasElement} canvas
     * @param {any} b a boundary frame
     * @param {any} data the model's data
     * @param {{size: number, pal: import('./colors.js').Palette, model: any, added: {x1: number, x2: number, label: number}[]}} env
     */
    draw(canvas, b, data, env) {
      const names = classNames(env.model);
      if (!b?.classes || names.length < 2) {
        legend.remove();
        return false;
      }
      const { size, pal } = env;
      const k = names.length;
      const colors = classColors(pal, k);
      const letters = classLetters(env.model?.network?.outputs ?? [], names);
      const winner = decodeHeatmap(b.classes.winner);
      const share = decodeHeatmap(b.classes.share);
      const ctx = paintRGBA(canvas, classMapRGBA(winner, share, colors, pal.surface), b.grid);
      ctx.save();
      ctx.scale(canvas.width / size, canvas.height / size);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = 'bold 9px system-ui, sans-serif';
      const counts = new Array(k).fill(0);
      const mark = (/** @type {number[]} */ pt, /** @type {number} */ j, /** @type {boolean} */ hollow, /** @type {boolean} */ ring) => {
        if (!(j >= 0 && j < k)) return;
        const p = toPixel(pt, b.domain, size);
        ctx.beginPath();
        ctx.arc(p.x, p.y, 6.5, 0, Math.PI * 2);
        ctx.fillStyle = hollow ? pal.surface : colors[j];
        ctx.fill();
        ctx.lineWidth = hollow ? 2 : 1.2;
        ctx.strokeStyle = hollow ? colors[j] : pal.text;
        ctx.stroke();
        if (ring) {
          ctx.beginPath();
          ctx.arc(p.x, p.y, 9.5, 0, Math.PI * 2);
          ctx.lineWidth = 1.5;
          ctx.strokeStyle = pal.text;
          ctx.stroke();
        }
        ctx.fillStyle = hollow ? pal.text : textOn(colors[j], pal);
        ctx.fillText(letters[j], p.x, p.y + 0.5);
      };
      for (const s of data?.train ?? []) {
        if (!s.point) continue;
        const j = classOf(s.y);
        counts[j]++;
        mark(s.point, j, false, false);
      }
      for (const s of data?.test ?? []) if (s.point) mark(s.point, classOf(s.y), true, false);
      for (const p of env.added ?? []) mark([p.x1, p.x2], p.label, false, true);
      ctx.restore();
      canvas.setAttribute('aria-label', mapLabel(names, regionShares(winner, k), counts, b.domain));

      const key = JSON.stringify([names, letters, colors]);
      if (key !== legendKey) {
        legendKey = key;
        legend.replaceChildren(
          ...names.map((n, j) => {
            const li = document.createElement('li');
            const sw = document.createElement('span');
            sw.className = 'class-swatch';
            sw.textContent = letters[j];
            sw.style.background = colors[j];
            sw.style.color = textOn(colors[j], pal);
            sw.setAttribute('aria-hidden', 'true');
            li.dataset.class = String(j);
            li.append(sw, ` ${n}`);
            return li;
          }),
        );
      }
      if (legend.previousElementSibling !== slot) slot.after(legend);
      return true;
    },
  };
}

/**
 * manyClasses reports whether a model's network picks one of several
 * classes with a softmax, the networks the engine sends a class map for.
 * @param {any} m
 */
export function manyClasses(m) {
  const layers = m?.network?.layers ?? [];
  return (m?.network?.outputs?.length ?? 0) >= 2 && layers[layers.length - 1]?.activation === 'softmax';
}

/**
 * mapPanels is what the decision-map card says for a lesson: the caption
 * under the plot and the classes a click can add, each {value, label}
 * (value is the added point's label: its class index, or 1 and 0 for a
 * one-output lesson). Null when the lesson names no classes, so the page
 * keeps its generic "class 1" and "class 0".
 * @param {any} m
 * @returns {{caption: string, choices: {value: string, label: string}[]}|null}
 */
export function mapPanels(m) {
  const inputs = m?.network?.inputs ?? [];
  if (inputs.length !== 2) return null;
  if (manyClasses(m)) {
    const names = classNames(m);
    const letters = classLetters(m.network.outputs, names);
    return { caption: mapCaption(inputs), choices: names.map((n, j) => ({ value: String(j), label: n === letters[j] ? n : `${n} (${letters[j]})` })) };
  }
  const classes = m?.lesson?.display?.outputs?.[0]?.classes;
  if (m?.network?.outputs?.length !== 1 || !Array.isArray(classes) || classes.length !== 2) return null;
  const [zero, one] = classes;
  const [across, up] = inputs;
  return {
    caption: `Background: the network's answer everywhere in the plane, blue for ${one}, orange for ${zero}. Circles: ${one}; squares: ${zero}; hollow marks: test examples. Across: ${across}; up: ${up}.`,
    choices: [
      { value: '1', label: `${one} (circle)` },
      { value: '0', label: `${zero} (square)` },
    ],
  };
}

/**
 * boundaryLabel is the text alternative of a one-output lesson's map: the
 * points of each class, by the lesson's class names when it has two
 * (cat-or-dog's "7 dog points and 9 cat points"), else as class 1 and class 0.
 * @param {any} m
 * @param {number[]} domain
 * @param {number} n1 points whose target is 1
 * @param {number} n0 the others
 */
export function boundaryLabel(m, domain, n1, n0) {
  const classes = m?.lesson?.display?.outputs?.[0]?.classes;
  const [across, up] = m?.network?.inputs ?? [];
  const axes = across && up ? ` (across: ${across}; up: ${up})` : '';
  const points = Array.isArray(classes) && classes.length === 2 ? `${n1} ${classes[1]} points and ${n0} ${classes[0]} points` : `${n1} points of class 1 and ${n0} of class 0`;
  return `Decision boundary over the plane from ${domain[0]} to ${domain[1]}${axes}, with ${points}.`;
}
