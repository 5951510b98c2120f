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
 * count writes a whole number with grouped thousands: 2503295 → "2,503,295".
 * @param {number} n
 */
export function count(n) {
  return GROUPED.format(Math.round(n));
}

// One formatter for every count: toLocaleString makes a new one each call.
const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

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

// One number format per count of decimals: making one is slow, and a
// drawing during Play writes dozens of amounts a frame.
const amountFormats = new Map();
function amountFormat(decimals) {
  let f = amountFormats.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    amountFormats.set(decimals, f);
  }
  return f;
}

/**
 * displayAmount writes an amount that is already in real units.
 * @param {number} r
 * @param {DisplaySpec} spec
 */
export function displayAmount(r, spec) {
  const decimals = spec.decimals ?? 2;
  const abs = Math.abs(r) >= HUGE && Number.isFinite(r) ? scientific(Math.abs(r)) : amountFormat(decimals).format(Math.abs(r));
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

/**
 * hasUnits reports whether a display spec puts a value in real-world units
 * (a unit, a prefix, or a scale and offset that change it); class labels
 * and plain specs do not.
 * @param {DisplaySpec|undefined} spec
 */
export function hasUnits(spec) {
  if (!spec || spec.classes) return false;
  return !!(spec.unit || spec.prefix || (spec.scale ?? 1) !== 1 || (spec.offset ?? 0) !== 0);
}

/**
 * shortAmount writes a real amount in at most about five characters, for
 * the inside of a neuron: the prefix and the number, thousands as k and
 * millions as M, without the unit word ("$231k", "970", "2.5").
 * @param {number} r
 * @param {DisplaySpec} spec
 */
export function shortAmount(r, spec) {
  const a = Math.abs(r);
  const sign = r < 0 ? MINUS : '';
  let n;
  if (!Number.isFinite(r)) n = '∞';
  else if (a >= HUGE) return sign + (spec.prefix ?? '') + scientific(a);
  else if (a >= 999500) n = trim((a / 1e6).toPrecision(3)) + 'M';
  else if (a >= 9999.5) n = Math.round(a / 1000) + 'k';
  else if (a >= 999.5) n = trim((a / 1000).toPrecision(2)) + 'k';
  else n = trim(a.toFixed(Math.min(spec.decimals ?? 2, a >= 100 ? 0 : a >= 10 ? 1 : 2)));
  return sign + (spec.prefix ?? '') + n;
}

function trim(s) {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * fitValue writes a network value to fit in chars characters (a neuron's
 * circle): fmt when that fits; then, between 0.001 and 100,000, a plain
 * number with two or one significant digits (at most one character over:
 * the page squeezes it); otherwise three, then two significant digits
 * inside, and the power of ten, when there is one, apart ("4.37" and
 * "×10⁻⁶"), for the page to write outside the circle.
 * @param {number|null|undefined} v
 * @param {number} chars
 * @returns {{inside: string, outside: string}}
 */
export function fitValue(v, chars) {
  const s = fmt(v);
  if (s.length <= chars || v === null || v === undefined || !Number.isFinite(v)) return { inside: s, outside: '' };
  const a = Math.abs(v);
  const sign = v < 0 ? MINUS : '';
  const exp = Math.floor(Math.log10(a));
  // A learner reads −0.17 more easily than −1.7 ×10⁻¹: between 0.001 and
  // 100,000 a plain number with two, then one significant digit comes
  // first, one character over the room allowed (the page squeezes it).
  if (exp >= -3 && exp < 5) {
    for (const digits of [2, 1]) {
      const plain = sign + String(Number(a.toPrecision(digits)));
      if (plain.length <= chars + 1) return { inside: plain, outside: '' };
    }
  }
  for (const digits of [3, 2, 1]) {
    let mant = a / 10 ** exp;
    let e = exp;
    if (Number(mant.toFixed(digits - 1)) >= 10) {
      mant /= 10;
      e++;
    }
    const inside = sign + mant.toFixed(digits - 1);
    if (inside.length <= chars || digits === 1) return { inside, outside: e === 0 ? '' : '×10' + [...String(e)].map((c) => SUPERSCRIPT[c]).join('') };
  }
  return { inside: s, outside: '' };
}

/**
 * scaleSentence explains, once, how the network sees the lesson's real
 * units, from its display specs: "The network sees each number rescaled:
 * price in units of $100,000 around $300,000; …". Empty when no input or
 * output has units.
 * @param {{inputs?: DisplaySpec[], outputs?: DisplaySpec[]}|undefined} display
 * @param {string[]} inputs the inputs' names
 * @param {string[]} outputs the outputs' names
 */
export function scaleSentence(display, inputs, outputs) {
  const parts = [];
  const add = (spec, name) => {
    if (!hasUnits(spec)) return;
    const scale = spec.scale ?? 1;
    const offset = spec.offset ?? 0;
    // The scale and offset with every decimal they have (1.2 bedrooms, not
    // "1 bedrooms"), up to four.
    const places = (x) => Math.min(4, (String(x).split('.')[1] ?? '').length);
    const exact = { ...spec, decimals: places(scale) };
    const around = displayAmount(offset, { ...spec, decimals: places(offset) });
    let p;
    if (scale === 1) p = offset !== 0 ? `${name} as the difference from ${around}` : `${name} as it is`;
    else {
      p = `${name} in units of ${displayAmount(scale, exact)}`;
      if (offset !== 0) p += ` around ${around}`;
    }
    parts.push(p);
  };
  outputs.forEach((name, j) => add(display?.outputs?.[j], name));
  inputs.forEach((name, j) => add(display?.inputs?.[j], name));
  if (!parts.length) return '';
  return `Numbers are shown in real units. The network itself sees each one rescaled: ${parts.join('; ')}. The table and the inspector show both.`;
}

/**
 * productWords writes a, b and their product c (the engine's three
 * numbers, c = a·b) so that the two factors as written multiply to the
 * product as written: two decimals when that already holds, else
 * significant figures, one more at a time, up to 7 (12.59 × 0.07 would
 * read as 0.88, not the 0.92 the engine computed; 12.59 × 0.0731 = 0.920
 * holds). Negatives take the minus sign.
 * @param {number} a
 * @param {number} b
 * @param {number} c
 * @returns {[string, string, string]}
 */
export function productWords(a, b, c) {
  /** @type {[string, string, string]} */
  const plain = [fmt(a), fmt(b), fmt(c)];
  if (![a, b, c].every(Number.isFinite)) return plain;
  const value = (s) => Number(s.replace(MINUS, '-').replace(/,/g, ''));
  if (fmt(value(plain[0]) * value(plain[1])) === plain[2]) return plain;
  const sigWords = (v, k) => {
    const a = Math.abs(v);
    if (a === 0 || a < 1e-4 || a >= HUGE) return fmt(v, 4);
    // From 1 up, k significant digits are decimals after the whole part
    // (toPrecision would write 7886.7 as "7.89e+3").
    if (a >= 1) {
      const d = Math.max(0, k - String(Math.floor(a)).length);
      const w = a.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
      return v < 0 ? MINUS + w : w;
    }
    const s = a.toPrecision(k);
    return v < 0 ? MINUS + s : s;
  };
  for (let k = 3; k <= 7; k++) {
    for (const r of [k, k - 1]) {
      const fa = sigWords(a, k);
      const fb = sigWords(b, k);
      const fc = sigWords(c, r);
      if (sigWords(value(fa) * value(fb), r) === fc) return [fa, fb, fc];
    }
  }
  return [sigWords(a, 7), sigWords(b, 7), sigWords(c, 7)];
}
