import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce } from '../../static/js/state.js';
import { inspect } from '../../static/js/inspector.js';
import { neuronRows, weightRows } from '../../static/js/table.js';
import { houseState, sampleEvents } from './fixture.test.js';
import { MINUS } from '../../static/js/format.js';

const stepped = () => reduce(reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() }), { type: 'events', events: sampleEvents() });

test('inspecting a neuron shows all its numbers', () => {
  const info = inspect(stepped(), { kind: 'neuron', layer: 0, neuron: 0 });
  assert.equal(info.title, 'Hidden neuron 1');
  const rows = Object.fromEntries(info.rows);
  assert.equal(rows['z (weighted sum)'], '1.13');
  assert.equal(rows['a (output)'], '0.76');
  assert.equal(rows['∂L/∂z (blame)'], MINUS + '0.04');
  assert.deepEqual(info.edit, { layer: 0, to: 0, from: null, value: 0.35 });
});

test('inspecting a weight shows gradient and update', () => {
  const info = inspect(stepped(), { kind: 'weight', layer: 1, to: 0, from: 0 });
  assert.equal(info.title, 'Weight h1 → price');
  const rows = Object.fromEntries(info.rows);
  assert.equal(rows.weight, '0.5889');
  assert.equal(rows['last update'], '0.4000 → 0.5889');
  assert.equal(rows.so, 'it went up a lot from 0.40 to 0.59: a bigger weight makes this mistake smaller');
  assert.equal(info.edit.from, 0);
});

test('inputs show the example in real units', () => {
  const info = inspect(stepped(), { kind: 'neuron', layer: -1, neuron: 0 });
  assert.equal(info.title, 'Input: size');
  assert.deepEqual(info.rows, [['value', '1.20'], ['in real units', '120 m²']]);
  assert.equal(info.edit, null);
});

test('the table has a row for every neuron and weight', () => {
  const m = stepped();
  const n = neuronRows(m);
  assert.equal(n.length, 5);
  assert.deepEqual(n[0].slice(0, 3), ['size', 'input', '1.20']);
  assert.deepEqual(n[4].slice(0, 3), ['price', 'output', '2.50']);
  const w = weightRows(m);
  assert.equal(w.length, 6);
  assert.deepEqual(w[4].slice(0, 3), ['h1', 'price', '0.5889']);
});

test('an output in real units shows the guess and the target in them', () => {
  const m = reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });
  m.lesson = { ...m.lesson, display: { outputs: [{ prefix: '$', scale: 100000, offset: 300000, decimals: 0 }] } };
  m.sample = { index: 0, x: [0, 0, 0], y: [0.04] };
  const last = m.network.layers.length - 1;
  m.values = { ...m.values, a: m.values.a.map((r, l) => (l === last ? [-0.5] : r)) };
  const info = inspect(m, { kind: 'neuron', layer: last, neuron: 0 });
  const rows = Object.fromEntries(info.rows);
  assert.equal(rows['the guess in real units'], '$250,000');
  assert.equal(rows.target, '$304,000 (the network sees 0.04)');
});
