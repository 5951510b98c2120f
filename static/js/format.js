// format.js: how numbers are written on the page. Pure; no DOM.

/** The minus sign used on the page (U+2212), wider and clearer than a hyphen. */
export const MINUS = '\u2212';

/**
 * fmt writes a raw network number briefly: two decimals for ordinary values,
 * two significant digits for tiny ones, grouped thousands for big ones.
 * @param {number|null|undefined} v
 * @param {number} [decimals=2]
 * @returns {string}
 */
export function fmt(v, decimals = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : MINUS + '∞';
  const a = Math.abs(v);
  let s;
  if (a === 0) s = (0).toFixed(decimals);
  else if (a >= 10000) s = Math.round(a).toLocaleString('en-US');
  else if (a >= 0.5 * 10 ** -decimals) s = a.toFixed(decimals);
  else s = a.toPrecision(2).replace(/e-(\d+)$/, '×10⁻$1');
  if (v < 0 && Number(s.replace(/[^0-9.]/g, '')) !== 0) return MINUS + s;
  return s;
}

/**
 * fmtSigned is fmt with a plus sign on positive values, for changes.
 * @param {number} v
 * @param {number} [decimals=2]
 */
export function fmtSigned(v, decimals = 2) {
  const s = fmt(v, decimals);
  return v > 0 && s !== (0).toFixed(decimals) ? '+' + s : s;
}

/**
 * @typedef {{unit?: string, prefix?: string, scale?: number, offset?: number, decimals?: number, classes?: string[]}} DisplaySpec
 */

/**
 * realValue maps a network value to the lesson's real-world units:
 * value·scale + offset.
 * @param {number} v
 * @param {DisplaySpec|undefined} spec
 */
export function realValue(v, spec) {
  if (!spec) return v;
  const scale = spec.scale ?? 1;
  const offset = spec.offset ?? 0;
  return v * scale + offset;
}

/**
 * displayValue writes a network value in the lesson's units, e.g. "$250,000"
 * or "3 bedrooms". Without a spec it is fmt.
 * @param {number} v
 * @param {DisplaySpec|undefined} spec
 */
export function displayValue(v, spec) {
  if (!spec || (spec.scale === undefined && spec.offset === undefined && !spec.unit && !spec.prefix && spec.decimals === undefined)) {
    return fmt(v);
  }
  return displayAmount(realValue(v, spec), spec);
}

/**
 * displayAmount writes an amount that is already in real units.
 * @param {number} r
 * @param {DisplaySpec} spec
 */
export function displayAmount(r, spec) {
  const decimals = spec.decimals ?? 2;
  const abs = Math.abs(r).toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  const zero = Number(abs.replace(/,/g, '')) === 0;
  const sign = r < 0 && !zero ? MINUS : '';
  const unit = spec.unit ? (/^[A-Za-z]/.test(spec.unit) ? ' ' + spec.unit : spec.unit) : '';
  return sign + (spec.prefix ?? '') + abs + unit;
}

/**
 * percent writes a probability as a whole percentage: 0.6 → "60%".
 * @param {number} p
 */
export function percent(p) {
  if (p > 0.995 && p < 1) return 'over 99%';
  if (p < 0.005 && p > 0) return 'under 1%';
  return Math.round(p * 100) + '%';
}

/**
 * ordinal writes 1 → "1st", 2 → "2nd".
 * @param {number} n
 */
export function ordinal(n) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
