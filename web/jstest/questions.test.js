import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reaches, dueQuestions, choices, createResolver, meanLoss, outputNames, stopBefore, reached, firstGroup, reveal } from '../../static/js/questions.js';

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
  assert.deepEqual(outputNames(model()), ['dog'], 'as a word in a sentence');
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
  const pos = (phase, layer = 0) => ({ phase, layer });
  assert.deepEqual(stopBefore(qs, [0], pos('forward'), 'sample'), { phase: 'update' });
  assert.deepEqual(stopBefore(qs, [0, 1], pos('forward'), 'sample'), { phase: 'loss' });
  assert.equal(stopBefore(qs, [0], pos('update'), 'sample'), null, 'already there');
  assert.deepEqual(stopBefore(qs, [0], pos('forward'), 'batch'), { phase: 'update' });
  assert.equal(stopBefore(qs, [3], pos('forward'), 'sample'), null, 'no hidden layer: forward is the first moment');
  assert.equal(stopBefore(qs, [2], pos('forward'), 'sample'), null, 'epoch questions are asked before the step');
  assert.equal(stopBefore(qs, [0], pos('forward'), 'epoch'), null);
  assert.equal(stopBefore(qs, [0], pos('forward'), 'phase'), null, 'a phase step is already small');
  // With a hidden layer, a forward question waits until the example is in
  // and the hidden layer has its values: just before the output layer.
  assert.deepEqual(stopBefore(qs, [3], pos('forward'), 'sample', 2), { phase: 'forward', layer: 1 });
  assert.deepEqual(stopBefore(qs, [3], pos('forward'), 'micro', 2), { phase: 'forward', layer: 1 });
  assert.equal(stopBefore(qs, [3], pos('forward', 1), 'sample', 2), null, 'already there');
  assert.equal(reached(pos('forward', 1), { phase: 'forward', layer: 1 }), true);
  assert.equal(reached(pos('forward', 0), { phase: 'forward', layer: 1 }), false);
  assert.equal(reached(pos('update'), { phase: 'update' }), true);
});

test('firstGroup: one moment at a time, the epoch with the update that ends it', () => {
  const qs = [{ at: 'loss' }, { at: 'update' }, { at: 'update' }, { at: 'epoch' }, { at: 'forward' }];
  assert.deepEqual(firstGroup(qs, [0, 1, 2, 3]), [0]);
  assert.deepEqual(firstGroup(qs, [1, 2, 3]), [1, 2, 3]);
  assert.deepEqual(firstGroup(qs, [3, 4]), [4]);
  assert.deepEqual(firstGroup(qs, [3]), [3]);
});

test('winner: settled by the output layer, before the loss', () => {
  const m = model({ network: { ...network, outputs: ['s', 'm', 'l'], layers: [{ size: 2, activation: 'tanh' }, { size: 3, activation: 'softmax' }] } });
  const r = createResolver(m, 3, '1');
  assert.equal(r.feed({ type: 'forward', layer: 0, neuron: 0, z: 1, a: 0.9 }), null, 'a hidden neuron');
  assert.equal(r.feed({ type: 'forward', layer: 1, neuron: 0, z: 1, a: 0.2 }), null);
  assert.equal(r.feed({ type: 'forward', layer: 1, neuron: 1, z: 2, a: 0.5 }), null);
  const a = r.feed({ type: 'forward', layer: 1, neuron: 2, z: 1.5, a: 0.3 });
  assert.equal(a.answer, '1');
  assert.equal(a.correct, true);
});

test('a horizon of epochs: graded after that many epochs, never before', () => {
  const qs = [{ at: 'epoch', kind: 'loss', ask: 'Lower after 3 epochs?', horizon: { epochs: 3 }, answer: 'smaller', why: 'Downhill.' }];
  const m = model({ lesson: { questions: qs }, losses: [{ epoch: 1, trainLoss: 0.5 }] });
  const r = createResolver(m, 0, 'smaller');
  assert.equal(r.next(), 'epoch');
  assert.equal(r.limit(), 4);
  assert.equal(r.feed({ type: 'epoch', epoch: 2, trainLoss: 0.6 }), null, 'the first epoch of three');
  assert.equal(r.feed({ type: 'loss', value: 0.1 }), null);
  assert.equal(r.feed({ type: 'epoch', epoch: 3, trainLoss: 0.55 }), null);
  const a = r.feed({ type: 'epoch', epoch: 4, trainLoss: 0.4 });
  assert.equal(a.answer, 'smaller');
  assert.equal(a.correct, true);
  assert.match(a.detail, /Over 3 epochs the mean training loss shrank: 0\.5000 → 0\.4000/);
  assert.equal(a.why, 'Downhill.');
});

test('a threshold: yes as soon as the loss is below it, no after the horizon', () => {
  const qs = [{ at: 'epoch', kind: 'loss', ask: 'Below 0.1 within 3 epochs?', horizon: { epochs: 3, lossBelow: 0.1 }, answer: 'no', why: 'No: a straight line cannot.' }];
  const m = model({ lesson: { questions: qs } });
  assert.deepEqual(choices(qs[0], m).map((c) => c.value), ['yes', 'no']);
  const yes = createResolver(m, 0, 'no');
  assert.equal(yes.feed({ type: 'epoch', epoch: 1, trainLoss: 0.3 }), null);
  const a = yes.feed({ type: 'epoch', epoch: 2, trainLoss: 0.05 });
  assert.equal(a.answer, 'yes');
  assert.equal(a.correct, false);
  assert.match(a.detail, /^Yes: after 2 epochs the mean training loss was 0\.0500, below 0\.1000/);
  // The why explains "no": with "yes" it would contradict the numbers.
  assert.equal(a.why, null);
  const shown = reveal(a, qs[0]);
  assert.equal(shown.verdict, 'Not this time.');
  assert.equal(shown.why, null);
  assert.match(shown.note, /went differently/);
  const no = createResolver(m, 0, 'no');
  for (const e of [1, 2]) assert.equal(no.feed({ type: 'epoch', epoch: e, trainLoss: 0.69 }), null);
  const b = no.feed({ type: 'epoch', epoch: 3, trainLoss: 0.69 });
  assert.equal(b.answer, 'no');
  assert.equal(b.correct, true);
  const ok = reveal(b, qs[0]);
  assert.equal(ok.verdict, 'You were right.');
  assert.equal(ok.why, 'No: a straight line cannot.');
  assert.equal(ok.note, null);
});

test('reveal: a skipped question has no verdict, only what happened', () => {
  const a = createResolver(model(), 0, null).feed({ type: 'update', layer: 0, to: 0, from: 1, old: 0, new: 1 });
  const r = reveal(a, questions[0]);
  assert.equal(r.verdict, null);
  assert.match(r.detail, /went up/);
  assert.equal(r.why, 'Because.');
});
