// format.js: how numbers are written on the page. Pure; no DOM.

/** The minus sign used on the page (U+2212), wider and clearer than a hyphen. */
export const MINUS = '\u2212';

const SUPERSCRIPT = { '-': '\u207b', 0: '\u2070', 1: '\u00b9', 2: '\u00b2', 3: '\u00b3', 4: '\u2074', 5: '\u2075', 6: '\u2076', 7: '\u2077', 8: '\u2078', 9: '\u2079' };

/**
 * small writes a positive number below 10^-decimals with three significant
 * digits, so that it never reads as zero: 0.00123 for numbers down to
 * 0.0001, scientific notation ("1.23×10⁻⁵") below that.
 * @param {number} a a positive number
 */
function small(a) {
  if (a >= 1e-4) return a.toPrecision(3);
  return scientific(a);
}

/** Numbers from a billion up are written in scientific notation. */
const HUGE = 1e9;

/**
 * scientific writes a positive number as "1.23×10⁻⁵" or "1.64×10¹⁶": a
 * diverging network's numbers stay short enough to read (and to fit the
 * page) instead of running to dozens of digits.
 * @param {number} a a positive number
 */
function scientific(a) {
  const [mant, exp] = a.toExponential(2).split('e');
  return `${mant}×10${[...String(Number(exp))].map((c) => SUPERSCRIPT[c]).join('')}`;
}

/**
 * fmt writes a raw network number briefly: `decimals` decimals for ordinary
 * values, three significant digits for those too small for that (a number
 * that is not zero never reads as zero), grouped thousands for big ones.
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
  else if (a >= HUGE) s = scientific(a);
  else if (a >= 10000) s = Math.round(a).toLocaleString('en-US');
  else if (a >= 10 ** -decimals) s = a.toFixed(decimals);
  else s = small(a);
  if (v < 0 && a !== 0) return MINUS + s;
  return s;
}

/**
 * changeDecimals is how many decimals show the change from old to new: 2,
 * or more when the change is too small to see with 2 (up to 6), so that
 * "0.2134 → 0.2138" is not written "0.21 → 0.21".
 * @param {number} oldV
 * @param {number} newV
 */
export function changeDecimals(oldV, newV) {
  const d = Math.abs(newV - oldV);
  if (!(d > 0) || !Number.isFinite(d)) return 2;
  let n = 2;
  while (n < 6 && Number(oldV.toFixed(n)) === Number(newV.toFixed(n))) n++;
  return n;
}

/**
 * fmtSigned is fmt with a plus sign on positive values, for changes.
 * @param {number} v
 * @param {number} [decimals=2]
 */
export function fmtSigned(v, decimals = 2) {
  const s = fmt(v, decimals);
  return v > 0 ? '+' + s : s;
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
  const abs = Math.abs(r) >= HUGE && Number.isFinite(r) ? scientific(Math.abs(r)) : Math.abs(r).toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  const zero = Number(abs.replace(/,/g, '')) === 0;
  const sign = r < 0 && r !== 0 ? MINUS : '';
  const unit = spec.unit ? (/^[A-Za-z]/.test(spec.unit) ? ' ' + spec.unit : spec.unit) : '';
  // An amount too small for the lesson's decimals is not zero: three
  // significant digits say so.
  const digits = zero && r !== 0 ? small(Math.abs(r)) : abs;
  return sign + (spec.prefix ?? '') + digits + unit;
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
