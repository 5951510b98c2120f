import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reaches, dueQuestions, choices, createResolver, meanLoss, outputNames, stopBefore } from '../../static/js/questions.js';

const questions = [
  { at: 'update', kind: 'weight', layer: 0, to: 0, from: 1, ask: 'Up or down?', why: 'Because.' },
  { at: 'update', kind: 'weight', layer: 0, to: 0, bias: true, ask: 'And the bias?' },
  { at: 'epoch', kind: 'loss', ask: 'Smaller after the epoch?' },
  { at: 'forward', kind: 'winner', ask: 'Which wins?' },
  { at: 'loss', kind: 'loss', ask: 'Small or big?' },
  { at: 'update', kind: 'loss', ask: 'Next example: bigger or smaller?' },
];

const network = {
  inputs: ['a', 'b'],
  outputs: ['dog?'],
  layers: [{ size: 1, activation: 'sigmoid' }],
  weights: [[[0.5, -0.5]]],
  biases: [[0]],
};

function model(extra = {}) {
  return {
    lesson: { questions },
    network,
    training: { loss: 'half_squared_error', batchSize: 2 },
    data: { train: [{ x: [1, 0], y: [1] }, { x: [0, 1], y: [0] }] },
    losses: [],
    loss: null,
    ...extra,
  };
}

test('reaches: the moments of the next step', () => {
  const set = (...xs) => new Set(xs);
  assert.deepEqual(reaches({ phase: 'forward', sample: 0, batchCount: 0 }, 'micro', 4, 2), set('forward'));
  assert.deepEqual(reaches({ phase: 'update', sample: 3, batchCount: 1 }, 'phase', 4, 2), set('update', 'epoch'));
  assert.deepEqual(reaches({ phase: 'forward', sample: 0, batchCount: 0 }, 'sample', 4, 2), set('forward', 'loss', 'backward'));
  assert.deepEqual(reaches({ phase: 'forward', sample: 1, batchCount: 1 }, 'sample', 4, 2), set('forward', 'loss', 'backward', 'update'));
  assert.deepEqual(reaches({ phase: 'forward', sample: 3, batchCount: 1 }, 'sample', 4, 2), set('forward', 'loss', 'backward', 'update', 'epoch'));
  assert.deepEqual(reaches({ phase: 'backward', sample: 0, batchCount: 0 }, 'sample', 4, 1), set('backward', 'update'));
  assert.deepEqual(reaches({ phase: 'forward', sample: 0, batchCount: 0 }, 'batch', 4, 2), set('forward', 'loss', 'backward', 'update'));
  assert.deepEqual(reaches({ phase: 'forward', sample: 2, batchCount: 0 }, 'batch', 4, 2), set('forward', 'loss', 'backward', 'update', 'epoch'));
  assert.deepEqual(reaches(null, 'epoch', 4, 2), set('forward', 'loss', 'backward', 'update', 'epoch'));
});

test('due questions, each asked once, in order', () => {
  assert.deepEqual(dueQuestions(questions, new Set(), new Set(['update'])), [0, 1, 5]);
  assert.deepEqual(dueQuestions(questions, new Set([0]), new Set(['update', 'epoch'])), [1, 2, 5]);
  assert.deepEqual(dueQuestions(undefined, new Set(), new Set(['update'])), []);
});

test('choices', () => {
  const m = model();
  assert.deepEqual(choices(questions[0], m).map((c) => c.value), ['up', 'down']);
  assert.deepEqual(choices(questions[2], m).map((c) => c.label), ['Smaller', 'Bigger']);
  assert.deepEqual(choices(questions[4], model({ training: { loss: 'cross_entropy' } })).map((c) => c.label), ['Small', 'Big']);
  const three = model({ network: { ...network, outputs: ['s', 'm', 'l'] }, lesson: { questions, display: { outputs: [{ classes: ['S', 'M', 'L'] }, {}, {}] } } });
  assert.deepEqual(choices(questions[3], three), [{ value: '0', label: 'S' }, { value: '1', label: 'M' }, { value: '2', label: 'L' }]);
  assert.deepEqual(outputNames(model()), ['dog?']);
});

test('weight: the matching update decides, right or wrong', () => {
  const r = createResolver(model(), 0, 'up');
  assert.equal(r.feed({ type: 'update', layer: 0, to: 0, from: 0, old: 1, new: 2 }), null, 'another weight');
  assert.equal(r.feed({ type: 'update', layer: 0, to: 0, bias: true, old: 1, new: 2 }), null, 'the bias');
  const a = r.feed({ type: 'update', layer: 0, to: 0, from: 1, old: -0.5, new: -0.6 });
  assert.equal(a.type, 'answer');
  assert.equal(a.answer, 'down');
  assert.equal(a.correct, false);
  assert.equal(a.why, 'Because.');
  assert.match(a.detail, /went down: −0\.5000 → −0\.6000/);
  const b = createResolver(model(), 1, 'up').feed({ type: 'update', layer: 0, to: 0, bias: true, old: 0, new: 0.1 });
  assert.equal(b.correct, true);
  assert.match(b.detail, /^The bias went up/);
});

test('loss at epoch: against the last epoch, or the loss at the start', () => {
  const m = model();
  const start = meanLoss(m.network, 'half_squared_error', m.data.train);
  const r = createResolver(m, 2, 'smaller');
  assert.equal(r.feed({ type: 'loss', value: 9 }), null);
  const a = r.feed({ type: 'epoch', epoch: 1, trainLoss: start - 0.01, testLoss: 0 });
  assert.equal(a.answer, 'smaller');
  assert.equal(a.correct, true);
  assert.equal(a.before, start);
  const later = createResolver(model({ losses: [{ epoch: 1, trainLoss: 0.1, testLoss: 0.2 }] }), 2, 'smaller');
  assert.equal(later.feed({ type: 'epoch', epoch: 2, trainLoss: 0.15 }).answer, 'bigger');
});

test('meanLoss follows the engine', () => {
  // sigmoid(0.5) = 0.6225, sigmoid(-0.5) = 0.3775; ½(1 − 0.6225)² = ½(0.3775)².
  const want = 0.5 * (1 - 1 / (1 + Math.exp(-0.5))) ** 2;
  assert.ok(Math.abs(meanLoss(network, 'half_squared_error', [{ x: [1, 0], y: [1] }, { x: [0, 1], y: [0] }]) - want) < 1e-12);
  // Cross-entropy with sigmoid: softplus(z) − t·z.
  assert.ok(Math.abs(meanLoss(network, 'cross_entropy', [{ x: [0, 0], y: [1] }]) - Math.log(2)) < 1e-12);
  const soft = { layers: [{ size: 3, activation: 'softmax' }], weights: [[[0], [0], [0]]], biases: [[0, 0, 0]] };
  assert.ok(Math.abs(meanLoss(soft, 'cross_entropy', [{ x: [1], y: [0, 1, 0] }]) - Math.log(3)) < 1e-12);
});

test('winner: the biggest output of the loss event', () => {
  const m = model({ network: { ...network, outputs: ['s', 'm', 'l'] } });
  const r = createResolver(m, 3, '2');
  assert.equal(r.feed({ type: 'forward', layer: 0, neuron: 0, z: 1, a: 0.2 }), null);
  const a = r.feed({ type: 'loss', value: 1, prediction: [0.2, 0.5, 0.3], target: [0, 1, 0] });
  assert.equal(a.answer, '1');
  assert.equal(a.winner, 1);
  assert.equal(a.correct, false);
  assert.match(a.detail, /^m won with 0\.500/);
});

test('loss at loss: against an even guess with cross-entropy', () => {
  const r = createResolver(model({ training: { loss: 'cross_entropy' } }), 4, 'bigger');
  const a = r.feed({ type: 'loss', value: 2.3, prediction: 0.9, target: 0 });
  assert.equal(a.answer, 'bigger');
  assert.equal(a.correct, true);
  assert.match(a.detail, /big, more than the 0\.69 of an even guess/);
});

test('loss at update: the next example, however many steps later', () => {
  const r = createResolver(model({ loss: { value: 5 } }), 5, 'bigger');
  assert.equal(r.feed({ type: 'loss', value: 1 }), null, 'this example, before the update');
  assert.equal(r.feed({ type: 'update', layer: 0, to: 0, from: 0, old: 1, new: 2 }), null);
  const a = r.feed({ type: 'loss', value: 3 });
  assert.equal(a.answer, 'bigger');
  assert.equal(a.before, 1);
  assert.equal(a.after, 3);
  assert.equal(a.correct, true);
});

test('not asked: no verdict', () => {
  const a = createResolver(model(), 0, null).feed({ type: 'update', layer: 0, to: 0, from: 1, old: 0, new: 1 });
  assert.equal(a.guess, null);
  assert.equal(a.correct, null);
});

test('stopBefore: ask after the moments that come before the question', () => {
  const qs = [{ at: 'update' }, { at: 'loss' }, { at: 'epoch' }, { at: 'forward' }];
  const pos = (phase) => ({ phase });
  assert.equal(stopBefore(qs, [0], pos('forward'), 'sample'), 'update');
  assert.equal(stopBefore(qs, [0, 1], pos('forward'), 'sample'), 'loss');
  assert.equal(stopBefore(qs, [0], pos('update'), 'sample'), null, 'already there');
  assert.equal(stopBefore(qs, [0], pos('forward'), 'batch'), 'update');
  assert.equal(stopBefore(qs, [3], pos('forward'), 'sample'), null, 'forward is the first moment');
  assert.equal(stopBefore(qs, [2], pos('forward'), 'sample'), null, 'epoch questions are asked before the step');
  assert.equal(stopBefore(qs, [0], pos('forward'), 'epoch'), null);
  assert.equal(stopBefore(qs, [0], pos('forward'), 'phase'), null, 'a phase step is already small');
});
