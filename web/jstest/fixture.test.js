// fixture.test.js: shared test data, a tiny 2-2-1 house-price network in the
// protocol's shapes. Imported by the other tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';

export function houseState() {
  return {
    lesson: {
      title: 'Guess, measure, adjust, repeat',
      intro: 'A network guesses house prices.',
      notes: [
        { at: 'loss', say: 'The loss measures how wrong the guess was.' },
        { at: 'start', say: 'Press Step.' },
      ],
      glossary: [{ term: 'weight', meaning: 'how much one neuron listens to another' }],
      display: {
        inputs: [{ unit: 'm²', scale: 100, offset: 0, decimals: 0 }, { unit: 'bedrooms', scale: 1, offset: 0, decimals: 0 }],
        outputs: [{ prefix: '$', unit: '', scale: 100000, offset: 0, decimals: 0 }],
      },
      network: { inputs: ['size', 'bedrooms'], outputs: ['price'], layers: [{ size: 2, activation: 'sigmoid' }, { size: 1, activation: 'linear' }], weights: [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6]]], biases: [[0, 0], [0]] },
      training: { loss: 'mse', optimizer: 'sgd', learningRate: 0.1, batchSize: 1 },
    },
    network: {
      inputs: ['size', 'bedrooms'],
      outputs: ['price'],
      layers: [{ size: 2, activation: 'sigmoid' }, { size: 1, activation: 'linear' }],
      weights: [[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45]]],
      biases: [[0.35, 0.35], [0.6]],
    },
    training: { loss: 'mse', optimizer: 'sgd', learningRate: 0.5, batchSize: 1, shuffle: false, momentum: 0, regularization: { kind: 'none', rate: 0 } },
    data: { train: [{ x: [1.2, 3], y: [3] }], test: [] },
    position: { t: 0, epoch: 0, sample: 0, phase: 'forward', layer: 0, neuron: 0, batchCount: 0, updates: 0 },
    sample: null,
    values: null,
    loss: null,
    grads: null,
    lastUpdate: null,
    losses: [],
    canBack: false,
    diverged: null,
  };
}

/** The position after sampleEvents (one example, batch size 1: its update done). */
export function afterSampleEvents() {
  return { t: 9, epoch: 1, sample: 0, phase: 'forward', layer: 0, neuron: 0, batchCount: 0, updates: 1 };
}

/** A whole sample step's events for houseState. */
export function sampleEvents() {
  return [
    { type: 'sample', epoch: 0, index: 0, x: [1.2, 3], y: [3] },
    { type: 'forward', layer: 0, neuron: 0, z: 1.13, a: 0.7558 },
    { type: 'forward', layer: 0, neuron: 1, z: 1.55, a: 0.8249 },
    { type: 'forward', layer: 1, neuron: 0, z: 2.5, a: 2.5 },
    { type: 'loss', index: 0, value: 0.125, prediction: [2.5], target: [3] },
    { type: 'backward', layer: 1, neuron: 0, dA: -0.5, dZ: -0.5, slope: 1 },
    { type: 'backward', layer: 0, neuron: 0, dA: -0.2, dZ: -0.0369, slope: 0.1846 },
    { type: 'backward', layer: 0, neuron: 1, dA: -0.225, dZ: -0.0325, slope: 0.1444 },
    { type: 'update', layer: 0, to: 0, from: 0, old: 0.15, grad: -0.0443, new: 0.1721, batch: 1 },
    { type: 'update', layer: 1, to: 0, from: 0, old: 0.4, grad: -0.3779, new: 0.58895, batch: 1 },
    { type: 'update', layer: 1, to: 0, bias: true, old: 0.6, grad: -0.5, new: 0.85, batch: 1 },
  ];
}

test('fixture is well formed', () => {
  assert.equal(houseState().network.layers.length, 2);
});
