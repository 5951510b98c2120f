// math.js: the formulas behind the last step, with the actual numbers
// plugged in, as TeX for KaTeX. Building the TeX is pure and tested with
// node; renderMath loads the vendored KaTeX on first use and typesets.
//
// Numbers are written with significant digits (the lesson's view.decimals,
// default 3). Every line that computes something carries a check: the
// arithmetic with the numbers exactly as shown and the result as shown. A
// factor gets more digits when that is what it takes for the factors on
// screen to give the result on screen, so each line can be redone with a
// calculator.

import { shortName, direction, outputLabel } from './narrate.js';
import { activationsInto, findUpdate, forwardWeight } from './state.js';
import { MINUS } from './format.js';

/**
 * @typedef {{kind: 'neuron', layer: number, neuron: number} |
 *   {kind: 'weight', layer: number, to: number, from: number|null} |
 *   {kind: 'loss'}} Selection
 * @typedef {{js: string, shown: string, digits: number}} Check
 *   js: the left-hand side as JavaScript with the numbers as shown; shown:
 *   the result as shown; digits: the significant digits it is shown with.
 * @typedef {{caption: string, tex: string, checks?: Check[]}} Formula
 */

/**
 * wordName is a neuron's short name (h2, x1, an output's name) as a word
 * in the captions' sentences: an output labelled "dog?" is "dog".
 * @param {any} network
 * @param {number} l
 * @param {number} j
 */
function wordName(network, l, j) {
  return l === network.layers.length - 1 ? outputLabel(network, j) : shortName(network, l, j);
}

/** DEFAULT_DIGITS is how many significant digits numbers get without view.decimals. */
export const DEFAULT_DIGITS = 3;

/** The most digits a factor is given to make its line add up. */
const EXTRA = 4;

/** The number of terms a sum shows before folding the rest into one. */
const FOLD = 3;

/**
 * sig writes v rounded to d significant digits, plainly (an ASCII minus;
 * "e" notation below 1e-4 and from 1e6), without trailing zeros, as a
 * calculator shows it: 0.15, not 0.150.
 * @param {number} v
 * @param {number} d
 */
export function sig(v, d) {
  if (v === null || v === undefined || Number.isNaN(v)) return '?';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return '0';
  const a = Math.abs(v);
  let s = a >= 1e-4 && a < 1e6 ? v.toPrecision(d) : v.toExponential(d - 1);
  const trim = (x) => (x.includes('.') ? x.replace(/0+$/, '').replace(/\.$/, '') : x);
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    return `${trim(m)}e${Number(e)}`;
  }
  return trim(s);
}

/**
 * tex writes a number string from sig for TeX: 1.23\times10^{-5}, and in
 * brackets when negative and bracket is set (a factor or a term).
 * @param {string} s
 * @param {boolean} [bracket]
 */
function tex(s, bracket = true) {
  const [m, e] = s.split('e');
  const t = e === undefined ? m : `${m}\\times10^{${e}}`;
  return bracket && s.startsWith('-') ? `(${t})` : t;
}

/** js writes a number string for a check's JavaScript, bracketed. */
const js = (s) => `(${s})`;

/**
 * fit finds how many digits the numbers (k) and the result (r) are written
 * with, so that f of the numbers as written gives the result as written:
 * the lesson's d for both if that works, else the numbers a digit longer,
 * or that and the result a digit shorter, and so on up to EXTRA more
 * digits, so that a number shown in one line is shown much the same in
 * the next.
 * @param {number[]} values
 * @param {(xs: number[]) => number} f
 * @param {number} result
 * @param {number} d
 * @returns {{k: number, r: number, ok: boolean}}
 */
export function fit(values, f, result, d) {
  for (let extra = 0; extra <= EXTRA; extra++) {
    // The numbers one digit longer before the result one digit shorter.
    for (const [k, r] of extra === 0 ? [[d, d]] : [[d + extra, d], [d + extra - 1, d - 1]]) {
      if (r < 2) continue;
      const got = f(values.map((v) => Number(sig(v, k))));
      if (Number(sig(got, r)) === Number(sig(result, r))) return { k, r, ok: true };
    }
  }
  return { k: d + EXTRA, r: d, ok: false };
}

/**
 * digitsOf is the lesson's number of significant digits.
 * @param {any} m
 */
export function digitsOf(m) {
  const d = m?.lesson?.view?.decimals;
  return Number.isInteger(d) && d >= 2 && d <= 8 ? d : DEFAULT_DIGITS;
}

/**
 * num writes a number for TeX with d significant digits, negatives in
 * brackets.
 * @param {number|null|undefined} v
 * @param {number} [d]
 */
export function num(v, d = DEFAULT_DIGITS) {
  if (v === null || v === undefined) return '?';
  return tex(sig(v, d));
}

function tx(s) {
  return `\\text{${String(s).replace(/[\\{}$&#^_%~]/g, '')}}`;
}

const known = (v) => typeof v === 'number' && Number.isFinite(v);

/**
 * equation builds "= numbers = result" with a check: the values, the TeX
 * and JS of the expression over them (as written), and the result.
 * @param {number[]} values
 * @param {(s: string[]) => {tex: string, js: string}} write the expression, from the numbers as written
 * @param {(xs: number[]) => number} f the same expression over numbers
 * @param {number} result
 * @param {number} d significant digits of the result
 * @returns {{tex: string, body: string, check: Check, shown: string[], digits: number, ok: boolean}}
 */
function equation(values, write, f, result, d) {
  const { k, r, ok } = fit(values, f, result, d);
  const shown = values.map((v) => sig(v, k));
  const w = write(shown);
  const res = sig(result, r);
  return { tex: `${w.tex} = ${tex(res, false)}`, body: w.tex, check: { js: w.js, shown: res, digits: r }, shown, digits: k, ok };
}

/**
 * defaultSelection picks what the math should explain after the last step:
 * the loss just measured, the neuron a micro-step touched, the most blamed
 * hidden neuron of a backward pass (backpropagation itself), or the weight
 * that changed most.
 * @param {import('./state.js').Model} m
 * @returns {Selection|null}
 */
export function defaultSelection(m) {
  if (!m.network) return null;
  const ev = m.events ?? [];
  const last = m.network.layers.length - 1;
  const lastOf = (t) => [...ev].reverse().find((e) => e.type === t);
  const up = m.updates.length ? m.updates.reduce((a, b) => (Math.abs(b.new - b.old) > Math.abs(a.new - a.old) ? b : a)) : null;
  const final = ev[ev.length - 1];
  if (ev.length === 1 && (final.type === 'forward' || final.type === 'backward')) return { kind: 'neuron', layer: final.layer, neuron: final.neuron };
  if (ev.length === 2 && ev[0].type === 'sample' && final.type === 'forward') return { kind: 'neuron', layer: final.layer, neuron: final.neuron };
  if (final?.type === 'loss') return { kind: 'loss' };
  if (up && lastOf('update')) return { kind: 'weight', layer: up.layer, to: up.to, from: up.bias ? null : up.from };
  const back = ev.filter((e) => e.type === 'backward');
  if (back.length) {
    const hidden = back.filter((e) => e.layer < last);
    const pool = hidden.length ? hidden : back;
    const big = pool.reduce((a, b) => (Math.abs(b.dZ) > Math.abs(a.dZ) ? b : a));
    return { kind: 'neuron', layer: big.layer, neuron: big.neuron };
  }
  const f = lastOf('forward');
  if (f) return { kind: 'neuron', layer: f.layer, neuron: f.neuron };
  if (m.loss) return { kind: 'loss' };
  return { kind: 'weight', layer: last, to: 0, from: 0 };
}

/**
 * formulas returns the formulas for a selection with today's numbers.
 * @param {import('./state.js').Model} m
 * @param {Selection|null} sel
 * @returns {Formula[]}
 */
export function formulas(m, sel) {
  return rawFormulas(m, sel).map((f) => ({ ...f, tex: layout(f.tex) }));
}

/** WIDTH is about how many characters of formula fit a line of the panel. */
const WIDTH = 26;

/**
 * split cuts TeX at a separator outside braces, brackets and parentheses.
 * @param {string} t
 * @param {string} sep
 */
function split(t, sep) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (depth === 0 && t.startsWith(sep, i)) {
      out.push(t.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(t.slice(start));
  return out;
}

/**
 * width guesses how wide TeX is, in characters: a fraction as wide as its
 * wider part, commands as one character, scripts a little narrower.
 * @param {string} t
 */
export function width(t) {
  let w = 0;
  for (let i = 0; i < t.length; i++) {
    if (t.startsWith('\\dfrac{', i) || t.startsWith('\\frac{', i) || t.startsWith('\\tfrac{', i)) {
      const open = t.indexOf('{', i);
      const [a, endA] = group(t, open);
      const [b, endB] = group(t, endA);
      w += Math.max(width(a), width(b)) + 1;
      i = endB - 1;
      continue;
    }
    if (t.startsWith('\\text{', i)) {
      const [a, end] = group(t, i + 5);
      w += a.length * 0.8;
      i = end - 1;
      continue;
    }
    if (t[i] === '\\') {
      const m = /^\\[a-zA-Z]+|^\\./.exec(t.slice(i));
      const cmd = m[0];
      w += cmd === '\\,' || cmd === '\\;' || cmd === '\\big' || cmd === '\\textstyle' ? 0 : cmd === '\\ln' || cmd === '\\max' || cmd === '\\tanh' || cmd === '\\cosh' ? cmd.length - 1 : 1;
      i += cmd.length - 1;
      continue;
    }
    if (t[i] === '{' || t[i] === '}' || t[i] === '^' || t[i] === '_') continue;
    w += t[i] === ' ' ? 0.3 : 1;
  }
  return w;
}

/** group reads a {…} group at i (the brace); returns its inside and the index after it. */
function group(t, i) {
  let depth = 0;
  for (let k = i; k < t.length; k++) {
    if (t[k] === '\\') {
      k++;
      continue;
    }
    if (t[k] === '{') depth++;
    else if (t[k] === '}' && --depth === 0) return [t.slice(i + 1, k), k + 1];
  }
  return [t.slice(i + 1), t.length];
}

/**
 * layout sets a chain "A = B = C" as aligned lines that fit the panel: as
 * many parts of the chain on a line as fit, a long sum wrapped at its plus
 * signs, and the result on a line of its own when the line before is full.
 * @param {string} t
 */
export function layout(t) {
  const parts = split(t, ' = ');
  if (parts.length === 1 && width(t) <= WIDTH) return t;
  const arrow = parts[0].includes('\\leftarrow');
  const lines = [];
  let line = parts[0];
  for (const part of parts.slice(1)) {
    if (width(line) + width(part) + 2 <= WIDTH) {
      line += (lines.length || line !== parts[0] ? ' = ' : ' &= ') + part;
      continue;
    }
    // A sum too long for a line wraps at its plus signs; the first line
    // keeps at least the first term.
    const terms = split(part, ' + ');
    let cur = `&= ${terms[0]}`;
    if (line === parts[0] && !lines.length) cur = `${line} ${cur}`;
    else lines.push(line);
    for (const term of terms.slice(1)) {
      if (width(cur) + width(term) + 2 <= WIDTH) cur += ` + ${term}`;
      else {
        lines.push(cur);
        cur = `&\\quad + ${term}`;
      }
    }
    line = cur;
  }
  lines.push(line);
  if (lines.length === 1) return t;
  // The first line's = is the alignment point.
  if (!lines[0].includes('&')) {
    const head = split(lines[0], ' = ');
    if (head.length > 1) lines[0] = `${head[0]} &= ${head.slice(1).join(' = ')}`;
    else if (arrow) lines[0] = lines[0].replace(' \\leftarrow ', ' &\\leftarrow ');
    else lines[0] += ' &';
  }
  return `\\begin{aligned}${lines.join(' \\\\ ')}\\end{aligned}`;
}

function rawFormulas(m, sel) {
  if (!m.network || !sel) return [];
  if (sel.kind === 'loss') return m.loss ? lossFormulas(m) : [{ caption: 'The loss is measured once the forward pass reaches the outputs.', tex: lossTemplate(m) }];
  if (sel.kind === 'neuron') {
    if (sel.layer < 0) return inputFormulas(m, sel.neuron);
    const out = [...forwardFormulas(m, sel.layer, sel.neuron)];
    const last = m.network.layers.length - 1;
    if (sel.layer === last && m.loss) out.push(...lossFormulas(m));
    out.push(...blameFormulas(m, sel.layer, sel.neuron));
    return out;
  }
  return weightFormulas(m, sel.layer, sel.to, sel.from);
}

/** inputFormulas: an input is a number given to the network, not computed. */
function inputFormulas(m, j) {
  const name = wordName(m.network, -1, j);
  const x = m.sample?.x?.[j];
  if (!known(x)) return [{ caption: `${name} is an input: the example's number goes in here. No example has come in yet.`, tex: `a = x_{${j + 1}}` }];
  return [{ caption: `${name} is an input: nothing is computed here, the example's number goes straight on along the weights.`, tex: `a = x_{${j + 1}} = ${tex(sig(x, digitsOf(m)), false)}` }];
}

/**
 * sumOfProducts writes Σ w·v (+ b) with the numbers: every term when there
 * are at most FOLD + 1, else the first FOLD and the rest as one number
 * ("… + 0.0123 (5 more terms)"), with its check.
 * @param {number[]} ws
 * @param {number[]} vs
 * @param {number|null} b
 * @param {number} result
 * @param {number} d
 */
function sumOfProducts(ws, vs, b, result, d) {
  const n = ws.length;
  const fold = n > FOLD + 1;
  const shownN = fold ? FOLD : n;
  let rest = 0;
  for (let i = shownN; i < n; i++) rest += ws[i] * vs[i];
  const values = [];
  for (let i = 0; i < shownN; i++) values.push(ws[i], vs[i]);
  if (fold) values.push(rest);
  if (b !== null) values.push(b);
  const f = (xs) => {
    let s = 0;
    for (let i = 0; i < shownN; i++) s += xs[2 * i] * xs[2 * i + 1];
    let k = 2 * shownN;
    if (fold) s += xs[k++];
    if (b !== null) s += xs[k];
    return s;
  };
  return equation(values, (s) => {
    const terms = [];
    const jsTerms = [];
    for (let i = 0; i < shownN; i++) {
      terms.push(`${tex(s[2 * i])} \\times ${tex(s[2 * i + 1])}`);
      jsTerms.push(`${js(s[2 * i])}*${js(s[2 * i + 1])}`);
    }
    let k = 2 * shownN;
    if (fold) {
      terms.push(`\\underbrace{${tex(s[k])}}_{\\text{${n - shownN} more terms}}`);
      jsTerms.push(js(s[k++]));
    }
    let text = terms.join(' + ');
    if (b !== null) {
      text += ` + ${tex(s[k])}`;
      jsTerms.push(js(s[k]));
    }
    return { tex: text, js: jsTerms.join('+') };
  }, f, result, d);
}

/** forwardFormulas: z = Σ w·a + b and a = f(z). */
function forwardFormulas(m, l, j) {
  const d = digitsOf(m);
  const z = m.values?.z?.[l]?.[j];
  const a = m.values?.a?.[l]?.[j];
  const ins = activationsInto(m, l);
  const w = m.network.weights[l][j].map((_, i) => forwardWeight(m, l, j, i));
  const b = forwardWeight(m, l, j, null);
  const name = wordName(m.network, l, j);
  if (!known(z) || ins.some((x) => !known(x))) {
    return [{ caption: `${name} has not been computed for this example yet. Step forward to see its sum.`, tex: `z = \\textstyle\\sum_i w_i a_i + b` }];
  }
  const sum = sumOfProducts(w, ins, b, z, d);
  /** @type {Formula[]} */
  const out = [{
    caption: `Forward: ${name} adds up its inputs times their weights, plus its bias.`,
    tex: `z = \\textstyle\\sum_i w_i a_i + b = ${sum.tex}`,
    checks: [sum.check],
  }];
  out.push(activationFormula(m, l, j, z, a, d));
  return out;
}

/** activationFormula: a = f(z), with softmax over all the layer's totals. */
function activationFormula(m, l, j, z, a, d) {
  const act = m.network.layers[l].activation ?? 'linear';
  const zs = sig(z, d);
  if (!known(a)) return { caption: `Then the activation (${act}) turns the sum into the output.`, tex: `a = ${tx(act)}(z)` };
  switch (act) {
    case 'sigmoid': {
      const e = equation([z], (s) => ({ tex: `\\dfrac{1}{1 + e^{-${tex(s[0])}}}`, js: `1/(1+Math.exp(-${js(s[0])}))` }), (x) => 1 / (1 + Math.exp(-x[0])), a, d);
      return { caption: 'Then the sigmoid squashes the sum into a number between 0 and 1.', tex: `a = \\sigma(z) = \\dfrac{1}{1 + e^{-z}} = ${e.tex}`, checks: [e.check] };
    }
    case 'tanh': {
      const e = equation([z], (s) => ({ tex: `\\tanh(${tex(s[0], false)})`, js: `Math.tanh(${js(s[0])})` }), (x) => Math.tanh(x[0]), a, d);
      return { caption: 'Then tanh squashes the sum into a number between −1 and 1.', tex: `a = \\tanh(z) = ${e.tex}`, checks: [e.check] };
    }
    case 'relu':
      return { caption: 'Then ReLU passes a positive sum on and turns a negative one into 0.', tex: `a = \\max(0, z) = \\max(0, ${tex(zs, false)}) = ${tex(sig(a, d), false)}`, checks: [{ js: `Math.max(0,${js(zs)})`, shown: sig(a, d), digits: d }] };
    case 'leaky_relu':
      return z > 0
        ? { caption: 'Then leaky ReLU passes a positive sum on as it is.', tex: `a = z = ${tex(sig(a, d), false)}`, checks: [{ js: js(zs), shown: sig(a, d), digits: d }] }
        : { caption: 'Then leaky ReLU keeps a hundredth of a negative sum.', tex: `a = 0.01\\,z = 0.01 \\times ${tex(zs)} = ${tex(sig(a, d), false)}`, checks: [{ js: `0.01*${js(zs)}`, shown: sig(a, d), digits: d }] };
    case 'softmax':
      return softmaxFormula(m, l, j, d);
    default:
      return { caption: 'The output neuron is linear: its output is the sum itself.', tex: `a = z = ${tex(sig(a, d), false)}` };
  }
}

/** softmaxFormula: a_j = e^{z_j} / Σ_k e^{z_k} with every class's total. */
function softmaxFormula(m, l, j, d) {
  const zs = m.values?.z?.[l] ?? [];
  const a = m.values.a[l][j];
  const n = m.network.layers[l].size;
  const names = m.network.outputs ?? [];
  const general = `a_j = \\dfrac{e^{z_j}}{\\sum_k e^{z_k}}`;
  if (zs.length !== n || zs.some((z) => !known(z))) {
    return { caption: 'Softmax turns the totals of all the outputs into shares that add up to 1; it needs every output\'s total, and the others come next.', tex: general };
  }
  // With the powers worked out first, so it can be checked step by step;
  // then the same from the totals, to as many digits as that result.
  const ex = zs.map((z) => Math.exp(z));
  const eq2 = equation(ex, (s) => ({ tex: `\\dfrac{${tex(s[j], false)}}{${s.map((x) => tex(x, false)).join(' + ')}}`, js: `${js(s[j])}/(${s.map(js).join('+')})` }), (x) => x[j] / x.reduce((acc, v) => acc + v, 0), a, d);
  const eq = equation(zs, (s) => {
    const den = s.map((x) => `e^{${tex(x, false)}}`);
    const top = `e^{${tex(s[j], false)}}`;
    return { tex: `\\dfrac{${top}}{${den.join(' + ')}}`, js: `Math.exp(${js(s[j])})/(${s.map((x) => `Math.exp(${js(x)})`).join('+')})` };
  }, (x) => Math.exp(x[j]) / x.reduce((acc, v) => acc + Math.exp(v), 0), a, eq2.check.digits);
  const first = eq.check.shown === eq2.check.shown ? eq.body : eq.tex;
  const who = names[j] ? `${outputLabel(m.network, j)}'s` : 'this output\'s';
  return {
    caption: `Softmax: ${who} share is e to the power of its total, divided by the same for every output (${names.length === n ? names.map((_, k) => outputLabel(m.network, k)).join(', ') : `${n} outputs`}), so the shares add up to 1.`,
    tex: `a_{${j + 1}} = \\dfrac{e^{z_{${j + 1}}}}{\\sum_k e^{z_k}} = ${first} = ${eq2.tex}`,
    checks: [eq.check, eq2.check],
  };
}

/** lossTemplate is the lesson's loss formula without numbers. */
function lossTemplate(m) {
  const kind = m.training?.loss ?? 'half_squared_error';
  const soft = outputActivation(m) === 'softmax';
  if (kind === 'mse') return 'L = \\tfrac1K \\sum_k (\\hat y_k - t_k)^2';
  if (kind === 'cross_entropy') return soft ? 'L = -\\sum_k t_k \\ln \\hat y_k' : 'L = -\\sum_k \\big[t_k \\ln \\hat y_k + (1 - t_k) \\ln(1 - \\hat y_k)\\big]';
  return 'L = \\sum_k \\tfrac12 (\\hat y_k - t_k)^2';
}

function outputActivation(m) {
  const ls = m.network?.layers ?? [];
  return ls[ls.length - 1]?.activation;
}

/**
 * lossFormulas writes the lesson's own loss with the prediction and the
 * target, every output's term, and the total.
 * @param {import('./state.js').Model} m
 * @returns {Formula[]}
 */
export function lossFormulas(m) {
  const d = digitsOf(m);
  const p = [].concat(m.loss.prediction);
  const t = [].concat(m.loss.target);
  const v = m.loss.value;
  const kind = m.training?.loss ?? 'half_squared_error';
  const K = p.length;
  const names = m.network.outputs ?? [];
  // In words, a negative takes the minus sign, as everywhere else.
  const list = (xs) => xs.map((x) => sig(x, d).replace('-', MINUS)).join(', ');
  const caption = `Loss: the prediction ${list(p)} against the target ${list(t)}${K > 1 ? ` (${names.map((_, k) => outputLabel(m.network, k)).join(', ')})` : ''}.`;
  const head = lossTemplate(m);
  let eq;
  if (kind === 'mse') {
    eq = equation([...p, ...t], (s) => ({
      tex: `\\tfrac1{${K}} \\big[${s.slice(0, K).map((x, k) => `(${tex(x, false)} - ${tex(s[K + k])})^2`).join(' + ')}\\big]`,
      js: `(${s.slice(0, K).map((x, k) => `(${js(x)}-${js(s[K + k])})**2`).join('+')})/${K}`,
    }), (xs) => xs.slice(0, K).reduce((acc, x, k) => acc + (x - xs[K + k]) ** 2, 0) / K, v, d);
  } else if (kind === 'cross_entropy' && outputActivation(m) === 'softmax') {
    // Only the right class's term is not 0.
    const k = t.findIndex((x) => x === 1);
    if (k >= 0) {
      eq = equation([p[k]], (s) => ({ tex: `-\\ln ${tex(s[0])}`, js: `-Math.log(${js(s[0])})` }), (x) => -Math.log(x[0]), v, d);
      return [{
        caption: `${caption} Only the right class, ${outputLabel(m.network, k)}, has a target of 1, so only its share counts.`,
        tex: `${head} = -\\ln \\hat y_{${k + 1}} = ${eq.tex}`,
        checks: [eq.check],
      }];
    }
    eq = equation([...p, ...t], (s) => ({
      tex: `-\\big[${s.slice(0, K).map((x, i) => `${tex(s[K + i])} \\ln ${tex(x)}`).join(' + ')}\\big]`,
      js: `-(${s.slice(0, K).map((x, i) => `${js(s[K + i])}*Math.log(${js(x)})`).join('+')})`,
    }), (xs) => -xs.slice(0, K).reduce((acc, x, i) => acc + xs[K + i] * Math.log(x), 0), v, d);
  } else if (kind === 'cross_entropy') {
    // With targets of 0 or 1, one of the two terms of each output is 0.
    if (t.every((x) => x === 0 || x === 1)) {
      eq = equation(p, (s) => ({
        tex: s.map((x, k) => (t[k] === 1 ? `-\\ln ${tex(x)}` : `-\\ln(1 - ${tex(x)})`)).join(' '),
        js: s.map((x, k) => (t[k] === 1 ? `-Math.log(${js(x)})` : `-Math.log(1-${js(x)})`)).join(''),
      }), (xs) => xs.reduce((acc, x, k) => acc - (t[k] === 1 ? Math.log(x) : Math.log(1 - x)), 0), v, d);
      const why = K === 1 ? (t[0] === 1 ? 'The target is 1, so only ln ŷ counts.' : 'The target is 0, so only ln(1 − ŷ) counts.') : 'Each output\'s target is 0 or 1, so one of its two terms counts.';
      return [{ caption: `${caption} ${why}`, tex: `${head} = ${eq.tex}`, checks: [eq.check] }];
    }
    eq = equation([...p, ...t], (s) => ({
      tex: s.slice(0, K).map((x, k) => `-\\big[${tex(s[K + k])} \\ln ${tex(x)} + (1 - ${tex(s[K + k])}) \\ln(1 - ${tex(x)})\\big]`).join(' '),
      js: s.slice(0, K).map((x, k) => `-(${js(s[K + k])}*Math.log(${js(x)})+(1-${js(s[K + k])})*Math.log(1-${js(x)}))`).join(''),
    }), (xs) => xs.slice(0, K).reduce((acc, x, k) => acc - (xs[K + k] * Math.log(x) + (1 - xs[K + k]) * Math.log(1 - x)), 0), v, d);
  } else {
    // Σ ½(ŷ − t)²: each output's term, then their sum.
    const terms = p.map((x, k) => 0.5 * (x - t[k]) ** 2);
    const half = (k, digits) => equation([p[k], t[k]], (s) => ({ tex: `\\tfrac12 (${tex(s[0], false)} - ${tex(s[1])})^2`, js: `0.5*(${js(s[0])}-${js(s[1])})**2` }), (x) => 0.5 * (x[0] - x[1]) ** 2, terms[k], digits);
    if (K === 1) {
      eq = half(0, d);
    } else {
      const sum = equation(terms, (s) => ({ tex: s.map((x) => tex(x)).join(' + '), js: s.map(js).join('+') }), (xs) => xs.reduce((a, b) => a + b, 0), v, d);
      const each = terms.map((_, k) => half(k, sum.digits));
      return [{
        caption,
        tex: `${head} = ${each.map((e) => e.body).join(' + ')} = ${sum.tex}`,
        checks: [...each.map((e) => e.check), sum.check],
      }];
    }
  }
  return [{ caption, tex: `${head} = ${eq.tex}`, checks: [eq.check] }];
}

/** slopeFormula: f'(z) written for the activation, with its check. */
function slopeFormula(act, z, a, slope, d) {
  switch (act) {
    case 'sigmoid': {
      const e = equation([a], (s) => ({ tex: `${tex(s[0])} \\times (1 - ${tex(s[0])})`, js: `${js(s[0])}*(1-${js(s[0])})` }), (x) => x[0] * (1 - x[0]), slope, d);
      if (e.ok) return { tex: `\\sigma'(z) = a(1 - a) = ${e.tex}`, check: e.check };
      // a is so close to 0 or 1 that a(1 − a) needs the sum itself.
      const w = equation([z], (s) => ({ tex: `\\dfrac{e^{-${tex(s[0])}}}{(1 + e^{-${tex(s[0])}})^2}`, js: `Math.exp(-${js(s[0])})/(1+Math.exp(-${js(s[0])}))**2` }), (x) => Math.exp(-x[0]) / (1 + Math.exp(-x[0])) ** 2, slope, d);
      return { tex: `\\sigma'(z) = a(1 - a) = \\dfrac{e^{-z}}{(1 + e^{-z})^2} = ${w.tex}`, check: w.check };
    }
    case 'tanh': {
      const e = equation([a], (s) => ({ tex: `1 - ${tex(s[0])}^2`, js: `1-${js(s[0])}**2` }), (x) => 1 - x[0] ** 2, slope, d);
      if (e.ok) return { tex: `\\tanh'(z) = 1 - a^2 = ${e.tex}`, check: e.check };
      // a is so close to ±1 that 1 − a² needs the sum itself.
      const w = equation([z], (s) => ({ tex: `\\dfrac{1}{\\cosh^2 ${tex(s[0])}}`, js: `1/Math.cosh(${js(s[0])})**2` }), (x) => 1 / Math.cosh(x[0]) ** 2, slope, d);
      return { tex: `\\tanh'(z) = 1 - a^2 = \\dfrac{1}{\\cosh^2 z} = ${w.tex}`, check: w.check };
    }
    case 'relu':
      return { tex: `f'(z) = ${z > 0 ? '1 \\text{ (the sum is positive)}' : '0 \\text{ (the sum is not positive)}'}` };
    case 'leaky_relu':
      return { tex: `f'(z) = ${z > 0 ? '1' : '0.01'}` };
    default:
      return { tex: 'f\'(z) = 1' };
  }
}

/**
 * blameFormulas: the backward pass at one neuron. At an output, ∂L/∂a from
 * the loss; at a hidden neuron, backpropagation itself: ∂L/∂a_h = Σ_k w_kh·δ_k
 * over the neurons it feeds. Then δ = ∂L/∂z = ∂L/∂a · f'(z).
 */
function blameFormulas(m, l, j) {
  const d = digitsOf(m);
  const dZ = m.values?.dZ?.[l]?.[j];
  if (!known(dZ)) return [];
  const dA = m.values.dA[l][j];
  const slope = m.values.slope[l][j];
  const z = m.values.z[l][j];
  const a = m.values.a[l][j];
  const act = m.network.layers[l].activation;
  const name = wordName(m.network, l, j);
  const last = m.network.layers.length - 1;
  const kind = m.training?.loss ?? 'half_squared_error';
  const out = [];
  if (l === last) {
    const t = [].concat(m.loss?.target ?? m.sample?.y ?? [])[j];
    const natural = kind === 'cross_entropy' && (act === 'sigmoid' || act === 'softmax');
    if (act === 'softmax' && !natural) {
      return [{ caption: `Backward: the blame on ${name}. Softmax ties the outputs together, so each output's blame depends on every output's share.`, tex: `\\delta_j = \\hat y_j \\big(\\tfrac{\\partial L}{\\partial \\hat y_j} - \\sum_k \\hat y_k \\tfrac{\\partial L}{\\partial \\hat y_k}\\big) = ${tex(sig(dZ, d), false)}` }];
    }
    if (act === 'softmax') {
      const e = equation([a, t], (s) => ({ tex: `${tex(s[0])} - ${tex(s[1])}`, js: `${js(s[0])}-${js(s[1])}` }), (x) => x[0] - x[1], dZ, d);
      return [{ caption: `Backward: the blame on ${name}. With softmax and cross-entropy the chain rule through every share simplifies to share minus target.`, tex: `\\delta_{${j + 1}} = \\frac{\\partial L}{\\partial z_{${j + 1}}} = \\hat y_{${j + 1}} - t_{${j + 1}} = ${e.tex}`, checks: [e.check] }];
    }
    // ∂L/∂ŷ from the loss.
    let grad = null;
    let head = ''; // ∂L/∂ŷ in symbols
    if (known(dA) && known(a) && known(t)) {
      if (kind === 'mse') {
        const K = m.network.layers[l].size;
        grad = equation([a, t], (s) => ({ tex: `\\tfrac{2}{${K}}(${tex(s[0], false)} - ${tex(s[1])})`, js: `2/${K}*(${js(s[0])}-${js(s[1])})` }), (x) => (2 / K) * (x[0] - x[1]), dA, d);
        head = `\\frac{\\partial L}{\\partial \\hat y} = \\tfrac{2}{K}(\\hat y - t)`;
      } else if (kind === 'cross_entropy') {
        grad = t === 1
          ? equation([a], (s) => ({ tex: `-\\dfrac{1}{${tex(s[0], false)}}`, js: `-1/${js(s[0])}` }), (x) => -1 / x[0], dA, d)
          : t === 0
            ? equation([a], (s) => ({ tex: `\\dfrac{1}{1 - ${tex(s[0])}}`, js: `1/(1-${js(s[0])})` }), (x) => 1 / (1 - x[0]), dA, d)
            : equation([a, t], (s) => ({ tex: `-\\dfrac{${tex(s[1], false)}}{${tex(s[0], false)}} + \\dfrac{1 - ${tex(s[1])}}{1 - ${tex(s[0])}}`, js: `-${js(s[1])}/${js(s[0])}+(1-${js(s[1])})/(1-${js(s[0])})` }), (x) => -x[1] / x[0] + (1 - x[1]) / (1 - x[0]), dA, d);
        head = `\\frac{\\partial L}{\\partial \\hat y} = -\\dfrac{t}{\\hat y} + \\dfrac{1 - t}{1 - \\hat y}`;
      } else {
        grad = equation([a, t], (s) => ({ tex: `${tex(s[0], false)} - ${tex(s[1])}`, js: `${js(s[0])}-${js(s[1])}` }), (x) => x[0] - x[1], dA, d);
        head = `\\frac{\\partial L}{\\partial \\hat y} = \\hat y - t`;
      }
      out.push({ caption: `Backward starts at the loss: how the loss changes as ${name}'s output changes.`, tex: `${head} = ${grad.tex}`, checks: [grad.check] });
    }
  } else {
    out.push(...backpropFormula(m, l, j, d));
  }
  if (!known(dA) || !known(slope)) return out;
  const sl = slopeFormula(act, z, a, slope, d);
  out.push({ caption: `The slope of ${name}'s activation at its sum: how much its output moves when its sum moves.`, tex: sl.tex, checks: sl.check ? [sl.check] : [] });
  const e = equation([dA, slope], (s) => ({ tex: `${tex(s[0])} \\times ${tex(s[1])}`, js: `${js(s[0])}*${js(s[1])}` }), (x) => x[0] * x[1], dZ, d);
  const natural = l === last && kind === 'cross_entropy' && act === 'sigmoid';
  if (natural) {
    const t = [].concat(m.loss?.target ?? m.sample?.y ?? [])[j];
    const short = equation([a, t], (s) => ({ tex: `${tex(s[0])} - ${tex(s[1])}`, js: `${js(s[0])}-${js(s[1])}` }), (x) => x[0] - x[1], dZ, d);
    out.push({
      caption: `The blame on ${name}'s sum, by the chain rule. With a sigmoid and cross-entropy the factors cancel: −t/ŷ·ŷ(1−ŷ) + (1−t)/(1−ŷ)·ŷ(1−ŷ) is just ŷ − t, prediction minus target.`,
      tex: `\\delta = \\frac{\\partial L}{\\partial z} = \\frac{\\partial L}{\\partial \\hat y} \\cdot \\sigma'(z) = ${e.tex} = \\hat y - t = ${short.tex}`,
      checks: [e.check, short.check],
    });
    return out;
  }
  out.push({
    caption: `The blame on ${name}'s sum, δ, by the chain rule: the blame on its output times its slope.`,
    tex: `\\delta = \\frac{\\partial L}{\\partial z} = \\frac{\\partial L}{\\partial a} \\cdot f'(z) = ${e.tex}`,
    checks: [e.check],
  });
  return out;
}

/**
 * backpropFormula: a hidden neuron's blame is the blame δ_k of every
 * neuron it feeds, sent back along the weight w_kh that connects them (the
 * weights the backward pass used, before the update).
 */
function backpropFormula(m, l, j, d) {
  const dA = m.values.dA[l][j];
  const name = wordName(m.network, l, j);
  const next = m.network.layers[l + 1].size;
  const ws = [];
  const deltas = [];
  for (let k = 0; k < next; k++) {
    ws.push(forwardWeight(m, l + 1, k, j));
    deltas.push(m.values.dZ[l + 1][k]);
  }
  const h = `h`;
  const head = `\\frac{\\partial L}{\\partial a_${h}} = \\textstyle\\sum_k w_{k${h}} \\, \\delta_k`;
  if (!known(dA) || deltas.some((x) => !known(x))) return [{ caption: `Backpropagation: ${name} gets the blame of every neuron it feeds, sent back along the weights.`, tex: head }];
  const names = [];
  for (let k = 0; k < next; k++) names.push(wordName(m.network, l + 1, k));
  const sum = sumOfProducts(ws, deltas, null, dA, d);
  const fold = next > FOLD + 1 ? ` (the last ${next - FOLD} terms added up into one number)` : '';
  return [{
    caption: `Backpropagation: ${name} feeds ${names.join(', ')}. Its blame is theirs, δ, sent back along the weights that connect them${fold}.`,
    tex: `${head} = ${sum.tex}`,
    checks: [sum.check],
  }];
}

/**
 * weightFormulas: the chain rule for one weight or bias, then its update.
 * A bias is written b, and its last factor is ∂z/∂b = 1 (z adds the bias as
 * it is), where a weight's is ∂z/∂w = the activation coming in.
 */
function weightFormulas(m, l, j, i) {
  const d = digitsOf(m);
  const out = [];
  const to = wordName(m.network, l, j);
  const from = i === null ? null : wordName(m.network, l - 1, i);
  const label = i === null ? `the bias of ${to}` : `the weight ${from} → ${to}`;
  const dZ = m.values?.dZ?.[l]?.[j];
  const aIn = i === null ? 1 : activationsInto(m, l)[i];
  const p = i === null ? 'b' : 'w';
  const dzdp = `\\frac{\\partial z}{\\partial ${p}}`;
  const why = i === null ? ' Here ∂z/∂b = 1: z adds the bias as it is.' : ` Here ∂z/∂w is the value coming in from ${from}.`;
  if (known(dZ) && known(aIn)) {
    const g = dZ * aIn;
    if (i === null) {
      out.push({ caption: `How much ${label} is to blame for this example's loss: the blame δ on ${to}'s sum, times 1.${why}`, tex: `\\frac{\\partial L}{\\partial b} = \\delta \\cdot ${dzdp} = ${tex(sig(dZ, d))} \\times 1 = ${tex(sig(dZ, d), false)}`, checks: [{ js: `${js(sig(dZ, d))}*1`, shown: sig(dZ, d), digits: d }] });
    } else {
      const e = equation([dZ, aIn], (s) => ({ tex: `${tex(s[0])} \\times ${tex(s[1])}`, js: `${js(s[0])}*${js(s[1])}` }), (x) => x[0] * x[1], g, d);
      out.push({ caption: `How much ${label} is to blame for this example's loss: the blame δ on ${to}'s sum times the value the weight carries.${why}`, tex: `\\frac{\\partial L}{\\partial w} = \\delta \\cdot ${dzdp} = ${e.tex}`, checks: [e.check] });
    }
  } else {
    out.push({ caption: `The blame on ${label} is known once the backward pass reaches ${to}.`, tex: `\\frac{\\partial L}{\\partial ${p}} = \\delta \\cdot ${dzdp} = \\frac{\\partial L}{\\partial a} \\cdot f'(z) \\cdot ${dzdp}` });
  }
  const u = findUpdate(m, l, j, i);
  if (u) {
    const lr = m.training?.learningRate;
    const sgd = (m.training?.optimizer ?? 'sgd') === 'sgd' && lr !== undefined && Math.abs(u.old - lr * u.grad - u.new) <= 1e-9 * Math.max(1, Math.abs(u.new));
    const batch = u.batch && u.batch > 1 ? ` (the gradient g averaged over the batch's ${u.batch} examples, so not this example's alone)` : '';
    // Enough digits that old and new differ.
    let dn = d;
    while (dn < 10 && Number(sig(u.old, dn)) === Number(sig(u.new, dn))) dn++;
    if (sgd) {
      const e = equation([u.old, lr, u.grad], (s) => ({ tex: `${tex(s[0], false)} - ${tex(s[1])} \\times ${tex(s[2])}`, js: `${js(s[0])}-${js(s[1])}*${js(s[2])}` }), (x) => x[0] - x[1] * x[2], u.new, dn);
      out.push({
        caption: `Update: ${label} takes a step against its gradient g, η = ${sig(lr, d)} times as big${batch}. It ${direction(u, i === null ? 'bias' : 'weight')}.`,
        tex: `${p} \\leftarrow ${p} - \\eta \\, g = ${e.tex}`,
        checks: [e.check],
      });
    } else {
      out.push({
        caption: `Update: ${label} took a step against its gradient${batch}, sized by the ${m.training?.optimizer ?? ''} optimizer. It ${direction(u, i === null ? 'bias' : 'weight')}.`,
        tex: `${p} \\leftarrow ${tex(sig(u.old, dn), false)} \\;\\xrightarrow{${tx(m.training?.optimizer ?? 'optimizer')},\\; g = ${tex(sig(u.grad, d), false)}}\\; ${tex(sig(u.new, dn), false)}`,
      });
    }
  }
  return out;
}

/**
 * blameEdges lists the edges that carry a hidden neuron's blame back (the
 * weights from it to the next layer), for the diagram to mark; empty for
 * anything else.
 * @param {import('./state.js').Model} m
 * @param {Selection|null} sel
 * @returns {{layer: number, to: number, from: number}[]}
 */
export function blameEdges(m, sel) {
  if (!m.network || sel?.kind !== 'neuron' || sel.layer < 0) return [];
  const last = m.network.layers.length - 1;
  if (sel.layer >= last || !known(m.values?.dA?.[sel.layer]?.[sel.neuron])) return [];
  const out = [];
  for (let k = 0; k < m.network.layers[sel.layer + 1].size; k++) out.push({ layer: sel.layer + 1, to: k, from: sel.neuron });
  return out;
}

let katexLoading = null;

/**
 * versioned is the URL the page's import map gives a static file (its
 * content-addressed URL, cached for good), or the URL itself where there is
 * no map or no import.meta.resolve.
 * @param {string} url like /static/vendor/katex/katex.min.js
 * @returns {string}
 */
function versioned(url) {
  try {
    return typeof import.meta.resolve === 'function' ? import.meta.resolve(url) : url;
  } catch {
    return url;
  }
}

/**
 * loadKatex adds the vendored KaTeX script and style sheet once.
 * @returns {Promise<any>}
 */
export function loadKatex() {
  if (globalThis.katex) return Promise.resolve(globalThis.katex);
  if (!katexLoading) {
    katexLoading = new Promise((resolve, reject) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = versioned('/static/vendor/katex/katex.min.css');
      document.head.append(link);
      const s = document.createElement('script');
      s.src = versioned('/static/vendor/katex/katex.min.js');
      s.onload = () => resolve(globalThis.katex);
      s.onerror = () => {
        katexLoading = null;
        reject(new Error('KaTeX did not load'));
      };
      document.head.append(s);
    });
  }
  return katexLoading;
}

/**
 * renderMath typesets formulas into container (KaTeX's HTML plus MathML for
 * screen readers). Before KaTeX has loaded the TeX shows as text.
 * @param {HTMLElement} container
 * @param {Formula[]} list
 */
export async function renderMath(container, list) {
  const frag = document.createDocumentFragment();
  /** @type {[HTMLElement, string][]} a formula's element and its TeX */
  const targets = [];
  for (const f of list) {
    const fig = document.createElement('figure');
    fig.className = 'formula';
    const cap = document.createElement('figcaption');
    cap.textContent = f.caption;
    const body = document.createElement('div');
    body.className = 'tex';
    body.textContent = f.tex;
    fig.append(cap, body);
    frag.append(fig);
    targets.push([body, f.tex]);
  }
  container.replaceChildren(frag);
  if (list.length === 0) {
    container.textContent = 'Step to see the formulas for the last step.';
    return;
  }
  try {
    const katex = await loadKatex();
    for (const [el, t] of targets) {
      if (!el.isConnected) continue;
      katex.render(t, el, { throwOnError: false, displayMode: true, output: 'htmlAndMathml' });
    }
  } catch {
    // The TeX stays readable as text.
  }
}
