// math.js: the formulas behind the last step, with the actual numbers
// plugged in, as TeX for KaTeX. Building the TeX is pure and tested with
// node; renderMath loads the vendored KaTeX on first use and typesets.

import { fmt, MINUS, changeDecimals } from './format.js';
import { shortName, direction } from './narrate.js';
import { activationsInto, sampleGradient, findUpdate, forwardWeight } from './state.js';

/**
 * @typedef {{kind: 'neuron', layer: number, neuron: number} |
 *   {kind: 'weight', layer: number, to: number, from: number|null}} Selection
 * @typedef {{caption: string, tex: string}} Formula
 */

const FROM_SUPERSCRIPT = { '\u207b': '-', '\u2070': '0', '\u00b9': '1', '\u00b2': '2', '\u00b3': '3', '\u2074': '4', '\u2075': '5', '\u2076': '6', '\u2077': '7', '\u2078': '8', '\u2079': '9' };

/** num writes a number for TeX: ASCII minus, negatives in brackets, 1.23\times10^{-5} for tiny ones. */
export function num(v, decimals = 2) {
  if (v === null || v === undefined) return '?';
  const t = fmt(v, decimals)
    .replaceAll(MINUS, '-')
    .replace(/×10([\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+)/, (_, e) => `\\times10^{${[...e].map((c) => FROM_SUPERSCRIPT[c]).join('')}}`);
  return v < 0 ? `(${t})` : t;
}

/** bare is num without brackets, for results. */
function bare(v, decimals = 2) {
  return num(v, decimals).replace(/^\((.*)\)$/, '$1');
}

function tx(s) {
  return `\\text{${String(s).replace(/[\\{}$&#^_%~]/g, '')}}`;
}

/**
 * defaultSelection picks what the math should explain after the last step:
 * the neuron a micro-step touched, or the weight that changed most.
 * @param {import('./state.js').Model} m
 * @returns {Selection|null}
 */
export function defaultSelection(m) {
  if (!m.network) return null;
  const ev = m.events ?? [];
  const lastOf = (t) => [...ev].reverse().find((e) => e.type === t);
  const up = m.updates.length ? m.updates.reduce((a, b) => (Math.abs(b.new - b.old) > Math.abs(a.new - a.old) ? b : a)) : null;
  if (ev.length === 1 && ev[0].type === 'forward') return { kind: 'neuron', layer: ev[0].layer, neuron: ev[0].neuron };
  if (ev.length === 1 && ev[0].type === 'backward') return { kind: 'neuron', layer: ev[0].layer, neuron: ev[0].neuron };
  if (up && lastOf('update')) return { kind: 'weight', layer: up.layer, to: up.to, from: up.bias ? null : up.from };
  const b = lastOf('backward');
  if (b) return { kind: 'weight', layer: b.layer, to: b.neuron, from: 0 };
  const f = lastOf('forward');
  if (f) return { kind: 'neuron', layer: f.layer, neuron: f.neuron };
  const last = m.network.layers.length - 1;
  return { kind: 'weight', layer: last, to: 0, from: 0 };
}

/**
 * formulas returns the formulas for a selection with today's numbers.
 * @param {import('./state.js').Model} m
 * @param {Selection|null} sel
 * @returns {Formula[]}
 */
export function formulas(m, sel) {
  if (!m.network || !sel) return [];
  const out = [];
  if (sel.kind === 'neuron') {
    out.push(...forwardFormulas(m, sel.layer, sel.neuron));
    const last = m.network.layers.length - 1;
    if (sel.layer === last && m.loss) out.push(...lossFormulas(m));
    out.push(...blameFormulas(m, sel.layer, sel.neuron));
    return out;
  }
  return weightFormulas(m, sel.layer, sel.to, sel.from);
}

/** forwardFormulas: z = Σ w·a + b and a = f(z). */
function forwardFormulas(m, l, j) {
  const z = m.values?.z?.[l]?.[j];
  const a = m.values?.a?.[l]?.[j];
  const ins = activationsInto(m, l);
  const w = m.network.weights[l][j].map((_, i) => forwardWeight(m, l, j, i));
  const b = forwardWeight(m, l, j, null);
  const name = shortName(m.network, l, j);
  if (z === null || z === undefined) {
    return [{ caption: `${name} has not been computed for this example yet. Step forward to see its sum.`, tex: `z = \\sum_i w_i a_i + b` }];
  }
  const terms = w.length <= 6
    ? w.map((wi, i) => `${num(wi)} \\times ${num(ins[i])}`).join(' + ') + ` + ${num(b)}`
    : `\\dots + ${num(b)}`;
  const act = m.network.layers[l].activation ?? 'f';
  return [
    { caption: `Forward: ${name} adds up its weighted inputs and its bias.`, tex: `\\begin{aligned}z &= \\textstyle\\sum_i w_i a_i + b \\\\ &= ${terms} \\\\ &= ${bare(z)}\\end{aligned}` },
    { caption: `Then the activation (${act}) squashes or passes the sum.`, tex: `a = ${tx(act)}(z) = ${tx(act)}(${bare(z)}) = ${bare(a)}` },
  ];
}

/**
 * lossFormulas writes the loss with the prediction and target. The formula is
 * chosen by checking which one reproduces the engine's value, so the page
 * never shows a formula the engine did not use.
 */
export function lossFormulas(m) {
  const p = [].concat(m.loss.prediction);
  const t = [].concat(m.loss.target);
  const v = m.loss.value;
  const close = (x) => Math.abs(x - v) <= 1e-6 * Math.max(1, Math.abs(v));
  const sum = (f) => p.reduce((s, pi, i) => s + f(pi, t[i]), 0);
  const yhat = p.length === 1 ? num(p[0]) : `(${p.map((x) => bare(x)).join(', ')})`;
  const tt = t.length === 1 ? num(t[0]) : `(${t.map((x) => bare(x)).join(', ')})`;
  const cands = [
    { ok: close(sum((a, b) => 0.5 * (a - b) ** 2)), tex: `L = \\tfrac12 (\\hat y - t)^2 = \\tfrac12 (${bare(p[0])} - ${num(t[0])})^2 = ${bare(v, 3)}` },
    { ok: close(sum((a, b) => (a - b) ** 2)), tex: `L = (\\hat y - t)^2 = (${bare(p[0])} - ${num(t[0])})^2 = ${bare(v, 3)}` },
    { ok: close(sum((a, b) => (a - b) ** 2) / p.length), tex: `L = \\tfrac1n \\sum (\\hat y - t)^2 = ${bare(v, 3)}` },
    { ok: close(sum((a, b) => -(b * Math.log(a) + (1 - b) * Math.log(1 - a)))), tex: `L = -[t \\ln \\hat y + (1-t) \\ln(1-\\hat y)] = -[${bare(t[0])} \\ln ${bare(p[0])} + ${bare(1 - t[0])} \\ln ${bare(1 - p[0])}] = ${bare(v, 3)}` },
    { ok: close(sum((a, b) => (b > 0 ? -b * Math.log(a) : 0))), tex: `L = -\\sum_k t_k \\ln \\hat y_k = ${bare(v, 3)}` },
  ];
  const c = p.length === 1 ? cands.find((x) => x.ok) : cands.slice(2).find((x) => x.ok);
  return [{ caption: `Loss: the prediction ${yhat.replace(/[()]/g, '')} against the target ${tt.replace(/[()]/g, '')}.`, tex: c ? c.tex : `L(\\hat y, t) = L(${yhat}, ${tt}) = ${bare(v, 3)}` }];
}

/** blameFormulas: ∂L/∂z = ∂L/∂a · ∂a/∂z. */
function blameFormulas(m, l, j) {
  const dZ = m.values?.dZ?.[l]?.[j];
  if (dZ === null || dZ === undefined) return [];
  const dA = m.values.dA[l][j];
  const slope = m.values.slope[l][j];
  const name = shortName(m.network, l, j);
  if (slope === null || dA === null) {
    const a = m.values.a[l][j];
    const t = [].concat(m.loss?.target ?? [])[j];
    return [{ caption: `Backward: the blame on ${name}. With this loss and activation the chain rule simplifies to prediction minus target.`, tex: `\\frac{\\partial L}{\\partial z} = a - t = ${num(a)} - ${num(t)} = ${bare(dZ)}` }];
  }
  return [{ caption: `Backward: the blame on ${name}, by the chain rule.`, tex: `\\frac{\\partial L}{\\partial z} = \\frac{\\partial L}{\\partial a} \\cdot \\frac{\\partial a}{\\partial z} = ${num(dA)} \\times ${num(slope)} = ${bare(dZ)}` }];
}

/**
 * weightFormulas: the chain rule for one weight or bias, then its update.
 * A bias is written b, and its last factor is ∂z/∂b = 1 (z adds the bias as
 * it is), where a weight's is ∂z/∂w = the activation coming in.
 */
function weightFormulas(m, l, j, i) {
  const out = [];
  const to = shortName(m.network, l, j);
  const from = i === null ? null : shortName(m.network, l - 1, i);
  const label = i === null ? `the bias of ${to}` : `the weight ${from} → ${to}`;
  const dA = m.values?.dA?.[l]?.[j];
  const slope = m.values?.slope?.[l]?.[j];
  const dZ = m.values?.dZ?.[l]?.[j];
  const aIn = i === null ? 1 : activationsInto(m, l)[i];
  const g = sampleGradient(m, l, j, i);
  const p = i === null ? 'b' : 'w';
  const dzdp = `\\frac{\\partial z}{\\partial ${p}}`;
  const why = i === null ? ' Here ∂z/∂b = 1: z adds the bias as it is.' : ` Here ∂z/∂w is the value coming in from ${from}.`;
  if (g !== null) {
    if (slope !== null && slope !== undefined && dA !== null && dA !== undefined) {
      out.push({
        caption: `How much ${label} is to blame for this example's loss: the chain rule with the real numbers.${why}`,
        tex: `\\begin{aligned}\\frac{\\partial L}{\\partial ${p}} &= \\frac{\\partial L}{\\partial a} \\cdot \\frac{\\partial a}{\\partial z} \\cdot ${dzdp} \\\\ &= ${num(dA)} \\times ${num(slope)} \\times ${i === null ? '1' : num(aIn)} = ${bare(g)}\\end{aligned}`,
      });
    } else {
      out.push({
        caption: `How much ${label} is to blame for this example's loss (∂L/∂z is prediction minus target here).${why}`,
        tex: `\\begin{aligned}\\frac{\\partial L}{\\partial ${p}} &= \\frac{\\partial L}{\\partial z} \\cdot ${dzdp} \\\\ &= ${num(dZ)} \\times ${i === null ? '1' : num(aIn)} = ${bare(g)}\\end{aligned}`,
      });
    }
  } else {
    out.push({ caption: `The blame on ${label} is known once the backward pass reaches ${to}.`, tex: `\\frac{\\partial L}{\\partial ${p}} = \\frac{\\partial L}{\\partial a} \\cdot \\frac{\\partial a}{\\partial z} \\cdot ${dzdp}` });
  }
  const u = findUpdate(m, l, j, i);
  if (u) {
    const lr = m.training?.learningRate;
    const sgd = (m.training?.optimizer ?? 'sgd') === 'sgd' && lr !== undefined && Math.abs(u.old - lr * u.grad - u.new) <= 1e-9 * Math.max(1, Math.abs(u.new));
    const batch = u.batch && u.batch > 1 ? ` (the gradient averaged over ${u.batch} examples)` : '';
    const n = changeDecimals(u.old, u.new);
    out.push({
      caption: `Update: ${label} took a step against its gradient${batch}. It ${direction(u, i === null ? 'bias' : 'weight')}.`,
      tex: sgd
        ? `\\begin{aligned}${p} &\\leftarrow ${p} - \\eta \\, g \\\\ &= ${bare(u.old, n)} - ${bare(lr, 3)} \\times ${num(u.grad)} = ${bare(u.new, n)}\\end{aligned}`
        : `${p} \\leftarrow ${bare(u.old, n)} \\;\\xrightarrow{${tx(m.training?.optimizer ?? 'optimizer')},\\; g = ${bare(u.grad, n)}}\\; ${bare(u.new, n)}`,
    });
  }
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
    for (const [el, tex] of targets) {
      if (!el.isConnected) continue;
      katex.render(tex, el, { throwOnError: false, displayMode: true, output: 'htmlAndMathml' });
    }
  } catch {
    // The TeX stays readable as text.
  }
}
