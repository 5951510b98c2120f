import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce, restoreLesson, sampleGradient, findUpdate, normValues, updatesFromLast, expandEvent, betweenSamples } from '../../static/js/state.js';
import { houseState, sampleEvents, afterSampleEvents } from './fixture.test.js';

const loaded = () => reduce(initialModel(), { type: 'state', reason: 'load', state: houseState() });

test('hello records the session and opens the connection', () => {
  const m = reduce(initialModel(), { type: 'hello', protocol: 1, session: 'abc', resume: 'tok', limits: { maxLayers: 8 } });
  assert.equal(m.session, 'abc');
  assert.equal(m.connection, 'open');
  assert.equal(m.limits.maxLayers, 8);
});

test('state replaces the picture and fills empty values', () => {
  const m = loaded();
  assert.equal(m.reason, 'load');
  assert.deepEqual(m.values.z, [[null, null], [null]]);
  assert.equal(m.lesson.title, 'Guess, measure, adjust, repeat');
  assert.equal(m.canBack, false);
  assert.deepEqual(m.updates, []);
});

test('reduce does not mutate its input', () => {
  const m0 = loaded();
  const snapshot = structuredClone(m0);
  reduce(m0, { type: 'events', events: sampleEvents() });
  assert.deepEqual(m0, snapshot);
});

test('events patch values, loss and weights', () => {
  const m = reduce(loaded(), { type: 'events', id: '1', events: sampleEvents(), position: afterSampleEvents() });
  assert.equal(m.values.a[0][0], 0.7558);
  assert.equal(m.values.z[1][0], 2.5);
  assert.equal(m.values.dZ[0][1], -0.0325);
  assert.equal(m.values.slope[0][0], 0.1846);
  assert.deepEqual(m.loss, { value: 0.125, prediction: [2.5], target: [3] });
  assert.equal(m.network.weights[1][0][0], 0.58895);
  assert.equal(m.network.biases[1][0], 0.85);
  assert.equal(m.network.weights[0][0][0], 0.1721);
  assert.equal(m.updates.length, 3);
  assert.equal(m.canBack, true);
  assert.equal(m.sample.index, 0);
  assert.equal(m.position.updates, 1);
});

test('a new sample clears the previous values', () => {
  let m = reduce(loaded(), { type: 'events', events: sampleEvents() });
  m = reduce(m, { type: 'events', events: [{ type: 'sample', epoch: 0, index: 1, x: [1, 1], y: [2] }] });
  assert.deepEqual(m.values.a, [[null, null], [null]]);
  assert.equal(m.loss, null);
  assert.equal(m.sample.index, 1);
  assert.equal(m.updates.length, 3, 'the last update is kept until the next one');
});

test('epoch events grow the loss history', () => {
  let m = loaded();
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 1, trainLoss: 0.5, testLoss: 0.6 }] });
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 2, trainLoss: 0.4, testLoss: 0.5 }] });
  assert.deepEqual(m.losses.map((l) => l.epoch), [1, 2]);
});

test('progress frames patch weights and losses and mark running', () => {
  const w = [[[1, 1], [1, 1]], [[1, 1]]];
  const m = reduce(loaded(), { type: 'progress', position: { t: 50, epoch: 3 }, weights: w, biases: [[0, 0], [0]], losses: [{ epoch: 3, trainLoss: 0.1, testLoss: 0.2 }] });
  assert.equal(m.running, true);
  assert.deepEqual(m.network.weights, w);
  assert.equal(m.losses.length, 1);
  assert.equal(m.network.inputs[0], 'size');
  const paused = reduce(m, { type: 'state', reason: 'pause', state: houseState() });
  assert.equal(paused.running, false);
});

test('progress frames carry the latest example: its values, blames and loss', () => {
  const before = reduce(loaded(), { type: 'progress', position: { t: 5, epoch: 0 }, losses: [] });
  assert.deepEqual(before.values, loaded().values, 'a frame without an example leaves the values alone');
  const m = reduce(loaded(), {
    type: 'progress',
    position: { t: 90, epoch: 1, sample: 3, phase: 'forward', layer: 0, neuron: 0, batchCount: 0, updates: 9 },
    losses: [],
    sample: { index: 4, x: [0.5, -1], y: [0.25] },
    values: { a: [[0.1, null], [0.75]], dZ: [[0.01, -0.02], [0.5]] },
    sampleLoss: 0.125,
  });
  assert.deepEqual(m.sample, { index: 4, x: [0.5, -1], y: [0.25] });
  assert.deepEqual(m.values.a, [[0.1, null], [0.75]]);
  assert.deepEqual(m.values.dZ, [[0.01, -0.02], [0.5]]);
  assert.deepEqual(m.values.z, [[null, null], [null]], 'z is not sent while running');
  assert.deepEqual(m.loss, { value: 0.125, prediction: [0.75], target: [0.25] });
  assert.equal(m.updatedSinceForward, true, 'between examples after an update');
});

test('diverged stops running', () => {
  let m = reduce(loaded(), { type: 'running', running: true });
  m = reduce(m, { type: 'events', events: [{ type: 'diverged', reason: 'the loss became infinite' }] });
  assert.equal(m.running, false);
  assert.equal(m.diverged, 'the loss became infinite');
});

test('errors are kept until the next done', () => {
  let m = reduce(loaded(), { type: 'error', id: 3, code: 'at_start', message: 'nothing to undo' });
  assert.equal(m.error.code, 'at_start');
  m = reduce(m, { type: 'done', id: 4 });
  assert.equal(m.error, null);
});

test('boundary frames are stored without their type', () => {
  const m = reduce(loaded(), { type: 'boundary', grid: 2, domain: [-6, 6], output: 'AAAA', hidden: [['AAAA']], range: [0, 1] });
  assert.equal(m.boundary.grid, 2);
  assert.equal(m.boundary.type, undefined);
});

test('unknown frames leave the model alone', () => {
  const m = loaded();
  assert.equal(reduce(m, { type: 'surprise' }), m);
});

test('sampleGradient is dZ times the incoming activation', () => {
  const m = reduce(loaded(), { type: 'events', events: sampleEvents() });
  assert.ok(Math.abs(sampleGradient(m, 1, 0, 0) - -0.5 * 0.7558) < 1e-12);
  assert.ok(Math.abs(sampleGradient(m, 0, 0, 1) - -0.0369 * 3) < 1e-12);
  assert.equal(sampleGradient(m, 1, 0, null), -0.5);
  assert.equal(sampleGradient(loaded(), 1, 0, 0), null);
});

test('a step over several examples keeps each weight\'s last update, the one of the example it holds', () => {
  const second = [
    { type: 'sample', epoch: 0, index: 1, x: [1, 1], y: [2] },
    { type: 'update', layer: 1, to: 0, from: 0, old: 0.58895, grad: 0.1, new: 0.56895, batch: 1 },
    { type: 'epoch', epoch: 1, trainLoss: 0.5, testLoss: 0.6 },
  ];
  const m = reduce(loaded(), { type: 'events', events: [...sampleEvents(), ...second] });
  assert.equal(m.updates.length, 3, 'one update per weight');
  const u = findUpdate(m, 1, 0, 0);
  assert.deepEqual([u.old, u.grad, u.new], [0.58895, 0.1, 0.56895], 'old, gradient and new of the same update');
  assert.equal(findUpdate(m, 0, 0, 0).new, 0.1721, 'a weight the last example left alone keeps its update');
});

test('findUpdate finds weights and biases', () => {
  const m = reduce(loaded(), { type: 'events', events: sampleEvents() });
  assert.equal(findUpdate(m, 1, 0, 0).new, 0.58895);
  assert.equal(findUpdate(m, 1, 0, null).new, 0.85);
  assert.equal(findUpdate(m, 0, 1, 0), null);
});

test('updatesFromLast flattens a lastUpdate', () => {
  const lu = {
    old: { weights: [[[1, 2]]], biases: [[3]] },
    grad: { weights: [[[0.1, 0.2]]], biases: [[0.3]] },
    new: { weights: [[[0.9, 1.8]]], biases: [[2.7]] },
  };
  const us = updatesFromLast(lu);
  assert.equal(us.length, 3);
  assert.deepEqual(us[1], { layer: 0, to: 0, from: 1, bias: false, old: 2, grad: 0.2, new: 1.8, batch: undefined });
  assert.equal(us[2].bias, true);
  assert.deepEqual(updatesFromLast(null), []);
});

test('updatesFromLast takes the new values from the network, as the protocol sends them', () => {
  const lu = { old: { weights: [[[1, 2]]], biases: [[3]] }, grad: { weights: [[[0.1, 0.2]]], biases: [[0.3]] }, batch: 4 };
  const us = updatesFromLast(lu, { weights: [[[0.9, 1.8]]], biases: [[2.7]] });
  assert.deepEqual(us[1], { layer: 0, to: 0, from: 1, bias: false, old: 2, grad: 0.2, new: 1.8, batch: 4 });
  assert.equal(us[2].new, 2.7);
});

test('the position comes with the step\'s last events frame, not from the events', () => {
  let m = loaded();
  const evs = sampleEvents();
  // A big step split by size: the first frame has more:true and no position.
  m = reduce(m, { type: 'events', events: evs.slice(0, 4), more: true });
  assert.deepEqual(m.position, houseState().position);
  m = reduce(m, { type: 'events', events: evs.slice(4), position: afterSampleEvents() });
  assert.deepEqual(m.position, afterSampleEvents());
  assert.ok(betweenSamples(m.position));
});

test('normValues copes with null layers', () => {
  const v = normValues({ z: [null, [1]], a: [[0.5, null], [2]] }, houseState().network);
  assert.deepEqual(v.z, [[null, null], [1]]);
  assert.deepEqual(v.a, [[0.5, null], [2]]);
  assert.deepEqual(v.dZ, [[null, null], [null]]);
});

test('restoreLesson carries the current weights and settings', () => {
  let m = reduce(loaded(), { type: 'events', events: sampleEvents() });
  const lesson = restoreLesson(m);
  assert.deepEqual(lesson.network.weights, m.network.weights);
  assert.deepEqual(lesson.network.biases, m.network.biases);
  assert.equal(lesson.training.learningRate, 0.5);
  assert.equal(lesson.title, 'Guess, measure, adjust, repeat');
  assert.notEqual(lesson.network.weights, m.network.weights, 'a copy, not the model');
  assert.equal(restoreLesson(initialModel()), null);
});

test('compact events expand to the object form', () => {
  assert.deepEqual(expandEvent(['f', 0, 1, 0.35, 0.5866]), { type: 'forward', layer: 0, neuron: 1, z: 0.35, a: 0.5866 });
  assert.deepEqual(expandEvent(['u', 1, 0, -1, 0.6, -0.5, 0.85, 1]), { type: 'update', layer: 1, to: 0, bias: true, old: 0.6, grad: -0.5, new: 0.85, batch: 1 });
  // The same bytes as netstep trace prints, key order included.
  assert.equal(JSON.stringify(expandEvent(['u', 1, 0, -1, 0.6, -0.5, 0.85, 1])), '{"type":"update","layer":1,"to":0,"bias":true,"old":0.6,"grad":-0.5,"new":0.85,"batch":1}');
  assert.equal(JSON.stringify(expandEvent(['b', 1, 0, -0.5, -0.5])), '{"type":"backward","layer":1,"neuron":0,"dA":-0.5,"dZ":-0.5}');
  assert.deepEqual(expandEvent(['e', 3, 0.2]), { type: 'epoch', epoch: 3, trainLoss: 0.2 });
  assert.deepEqual(expandEvent(['b', 0, 0, -0.2, -0.04]), { type: 'backward', layer: 0, neuron: 0, dA: -0.2, dZ: -0.04 });
  const obj = { type: 'loss', value: 1 };
  assert.equal(expandEvent(obj), obj);
  const compact = sampleEvents().map((e) => {
    switch (e.type) {
      case 'sample': return ['s', e.epoch, e.index, e.x, e.y];
      case 'forward': return ['f', e.layer, e.neuron, e.z, e.a];
      case 'loss': return ['l', e.index, e.value, e.prediction, e.target];
      case 'backward': return ['b', e.layer, e.neuron, e.dA, e.dZ, e.slope];
      default: return ['u', e.layer, e.to, e.bias ? -1 : e.from, e.old, e.grad, e.new, e.batch];
    }
  });
  const a = reduce(loaded(), { type: 'events', events: compact });
  const b = reduce(loaded(), { type: 'events', events: sampleEvents() });
  assert.deepEqual(a.values, b.values);
  assert.deepEqual(a.network, b.network);
  assert.deepEqual(a.updates.map((u) => u.new), b.updates.map((u) => u.new));
});
