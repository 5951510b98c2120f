// colors.js: the page's colour scales. Pure; no DOM.
//
// Signs use a blue/orange diverging palette, which stays distinguishable for
// the common forms of colour blindness (unlike red/green). Each theme has its
// own pair, chosen so that edges keep at least 3:1 contrast against that
// theme's background (WCAG's minimum for graphics). Colour is never the only
// signal: negative weights are also dashed (see dashFor).

/** @typedef {'light'|'dark'|'projector'} Theme */

/**
 * @typedef {{background: string, surface: string, text: string, muted: string,
 *   positive: string, negative: string, forward: string, backward: string,
 *   neutral: string, focus: string, nodeFill: string}} Palette
 */

/** @type {Record<Theme, Palette>} */
export const PALETTES = {
  light: {
    background: '#f7f7f5',
    surface: '#ffffff',
    text: '#1b1d21',
    muted: '#55595f',
    positive: '#1f63a8', // blue
    negative: '#b3530b', // orange
    forward: '#1f63a8',
    backward: '#8a2c8f', // purple: the blame, distinct from both signs
    neutral: '#8a8f98',
    focus: '#0b57d0',
    nodeFill: '#ffffff', // netstep.css --node-fill
  },
  dark: {
    background: '#15171b',
    surface: '#1e2126',
    text: '#eceef1',
    muted: '#a9afb8',
    positive: '#6fb2f2',
    negative: '#f4a04a',
    forward: '#6fb2f2',
    backward: '#e08ee6',
    neutral: '#7d848e',
    focus: '#ffd23f',
    nodeFill: '#262a31',
  },
  projector: {
    background: '#ffffff',
    surface: '#ffffff',
    text: '#000000',
    muted: '#2b2b2b',
    positive: '#0044aa',
    negative: '#a33a00',
    forward: '#0044aa',
    backward: '#6a0a70',
    neutral: '#5a5a5a',
    focus: '#000000',
    nodeFill: '#ffffff',
  },
};

/**
 * hexToRgb parses "#rrggbb".
 * @param {string} hex
 * @returns {[number, number, number]}
 */
export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * luminance is WCAG's relative luminance of an sRGB colour.
 * @param {string} hex
 */
export function luminance(hex) {
  const [r, g, b] = hexToRgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * contrast is WCAG's contrast ratio between two colours, from 1 to 21.
 * @param {string} a
 * @param {string} b
 */
export function contrast(a, b) {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * palette returns the palette of a theme; unknown themes get light.
 * @param {string} theme
 * @returns {Palette}
 */
export function palette(theme) {
  return PALETTES[/** @type {Theme} */ (theme)] ?? PALETTES.light;
}

/**
 * signColor is the colour for a signed value.
 * @param {number} v
 * @param {Palette} p
 */
export function signColor(v, p) {
  if (v > 0) return p.positive;
  if (v < 0) return p.negative;
  return p.neutral;
}

/** @type {WeakMap<Palette, Map<string, string>>} the tints made so far, per palette */
const tints = new WeakMap();

/**
 * nodeTint is a neuron's fill for its value a: the colour of a's sign, as
 * strong as |a| (28% at |a| ≥ 1, in steps of 1%), over the theme's neuron
 * fill, written "#rrggbb". A neuron's fill changes on most frames of Play,
 * for each of hundreds of neurons, and a browser reads a hex colour much
 * faster than the color-mix() it replaced.
 * @param {number} a
 * @param {Palette} p
 */
export function nodeTint(a, p) {
  let made = tints.get(p);
  if (!made) tints.set(p, (made = new Map()));
  const color = signColor(a, p);
  const level = Math.round(Math.min(1, Math.abs(a)) * 28);
  const key = color + level;
  let tint = made.get(key);
  if (!tint) {
    const [r, g, b] = mix(p.nodeFill, color, level / 100);
    tint = '#' + ((r << 16) | (g << 8) | b).toString(16).padStart(6, '0');
    made.set(key, tint);
  }
  return tint;
}

/**
 * dashFor is the SVG stroke-dasharray that shows a sign without colour:
 * positive solid, negative dashed, zero dotted.
 * @param {number} v
 */
export function dashFor(v) {
  if (v > 0) return 'none';
  if (v < 0) return '7 4';
  return '2 4';
}

/**
 * edgeWidth maps a weight's magnitude to a stroke width in pixels, by the
 * square root so that small weights stay visible and big ones do not swamp.
 * @param {number} w
 * @param {number} maxAbs the largest |weight| in view
 */
export function edgeWidth(w, maxAbs) {
  const m = maxAbs > 0 ? maxAbs : 1;
  const t = Math.min(1, Math.sqrt(Math.abs(w) / m));
  return Math.round((1 + 6 * t) * 10) / 10;
}

/**
 * mix blends two hex colours; t = 0 gives a, t = 1 gives b.
 * @param {string} a
 * @param {string} b
 * @param {number} t
 * @returns {[number, number, number]}
 */
export function mix(a, b, t) {
  const ca = hexToRgb(a);
  const cb = hexToRgb(b);
  const at = (i) => Math.round(ca[i] + (cb[i] - ca[i]) * t);
  return [at(0), at(1), at(2)];
}

/**
 * heatColor maps t in [0, 1] to the diverging scale used for heatmaps:
 * negative colour at 0, the theme's surface at 0.5, positive at 1. The ends
 * are softened (strength < 1) so data points drawn on top stay visible.
 * @param {number} t
 * @param {Palette} p
 * @param {number} [strength=0.75]
 * @returns {[number, number, number]}
 */
export function heatColor(t, p, strength = 0.75) {
  const c = Math.max(0, Math.min(1, t));
  if (c < 0.5) return mix(p.surface, p.negative, (0.5 - c) * 2 * strength);
  return mix(p.surface, p.positive, (c - 0.5) * 2 * strength);
}

/**
 * cssVariables lists the custom properties the style sheet reads for a
 * palette, so CSS and canvas drawing share one source of colours.
 * @param {Palette} p
 * @returns {Record<string, string>}
 */
export function cssVariables(p) {
  return {
    '--pos': p.positive,
    '--neg': p.negative,
    '--fwd': p.forward,
    '--bwd': p.backward,
    '--neutral': p.neutral,
  };
}
