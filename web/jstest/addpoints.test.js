import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lessonWithPoints } from '../../static/js/addpoints.js';
import { fromPixel, toPixel } from '../../static/js/charts.js';

const model = (features) => ({
  lesson: { title: 'Circle', network: { layers: [{ size: 4, activation: 'tanh' }, { size: 1, activation: 'sigmoid' }] }, data: { generator: 'circle', n: 4, ...(features ? { features } : {}) }, training: { batchSize: 10 } },
  network: { weights: [[[1, 2]], [[3]]], biases: [[0.5], [0.25]] },
  training: { loss: 'cross_entropy', optimizer: 'sgd', learningRate: 0.1, batchSize: 10 },
  data: {
    train: [
      { x: features ? [1, 4] : [1, 2], y: [1], point: [1, 2] },
      { x: features ? [9, 16] : [-3, 4], y: [0], point: [-3, 4] },
    ],
    test: [{ x: [0, 0], y: [1], point: [0, 0] }],
  },
});

test('lessonWithPoints adds the clicked points to the training set, keeping weights and features', () => {
  const l = lessonWithPoints(model(['x1^2', 'x2^2']), [{ x1: 2.345, x2: -1, label: 0 }]);
  assert.deepEqual(l.data.samples, [
    { x: [1, 2], y: [1] },
    { x: [-3, 4], y: [0] },
    { x: [2.35, -1], y: [0] },
  ]);
  assert.deepEqual(l.data.test, [{ x: [0, 0], y: [1] }]);
  assert.deepEqual(l.data.features, ['x1^2', 'x2^2']);
  assert.equal(l.data.generator, undefined);
  assert.deepEqual(l.network.weights, [[[1, 2]], [[3]]], 'training goes on from the weights now');
  assert.equal(l.training.batchSize, 3, 'a batch is at most the training set');
});

test('lessonWithPoints needs 2-D data', () => {
  const m = model();
  m.data.train = [{ x: [1, 2, 3], y: [1] }];
  assert.equal(lessonWithPoints(m, [{ x1: 0, x2: 0, label: 1 }]), null);
});

test('fromPixel undoes toPixel', () => {
  const p = toPixel([2, -3], [-6, 6], 300);
  assert.deepEqual(fromPixel(p.x, p.y, [-6, 6], 300).map((v) => Math.round(v * 1e9) / 1e9), [2, -3]);
  assert.deepEqual(fromPixel(-5, 400, [-6, 6], 300), [-6, -6], 'clamped to the plane');
});
