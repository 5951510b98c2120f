import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce } from '../../static/js/state.js';
import { mistakeOf, classIndex } from '../../static/js/mistake.js';
import { houseState } from './fixture.test.js';

const loaded = () => reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });

test('no mistake before the loss is known', () => {
  assert.equal(mistakeOf(loaded()), null);
});

test('an amount: guess and truth in the lesson\'s units, the gap and the loss', () => {
  const m = loaded();
  const spec = { prefix: '$', scale: 100000, offset: 300000, decimals: 0 };
  m.lesson = { ...m.lesson, display: { outputs: [spec] } };
  m.sample = { index: 0, x: [0, 0, 0], y: [0.04] };
  m.loss = { value: 0.148, prediction: [-0.50413], target: [0.04] };
  m.data = { train: [{ y: [-1] }, { y: [1] }] };
  const k = mistakeOf(m);
  assert.equal(k.kind, 'amount');
  assert.equal(k.guess, 'guess $249,587');
  assert.equal(k.truth, 'truth $304,000');
  assert.equal(k.gap, 'off by $54,413');
  assert.equal(k.loss, 'loss 0.148');
  assert.deepEqual(k.axis, { lo: 200000, hi: 400000, guess: 249587, truth: 304000 });
});

test('a class: the guess with how sure, and the truth', () => {
  const m = loaded();
  m.lesson = { ...m.lesson, display: { outputs: [{ classes: ['cat', 'dog'] }] } };
  m.sample = { index: 0, x: [0, 0], y: [0] };
  m.loss = { value: 2.53, prediction: [0.92], target: [0] };
  const k = mistakeOf(m);
  assert.equal(k.guess, 'dog · 92% sure');
  assert.equal(k.truth, 'really: cat');
  assert.equal(k.right, false);
  assert.equal(k.gap, 'wrong: only 8% on cat');
  assert.equal(k.loss, 'loss 2.530');
  m.loss = { value: 0.2, prediction: [0.2, 0.7, 0.1], target: [0, 1, 0] };
  m.lesson = { ...m.lesson, display: { outputs: [{ classes: ['S', 'M', 'L'] }] } };
  m.sample = { index: 0, x: [0, 0], y: [0, 1, 0] };
  const s = mistakeOf(m);
  assert.equal(s.guess, 'M · 70% sure');
  assert.equal(s.truth, 'really: M');
  assert.equal(s.right, true);
});

test('classIndex', () => {
  assert.equal(classIndex([0.5]), 1);
  assert.equal(classIndex([0.49]), 0);
  assert.equal(classIndex([0.1, 0.3, 0.6]), 2);
});

test('several outputs: every output\'s gap is said, and the loss is over all of them', () => {
  // The worked example's first forward pass: o1 0.751365 for 0.01, o2
  // 0.772928 for 0.99; its loss ½Σ(ŷ − t)² is 0.298371.
  const m = loaded();
  m.lesson = { ...m.lesson, display: undefined };
  m.network = { ...m.network, outputs: ['o1', 'o2'] };
  m.sample = { index: 0, x: [0.05, 0.1], y: [0.01, 0.99] };
  m.loss = { value: 0.298371, prediction: [0.751365, 0.772928], target: [0.01, 0.99] };
  const k = mistakeOf(m);
  assert.equal(k.guess, 'o1: guess 0.75');
  assert.equal(k.gap, 'o1 off by 0.74, o2 off by 0.22');
  assert.equal(k.loss, 'loss 0.298 over both outputs');
});
