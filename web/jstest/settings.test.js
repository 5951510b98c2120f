import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingsOf, buildLesson } from '../../static/js/settings.js';
import { houseState } from './fixture.test.js';

function circle() {
  return {
    title: 'Circle',
    network: { inputs: ['x1', 'x2'], outputs: ['inside'], layers: [{ size: 3, activation: 'tanh' }, { size: 1, activation: 'sigmoid' }], weights: [[[1, 2], [3, 4], [5, 6]], [[1, 1, 1]]], biases: [[0, 0, 0], [0]] },
    data: { generator: 'circle', n: 200, noise: 0.1, testRatio: 0.5 },
    training: { loss: 'cross_entropy', optimizer: 'sgd', learningRate: 0.03, batchSize: 10, shuffle: true, momentum: 0, regularization: { kind: 'none', rate: 0 } },
  };
}

test('settingsOf reads a lesson', () => {
  const s = settingsOf(circle());
  assert.deepEqual(s.hidden, [3]);
  assert.equal(s.activation, 'tanh');
  assert.equal(s.generator, 'circle');
  assert.deepEqual(s.features, ['x1', 'x2']);
  assert.equal(s.regKind, 'none');
  const house = settingsOf(houseState().lesson);
  assert.equal(house.generator, null);
  assert.equal(house.features, null);
});

test('unchanged settings give the same lesson', () => {
  const l = circle();
  assert.deepEqual(buildLesson(l, settingsOf(l)), { ...l, training: { ...l.training } });
});

test('training changes keep the starting weights', () => {
  const l = circle();
  const s = settingsOf(l);
  s.learningRate = 0.3;
  s.regKind = 'l2';
  s.regRate = 0.01;
  const out = buildLesson(l, s);
  assert.equal(out.training.learningRate, 0.3);
  assert.deepEqual(out.training.regularization, { kind: 'l2', rate: 0.01 });
  assert.deepEqual(out.network.weights, l.network.weights);
  assert.equal(out.training.shuffle, true, 'other fields stay');
  assert.equal(l.training.learningRate, 0.03, 'the input is not changed');
});

test('shape changes drop the starting weights', () => {
  const l = circle();
  const s = settingsOf(l);
  s.hidden = [4, 2];
  const out = buildLesson(l, s);
  assert.deepEqual(out.network.layers, [{ size: 4, activation: 'tanh' }, { size: 2, activation: 'tanh' }, { size: 1, activation: 'sigmoid' }]);
  assert.equal(out.network.weights, undefined);
  assert.equal(out.network.biases, undefined);
});

test('features become the inputs', () => {
  const l = circle();
  const s = settingsOf(l);
  s.features = ['x1', 'x2', 'x1^2', 'x2^2'];
  s.noise = 0.3;
  const out = buildLesson(l, s);
  assert.deepEqual(out.data.features, ['x1', 'x2', 'x1^2', 'x2^2']);
  assert.deepEqual(out.network.inputs, ['x1', 'x2', 'x1^2', 'x2^2']);
  assert.equal(out.data.noise, 0.3);
  assert.equal(out.network.weights, undefined);
});

test('regularization none sends rate 0', () => {
  const l = circle();
  const s = settingsOf(l);
  s.regRate = 5;
  assert.deepEqual(buildLesson(l, s).training.regularization, { kind: 'none', rate: 0 });
});
