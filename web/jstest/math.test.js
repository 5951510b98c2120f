import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce } from '../../static/js/state.js';
import { formulas, defaultSelection, num, lossFormulas } from '../../static/js/math.js';
import { houseState, sampleEvents } from './fixture.test.js';

const stepped = () => reduce(reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() }), { type: 'events', events: sampleEvents() });

test('num brackets negatives and uses an ASCII minus', () => {
  assert.equal(num(0.74), '0.74');
  assert.equal(num(-0.5), '(-0.50)');
  assert.equal(num(null), '?');
});

test('the chain rule shows the real numbers', () => {
  const m = stepped();
  // weight hidden 1 → price: dA = -0.5, slope 1, a_in = 0.7558
  const fs = formulas(m, { kind: 'weight', layer: 1, to: 0, from: 0 });
  assert.equal(fs[0].tex, '\\begin{aligned}\\frac{\\partial L}{\\partial w} &= \\frac{\\partial L}{\\partial a} \\cdot \\frac{\\partial a}{\\partial z} \\cdot \\frac{\\partial z}{\\partial w} \\\\ &= (-0.50) \\times 1.00 \\times 0.76 = -0.38\\end{aligned}');
  // the update: 0.4 - 0.5 × (-0.3779) = 0.5889
  assert.equal(fs[1].tex, '\\begin{aligned}w &\\leftarrow w - \\eta \\, g \\\\ &= 0.40 - 0.500 \\times (-0.38) = 0.59\\end{aligned}');
  // A tiny gradient is written with the digits that show it, never 0.00.
  const tiny = structuredClone(m);
  tiny.updates = [{ layer: 1, to: 0, from: 0, bias: false, old: 0.2134, grad: -0.0041, new: 0.21381, batch: 1 }];
  tiny.training = { ...tiny.training, learningRate: 0.1 };
  const t = formulas(tiny, { kind: 'weight', layer: 1, to: 0, from: 0 })[1];
  assert.match(t.tex, /= 0\.213 - 0\.100 \\times \(-0\.00410\) = 0\.214/);
  assert.match(t.caption, /went up a little from 0\.213 to 0\.214: a bigger weight/);
  assert.match(fs[1].caption, /It went up a lot from 0\.40 to 0\.59: a bigger weight makes this mistake smaller\./);
});

test('neuron formulas show the sum and the activation', () => {
  const m = stepped();
  const fs = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 });
  assert.match(fs[0].tex, /&= 0\.15 \\times 1\.20 \+ 0\.20 \\times 3\.00 \+ 0\.35 \\\\ &= 1\.13\\end\{aligned\}$/);
  assert.equal(fs[1].tex, 'a = \\text{sigmoid}(z) = \\text{sigmoid}(1.13) = 0.76');
  assert.match(fs[2].tex, /= \(-0.20\) \\times 0.18 = -0.04$/);
});

test('the loss formula is the one that reproduces the value', () => {
  const m = stepped();
  const [f] = lossFormulas(m);
  assert.equal(f.tex, 'L = \\tfrac12 (\\hat y - t)^2 = \\tfrac12 (2.50 - 3.00)^2 = 0.125');
  const ce = { ...m, loss: { value: -Math.log(0.6), prediction: [0.6], target: [1] } };
  assert.match(lossFormulas(ce)[0].tex, /\\ln/);
});

test('default selection follows the last step', () => {
  const m = stepped();
  assert.deepEqual(defaultSelection(m), { kind: 'weight', layer: 1, to: 0, from: null });
  const one = reduce(m, { type: 'events', events: [{ type: 'forward', layer: 0, neuron: 1, z: 1, a: 0.7 }] });
  assert.deepEqual(defaultSelection(one), { kind: 'neuron', layer: 0, neuron: 1 });
});

test('before the forward pass the formulas say what is missing', () => {
  const m = reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });
  const fs = formulas(m, { kind: 'neuron', layer: 0, neuron: 0 });
  assert.match(fs[0].caption, /not been computed/);
});

test('a bias has its own chain rule, with ∂z/∂b = 1', () => {
  const m = stepped();
  const fs = formulas(m, { kind: 'weight', layer: 1, to: 0, from: null });
  assert.match(fs[0].tex, /\\frac\{\\partial L\}\{\\partial b\} &= .*\\frac\{\\partial z\}\{\\partial b\} \\\\ &= \(-0\.50\) \\times 1\.00 \\times 1 = -0\.50/);
  assert.doesNotMatch(fs[0].tex, /partial w/);
  assert.match(fs[0].caption, /∂z\/∂b = 1/);
  assert.match(fs[1].tex, /^\\begin\{aligned\}b &\\leftarrow b - \\eta/);
  // A weight keeps w, and its last factor is the value coming in.
  const w = formulas(m, { kind: 'weight', layer: 1, to: 0, from: 0 });
  assert.match(w[0].caption, /∂z\/∂w is the value coming in from/);
});
