import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce } from '../../static/js/state.js';
import { formulas, defaultSelection, num, sig, fit, lossFormulas, blameEdges, layout, width } from '../../static/js/math.js';
import { houseState, sampleEvents } from './fixture.test.js';
import { lessonTraces, replay } from './lessontrace.test.js';

const stepped = () => reduce(reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() }), { type: 'events', events: sampleEvents() });

/** at replays a built-in lesson's trace until until(model, events) holds. */
function at(name, until) {
  let found = null;
  replay(lessonTraces().find((t) => t.name === name), (_b, events, m) => {
    if (until(m, events)) {
      found = m;
      return true;
    }
    return false;
  });
  assert.ok(found, `${name}: the trace never gets there`);
  return found;
}

/** flat undoes the panel's line layout: the formula as one chain. */
const flat = (t) => t.replace(/\\begin\{aligned\}|\\end\{aligned\}/g, '').replace(/ \\\\ &\\quad \+ /g, ' + ').replace(/ \\\\ &= /g, ' = ').replace(/ &= /g, ' = ').replace(/ &\\leftarrow /g, ' \\leftarrow ');

/** check evaluates a formula's checks: the arithmetic as shown gives the result as shown. */
function checked(f) {
  for (const c of f.checks ?? []) {
    const got = Function(`"use strict"; return (${c.js});`)();
    assert.equal(Number(sig(got, c.digits)), Number(c.shown), `${c.js} = ${got}, shown ${c.shown}`);
  }
  return { ...f, tex: flat(f.tex) };
}

test('sig writes significant digits, as a calculator shows them', () => {
  assert.equal(sig(0.3775, 6), '0.3775');
  assert.equal(sig(0.59326999, 6), '0.59327');
  assert.equal(sig(-0.0087713507, 3), '-0.00877');
  assert.equal(sig(12.658, 3), '12.7');
  assert.equal(sig(0.0000123456, 3), '1.23e-5');
  assert.equal(sig(2345678, 3), '2.35e6');
  assert.equal(sig(0, 3), '0');
  assert.equal(num(-0.5), '(-0.5)');
  assert.equal(num(1.5e-7), '1.5\\times10^{-7}');
  assert.equal(num(null), '?');
});

test('fit gives a factor more digits when the shown factors would not give the shown product', () => {
  // 0.0365 × 0.240 = 0.00876, but 0.0365 rounds from 0.03654…: at 3 digits
  // the factors would not give the product, at 4 they do.
  const a = 0.036541;
  const b = 0.24013;
  const f = fit([a, b], (x) => x[0] * x[1], a * b, 3);
  assert.ok(f.ok);
  const got = Number(sig(Number(sig(a, f.k)) * Number(sig(b, f.k)), f.r));
  assert.equal(got, Number(sig(a * b, f.r)));
});

test('a hidden neuron: backpropagation with every weight and downstream blame (worked example, h1)', () => {
  const m = at('worked-example', (x, ev) => ev.some((e) => e.type === 'backward' && e.layer === 0 && e.neuron === 0));
  const fs = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 }).map(checked);
  const sum = fs.find((f) => f.caption.startsWith('Backpropagation'));
  assert.match(sum.caption, /h1 feeds o1, o2/);
  // ∂L/∂a_h1 = w(h1→o1)·δ_o1 + w(h1→o2)·δ_o2 = 0.40 × 0.138499 + 0.50 × (−0.038098).
  assert.match(sum.tex, /\\sum_k w_\{kh\} \\, \\delta_k = 0\.4 \\times 0\.13849\d* \+ 0\.5 \\times \(-0\.03809\d*\) = 0\.03635\d*/);
  const dA = m.values.dA[0][0];
  assert.ok(Math.abs(dA - (0.4 * m.values.dZ[1][0] + 0.5 * m.values.dZ[1][1])) < 1e-12, 'the engine sends the same sum');
  const delta = fs.find((f) => f.tex.startsWith('\\delta'));
  // 0.0363503 × 0.241301 = 0.00877137…: the engine's 0.00877135 to five digits.
  assert.match(delta.tex, /= 0\.0363503 \\times 0\.241301 = 0\.0087714$/);
  // The diagram marks the two weights that carry the sum.
  assert.deepEqual(blameEdges(m, { kind: 'neuron', layer: 0, neuron: 0 }), [{ layer: 1, to: 0, from: 0 }, { layer: 1, to: 1, from: 0 }]);
  assert.deepEqual(blameEdges(m, { kind: 'neuron', layer: 1, neuron: 0 }), [], 'an output has no weights after it');
});

test('a wide layer folds its sum: three terms and the rest as one number', () => {
  const m = at('spiral', (x, ev) => ev.some((e) => e.type === 'backward' && e.layer === 0 && e.neuron === 0));
  const sum = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 }).map(checked).find((f) => f.caption.startsWith('Backpropagation'));
  assert.match(sum.tex, /\\underbrace\{[^}]*\}_\{\\text\{5 more terms\}\}/);
  assert.equal((sum.tex.match(/\\times/g) ?? []).length, 3);
  assert.match(sum.caption, /the last 5 terms added up into one number/);
});

test('softmax is written with every class', () => {
  const m = at('which-size', (x) => x.values.a[1].every((v) => v !== null));
  const f = checked(formulas(m, { kind: 'neuron', layer: 1, neuron: 0 })[1]);
  assert.match(f.tex, /\\dfrac\{e\^\{z_\{1\}\}\}\{\\sum_k e\^\{z_k\}\}/);
  // e^{z_S} over e^{z_S} + e^{z_M} + e^{z_L}, with the engine's totals
  // (−0.69930, 0.13632, −0.87900).
  assert.ok(f.tex.includes('\\dfrac{e^{-0.6993}}{e^{-0.6993} + e^{0.1363} + e^{-0.879}} = \\dfrac{0.497}{0.497 + 1.15 + 0.415} = 0.241'), f.tex);
  assert.match(f.caption, /\(S, M, L\)/);
  assert.doesNotMatch(f.tex, /softmax\(/);
  const sum = m.values.a[1].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-12);
});

test('each loss is the lesson\'s own, with its numbers', () => {
  // ½Σ with both outputs (the worked example).
  const we = at('worked-example', (x) => x.loss !== null);
  const [h] = lossFormulas(we).map(checked);
  assert.match(h.tex, /\\sum_k \\tfrac12 \(\\hat y_k - t_k\)\^2 = \\tfrac12 \(0\.751365 - 0\.01\)\^2 \+ \\tfrac12 \(0\.7729285 - 0\.99\)\^2 = 0\.274811 \+ 0\.02356 = 0\.298371/);
  // Mean squared error (the fixture's lesson).
  // (The fixture's loss value is ½-squared; an mse lesson's is the mean square.)
  const ms = { ...stepped(), loss: { value: 0.25, prediction: [2.5], target: [3] } };
  const [mse] = lossFormulas(ms).map(checked);
  assert.match(mse.tex, /\\tfrac1K \\sum_k/);
  assert.match(mse.tex, /\\tfrac1\{1\} \\big\[\(2\.5 - 3\)\^2\\big\] = 0\.25$/);
  // Cross-entropy with a sigmoid: the first cat, called a dog.
  const cd = at('cat-or-dog', (x) => x.loss !== null);
  const [ce] = lossFormulas(cd).map(checked);
  assert.match(ce.tex, /t_k \\ln \\hat y_k \+ \(1 - t_k\) \\ln\(1 - \\hat y_k\)/);
  // −ln(1 − 0.9206) = −ln 0.0794 = 2.533.
  assert.match(ce.tex, /= -\\ln\(1 - 0\.9206\) = 2\.53$/);
  assert.match(ce.caption, /The target is 0, so only ln\(1 − ŷ\) counts/);
  // Cross-entropy with softmax: only the right size's share.
  const ws = at('which-size', (x) => x.loss !== null);
  const [sm] = lossFormulas(ws).map(checked);
  assert.match(sm.tex, /-\\sum_k t_k \\ln \\hat y_k = -\\ln \\hat y_\{1\} = -\\ln 0\.241 = 1\.42/);
  assert.match(sm.caption, /Only the right class, S/);
});

test('sigmoid and cross-entropy: the chain rule, then the ŷ − t shortcut', () => {
  const m = at('cat-or-dog', (x, ev) => ev.some((e) => e.type === 'backward'));
  const fs = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 }).map(checked);
  const d = fs.find((f) => f.tex.startsWith('\\delta'));
  assert.match(d.tex, /\\frac\{\\partial L\}\{\\partial \\hat y\} \\cdot \\sigma'\(z\) = 12\.\d+ \\times 0\.073\d* = 0\.921 = \\hat y - t = 0\.921 - 0 = 0\.921/);
  assert.match(d.caption, /just ŷ − t/);
});

test('an input can be inspected', () => {
  const m = stepped();
  const [f] = formulas(m, { kind: 'neuron', layer: -1, neuron: 1 });
  assert.match(f.caption, /bedrooms is an input/);
  assert.equal(f.tex, 'a = x_{2} = 3');
  const fresh = reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });
  assert.match(formulas(fresh, { kind: 'neuron', layer: -1, neuron: 0 })[0].caption, /No example has come in yet/);
});

test('the update reproduces its numbers', () => {
  const m = stepped();
  const fs = formulas(m, { kind: 'weight', layer: 1, to: 0, from: 0 }).map(checked);
  // δ × the value coming in: −0.5 × 0.7558.
  assert.match(fs[0].tex, /= \(-0\.5\) \\times 0\.756 = -0\.378$/);
  // 0.4 − 0.5 × (−0.3779) = 0.58895.
  assert.match(fs[1].tex, /= 0\.4 - 0\.5 \\times \(-0\.378\) = 0\.589$/);
  assert.match(fs[1].caption, /It went up a lot from 0\.40 to 0\.59: a bigger weight makes this mistake smaller\./);
});

test('the loss micro-step shows the loss', () => {
  const m = at('worked-example', (x, ev) => ev.length === 1 && ev[0].type === 'loss');
  assert.deepEqual(defaultSelection(m), { kind: 'loss' });
  assert.match(formulas(m, defaultSelection(m))[0].caption, /^Loss:/);
});

test('default selection follows the last step', () => {
  const m = stepped();
  assert.deepEqual(defaultSelection(m), { kind: 'weight', layer: 1, to: 0, from: null });
  const one = reduce(m, { type: 'events', events: [{ type: 'forward', layer: 0, neuron: 1, z: 1, a: 0.7 }] });
  assert.deepEqual(defaultSelection(one), { kind: 'neuron', layer: 0, neuron: 1 });
  // A backward pass: the most blamed hidden neuron, where backpropagation shows.
  const back = reduce(m, { type: 'events', events: sampleEvents().filter((e) => e.type === 'backward') });
  assert.deepEqual(defaultSelection(back), { kind: 'neuron', layer: 0, neuron: 0 });
});

test('before the forward pass the formulas say what is missing', () => {
  const m = reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });
  const fs = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 });
  assert.match(fs[0].caption, /not been computed/);
});

test('a bias has its own chain rule, with ∂z/∂b = 1', () => {
  const m = stepped();
  const fs = formulas(m, { kind: 'weight', layer: 1, to: 0, from: null }).map(checked);
  assert.match(fs[0].tex, /\\frac\{\\partial L\}\{\\partial b\} = \\delta \\cdot \\frac\{\\partial z\}\{\\partial b\} = \(-0\.5\) \\times 1 = -0\.5/);
  assert.doesNotMatch(fs[0].tex, /partial w/);
  assert.match(fs[0].caption, /∂z\/∂b = 1/);
  assert.match(fs[1].tex, /^b \\leftarrow b - \\eta/);
  const w = formulas(m, { kind: 'weight', layer: 1, to: 0, from: 0 });
  assert.match(w[0].caption, /∂z\/∂w is the value coming in from/);
});

test('view.decimals sets the digits', () => {
  const six = at('worked-example', (x) => x.values.a[0][0] !== null);
  assert.equal(six.lesson.view.decimals, 6);
  assert.match(formulas(six, { kind: 'neuron', layer: 0, neuron: 0 }).map(checked)[1].tex, /= 0\.59327$/);
  const three = { ...six, lesson: { ...six.lesson, view: { ...six.lesson.view, decimals: 3 } } };
  assert.match(formulas(three, { kind: 'neuron', layer: 0, neuron: 0 }).map(checked)[1].tex, /= 0\.593$/);
});

test('long lines wrap into aligned lines that fit the panel', () => {
  const m = at('worked-example', (x, ev) => ev.some((e) => e.type === 'backward' && e.layer === 0 && e.neuron === 0));
  for (const f of formulas(m, { kind: 'neuron', layer: 0, neuron: 0 })) {
    const lines = f.tex.replace(/^\\begin\{aligned\}|\\end\{aligned\}$/g, '').split(' \\\\ ');
    for (const line of lines) assert.ok(width(line) <= 30, `too wide: ${line}`);
  }
  assert.equal(layout('a = 1'), 'a = 1');
  assert.match(layout('x = 0.123456 \\times 0.123456 + 0.654321 \\times 0.654321 = 0.443'), /^\\begin\{aligned\}x &= 0\.123456 \\times 0\.123456 \\\\ &\\quad \+ 0\.654321 \\times 0\.654321 \\\\ &= 0\.443\\end\{aligned\}$/);
});

test('the captions name an output labelled as a question as a word', () => {
  const s = houseState();
  s.network.outputs = ['dog?'];
  const m = reduce(reduce(initialModel(), { type: 'state', reason: 'load', state: s }), { type: 'events', events: sampleEvents() });
  const captions = [{ kind: 'neuron', layer: 1, neuron: 0 }, { kind: 'weight', layer: 1, to: 0, from: 0 }, { kind: 'weight', layer: 1, to: 0, from: null }, { kind: 'neuron', layer: 0, neuron: 0 }]
    .flatMap((sel) => formulas(m, sel).map((f) => f.caption));
  assert.ok(captions.some((c) => /\bdog\b/.test(c)), captions.join('\n'));
  for (const c of captions) assert.doesNotMatch(c, /dog\?/, c);
});

test('the loss caption writes a negative prediction with the minus sign', () => {
  const stepped = reduce(reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() }), { type: 'events', events: sampleEvents() });
  // house-prices' first house: guessed −0.504 (scaled) against 0.04.
  const m = { ...stepped, loss: { ...stepped.loss, value: 0.148, prediction: [-0.504], target: [0.04] } };
  const [f] = formulas(m, { kind: 'loss' });
  assert.match(f.caption, /^Loss: the prediction −0\.504 against the target 0\.04\./, f.caption);
  assert.doesNotMatch(f.caption, /-\d/, f.caption);
});
