import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialModel, reduce } from '../../static/js/state.js';
import { narrate, narrateSoFar, lossSentence, direction, neuronName, updateSentence, sizeWord, overfitSentence, fillIn } from '../../static/js/narrate.js';
import { houseState, sampleEvents } from './fixture.test.js';
import { MINUS } from '../../static/js/format.js';

const loaded = (s = houseState()) => reduce(initialModel(), { type: 'state', reason: 'load', state: s });
const afterEvents = (events, s) => reduce(loaded(s), { type: 'events', events });

test('regression loss is in the lesson units', () => {
  const m = loaded();
  assert.equal(
    lossSentence(m, { value: 0.125, prediction: [2.5], target: [3] }),
    'Predicted $250,000, actual $300,000: off by $50,000. The loss is 0.125.',
  );
});

function catDog() {
  const s = houseState();
  s.lesson.display = { inputs: [], outputs: [{ classes: ['cat', 'dog'] }] };
  s.network.outputs = ['dog?'];
  return s;
}

test('classification speaks of confidence', () => {
  const m = loaded(catDog());
  assert.equal(
    lossSentence(m, { value: 0.51, prediction: [0.6], target: [1] }),
    'I think this is a dog, 60% sure. It is a dog: right, but not yet sure. The loss is 0.510.',
  );
  assert.equal(
    lossSentence(m, { value: 2.3, prediction: [0.9], target: [0] }),
    'I think this is a dog, 90% sure. It is actually a cat: wrong and confident, so the loss is big. The loss is 2.300.',
  );
  assert.match(lossSentence(m, { value: 0.1, prediction: [0.1], target: [0] }), /^I think this is a cat, 90% sure\. It is a cat: right\./);
});

test('softmax classes use the biggest output', () => {
  const s = catDog();
  s.lesson.display.outputs[0].classes = ['apple', 'pear', 'plum'];
  const m = loaded(s);
  assert.match(lossSentence(m, { value: 1, prediction: [0.2, 0.7, 0.1], target: [1, 0, 0] }), /^I think this is a pear, 70% sure\. It is actually an apple: wrong\./);
});

test('direction says what happened and why, with the sign of new − old', () => {
  assert.equal(direction({ old: 0.5, new: 0.51, grad: -0.1 }), 'went up a little from 0.50 to 0.51: a bigger weight makes this mistake smaller');
  assert.equal(direction({ old: 0.5, new: 0.4, grad: 1 }), 'went down from 0.50 to 0.40: a smaller weight makes this mistake smaller');
  assert.equal(direction({ old: 0.5, new: 1.5, grad: -10 }), 'went up a lot from 0.50 to 1.50: a bigger weight makes this mistake smaller');
  assert.equal(direction({ old: 0.3, new: 0.3, grad: 0 }), 'stayed at 0.30: its gradient is 0, so changing it would not change this mistake');
  assert.equal(direction({ old: -0.46, new: -0.41, grad: -0.5 }, 'bias'), `went up from ${MINUS}0.46 to ${MINUS}0.41: a bigger bias makes this mistake smaller`);
  assert.equal(direction({ old: 0.3, new: 0.25, grad: 0.5, batch: 10 }, 'bias'), 'went down from 0.30 to 0.25: a smaller bias makes the mistakes on these 10 examples smaller');
  // A change too small for two decimals gets the digits to show it.
  assert.equal(direction({ old: 0.2134, new: 0.2138, grad: -0.004 }), 'went up a little from 0.213 to 0.214: a bigger weight makes this mistake smaller');
  // Momentum can carry a weight against this gradient: no why then.
  assert.equal(direction({ old: 0.5, new: 0.6, grad: 0.1 }), 'went up from 0.50 to 0.60');
});

test('a sample step tells the loss and the biggest update, and the lesson note', () => {
  const n = narrate(afterEvents(sampleEvents()));
  assert.equal(n.phase, 'update');
  assert.match(n.text, /^Predicted \$250,000, actual \$300,000: off by \$50,000\./);
  assert.match(n.text, /The biggest change: the bias of the price output went up from 0\.60 to 0\.85: a bigger bias makes this mistake smaller\./);
});

test('the loss note shows when the step stops at the loss', () => {
  const events = sampleEvents().filter((e) => e.type !== 'update' && e.type !== 'backward');
  const n = narrate(afterEvents(events));
  assert.equal(n.phase, 'loss');
  assert.equal(n.note, 'The loss measures how wrong the guess was.');
});

test('single micro-steps name the neuron and its numbers', () => {
  const f = narrate(afterEvents([{ type: 'forward', layer: 0, neuron: 1, z: 1.55, a: 0.8249 }]), { math: true });
  assert.equal(f.text, 'Hidden neuron 2 adds up its weighted inputs and bias: z = 1.55. Then sigmoid turns that into a = 0.82.');
  // With the math off: a total and what the activation makes of it, no symbols.
  const fPlain = narrate(afterEvents([{ type: 'forward', layer: 0, neuron: 1, z: 1.55, a: 0.8249 }]));
  assert.equal(fPlain.text, 'Hidden neuron 2 adds up its weighted inputs and bias into a total of 1.55. Then sigmoid turns that total into 0.82.');
  // The output's blame: one sentence, its number named as a blame.
  const out = narrate(afterEvents([{ type: 'backward', layer: 1, neuron: 0, dA: -0.5, dZ: -0.5, slope: 1 }]));
  assert.equal(out.text, `Blame starts at the price output, a blame of ${MINUS}0.50: its total was too small, so a bigger total would lower the loss.`);
  const b = narrate(afterEvents([{ type: 'backward', layer: 0, neuron: 0, dA: -0.2, dZ: -0.0369, slope: 0.1846 }]), { math: true });
  assert.equal(b.text, `Blame reaches hidden neuron 1: ∂L/∂a = ${MINUS}0.20, times the activation's slope 0.18, gives ∂L/∂z = ${MINUS}0.04.`);
  // With the math off: plain words, no ∂.
  const plain = narrate(afterEvents([{ type: 'backward', layer: 0, neuron: 0, dA: -0.2, dZ: -0.0369, slope: 0.1846 }]));
  assert.equal(plain.text, `Blame reaches hidden neuron 1, sent back from the neurons it feeds along its weights: ${MINUS}0.20 on its output, times how steeply its activation responds (0.18), gives a blame of ${MINUS}0.04.`);
  const u = narrate(afterEvents([{ type: 'update', layer: 1, to: 0, from: 1, old: 0.45, grad: -0.01, new: 0.455, batch: 1 }]));
  assert.equal(u.text, 'Update: The weight from hidden neuron 2 to the price output went up a little from 0.45 to 0.46: a bigger weight makes this mistake smaller.');
});

test('sample and epoch steps', () => {
  const s = narrate(afterEvents([{ type: 'sample', epoch: 0, index: 4, x: [1.2, 3], y: [3] }]));
  assert.equal(s.text, 'Next example (#5): size 120 m², 3 bedrooms; the answer should be $300,000.');
  let m = loaded();
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 1, trainLoss: 0.5, testLoss: 0.6 }] });
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 2, trainLoss: 0.4, testLoss: 0.55 }] });
  assert.equal(narrate(m).text, 'Epoch 2 done: every training example has been seen. Training loss 0.400, down from 0.500; test loss 0.550.');
});

test('state reasons', () => {
  assert.match(narrate(loaded()).text, /^Ready\. Press Step/);
  assert.equal(narrate(loaded()).note, 'Press Step.');
  const back = reduce(loaded(), { type: 'state', reason: 'back', state: houseState() });
  assert.match(narrate(back).text, /^Went back one step/);
  assert.equal(narrate(initialModel()).text, '');
});

test('divergence is explained', () => {
  const n = narrate(afterEvents([{ type: 'diverged', reason: 'the loss grew past 1e6' }]));
  assert.match(n.text, /^Training stopped: the loss grew past 1e6\. Go Back/);
  assert.equal(n.phase, 'diverged');
});

test('neuron names', () => {
  const net = houseState().network;
  assert.equal(neuronName(net, -1, 0), 'size');
  assert.equal(neuronName(net, 0, 1), 'hidden neuron 2');
  assert.equal(neuronName(net, 1, 0), 'the price output');
  const deep = { ...net, layers: [{ size: 2 }, { size: 2 }, { size: 1 }] };
  assert.equal(neuronName(deep, 1, 0), 'hidden neuron 1 of layer 2');
});

test('updateSentence picks the biggest change', () => {
  const m = loaded();
  const text = updateSentence(m, [
    { layer: 0, to: 0, from: 0, bias: false, old: 0.1, new: 0.11, grad: -0.1 },
    { layer: 0, to: 1, from: 1, bias: false, old: 0.3, new: 0.2, grad: 1 },
  ]);
  assert.match(text, /weight from bedrooms to hidden neuron 2 went down from 0\.30 to 0\.20: a smaller weight makes this mistake smaller\./);
});

test('a step that starts a new example shows the sample note before the note of where it stopped', () => {
  const lesson = { ...houseState().lesson, notes: [{ at: 'sample', say: 'A new house.' }, { at: 'forward', say: 'Forward.' }, { at: 'update', say: 'Adjust.' }, { at: 'epoch', say: 'Epoch.' }] };
  const withNotes = (events) => {
    const m = reduce(initialModel(), { type: 'state', reason: 'load', state: { ...houseState(), lesson } });
    return narrate(reduce(m, { type: 'events', events }));
  };
  const phase = sampleEvents().filter((e) => e.type === 'sample' || e.type === 'forward');
  assert.equal(withNotes(phase).note, 'A new house.\nForward.');
  assert.equal(withNotes(sampleEvents()).note, 'A new house.\nAdjust.');
  assert.equal(withNotes([{ type: 'sample', epoch: 0, index: 4, x: [1.2, 3], y: [3] }]).note, 'A new house.');
  // Within an example there is no new sample: only the phase's note.
  assert.equal(withNotes(sampleEvents().filter((e) => e.type === 'update')).note, 'Adjust.');
});

test('an epoch without a test set does not print a dash for its test loss', () => {
  const m = reduce(loaded(), { type: 'events', events: [{ type: 'epoch', epoch: 1, trainLoss: 0.28 }] });
  assert.equal(narrate(m).text, 'Epoch 1 done: every training example has been seen. Training loss 0.280 (this lesson keeps no examples back for a test).');
});

test('small steps taken up to a question are summed up: the guess, the loss and the blame', () => {
  const events = sampleEvents().filter((e) => e.type !== 'update');
  // The page stepped phase by phase: the last small step was the backward pass.
  const last = narrate(afterEvents(events.filter((e) => e.type === 'backward')));
  assert.doesNotMatch(last.text, /Predicted/);
  const n = narrateSoFar(afterEvents(events.filter((e) => e.type === 'backward')), events);
  assert.match(n.text, /^Up to here: Predicted \$250,000, actual \$300,000: off by \$50,000\. The loss is [0-9.]+\. Backward pass: the blame flowed right to left\./);
});

test("the engine's divergence reason is said once, with one full stop", () => {
  const reason = 'Training stopped in epoch 5, sample 4: the loss became too large to represent (infinite or not a number). The learning rate (5) is so large that each update overshoots. Go back or reset, and try a smaller learning rate such as 0.5.';
  const n = narrate(afterEvents([{ type: 'diverged', reason }]));
  assert.equal(n.text, reason);
});

test('narrate: a page that joins a session under way says where training is', () => {
  const start = reduce(initialModel(), { type: 'state', reason: 'state', state: houseState() });
  assert.match(narrate(start).text, /^Ready\. Press Step/);
  const s = houseState();
  const later = reduce(initialModel(), { type: 'state', reason: 'state', state: { ...s, position: { ...s.position, t: 9, epoch: 0, sample: 0, updates: 1 } } });
  assert.match(narrate(later).text, /^Here is where training is: epoch 1, example 1 of \d+, 1 update so far\.$/);
});

test('with the math off a backward pass is told in plain words', () => {
  const events = sampleEvents().filter((e) => e.type === 'backward');
  const plain = narrate(afterEvents(events)).text;
  assert.doesNotMatch(plain, /∂/);
  assert.match(plain, /The price output gets a blame of −0\.50: its total was too small, so a bigger total would lower the loss\./);
  assert.match(narrate(afterEvents(events), { math: true }).text, /∂L\/∂z/);
});

test('how big a change is depends on its size', () => {
  // −0.10 → −0.07 is a small change for a weight: not "a lot".
  assert.doesNotMatch(direction({ old: -0.1, new: -0.07, grad: -0.3 }), /a lot/);
  assert.equal(sizeWord(-0.1, -0.07), '');
  assert.equal(sizeWord(0.5, 0.51), ' a little');
  // −0.46 → 2.26 is big, and the update says some steps were big.
  assert.match(direction({ old: -0.46, new: 2.26, grad: -0.54 }, 'bias'), /^went up a lot from −0\.46 to 2\.26/);
  const m = { ...loaded(), training: { ...loaded().training, learningRate: 5 } };
  const text = updateSentence(m, [
    { layer: 1, to: 0, bias: true, from: null, old: -0.46, grad: -0.544, new: 2.26, batch: 1 },
    { layer: 1, to: 0, from: 0, bias: false, old: 0.2, grad: 0.01, new: 0.15, batch: 1 },
  ]);
  assert.match(text, /each by 5 \(the learning rate\) times its gradient\. Some steps were big\./);
  const slow = updateSentence({ ...m, training: { ...m.training, learningRate: 0.03 } }, [{ layer: 1, to: 0, bias: true, from: null, old: 0.5, grad: 0.1, new: 0.497, batch: 1 }, { layer: 1, to: 0, from: 0, bias: false, old: 0.2, grad: 0.01, new: 0.1997, batch: 1 }]);
  assert.match(slow, /each by 0\.03 \(the learning rate\)/);
  assert.doesNotMatch(text, /small step/);
});

test('an epoch: digits enough to see the change, and overfitting named', () => {
  let m = loaded();
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 1, trainLoss: 0.0031, testLoss: 0.2 }] });
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 2, trainLoss: 0.0029, testLoss: 0.2 }] });
  assert.match(narrate(m).text, /Training loss 0\.0029, down from 0\.0031/);
  m = reduce(m, { type: 'events', events: [{ type: 'epoch', epoch: 3, trainLoss: 0.0029, testLoss: 0.2 }] });
  assert.match(narrate(m).text, /Training loss 0\.003, unchanged/);
  // Training loss falling, test loss up from its lowest: overfitting.
  let o = loaded();
  const hist = [[1, 0.6, 0.62], [2, 0.4, 0.45], [3, 0.2, 0.3], [4, 0.1, 0.25], [5, 0.05, 0.27], [6, 0.02, 0.3]];
  for (const [epoch, trainLoss, testLoss] of hist) o = reduce(o, { type: 'events', events: [{ type: 'epoch', epoch, trainLoss, testLoss }] });
  assert.match(narrate(o).text, /The test loss has risen from its lowest, 0\.250 after epoch 4, while the training loss kept falling \(0\.100 → 0\.020\): the network is overfitting/);
  const e = o.losses[o.losses.length - 1];
  assert.equal(overfitSentence({ ...o, losses: o.losses.slice(0, 4) }, o.losses[3]), '', 'still improving');
  assert.ok(e);
});

test('Back re-narrates where it lands, counting from 1', () => {
  const st = houseState();
  st.position = { ...st.position, epoch: 0, sample: 1 };
  const back = reduce(loaded(), { type: 'state', reason: 'back', state: st });
  assert.match(narrate(back).text, /^Went back one step, to epoch 1, example 2 of 1\.|^Went back one step, to epoch 1, example 1 of 1\./);
  assert.doesNotMatch(narrate(back).text, /sample|epoch 0/);
});

test('notes follow the live settings', () => {
  const m = loaded();
  const lesson = { ...m.lesson, notes: [{ at: 'start', say: 'Learning rate {learningRate}, batches of {batchSize}, {unknown} stays.' }] };
  const n = narrate({ ...m, lesson, training: { ...m.training, learningRate: 0.5, batchSize: 4 } });
  assert.equal(n.note, 'Learning rate 0.5, batches of 4, {unknown} stays.');
  assert.equal(fillIn('by {learningRate} times', { training: { learningRate: 5 } }), 'by 5 times');
});

test('Play says how far training is and whether the loss is falling, in the position line\'s counts', () => {
  const losses = (values) => values.map((v, i) => ({ epoch: i, trainLoss: v, testLoss: null }));
  const m = (over) => ({ ...loaded(), reason: 'progress', position: { t: 9, epoch: 83443, sample: 2, updates: 2503295 }, ...over });
  assert.equal(
    narrate(m({ losses: losses([0.5, 0.4]) })).text,
    'Training: epoch 83,444. Training loss 0.400 after epoch 1: falling, down 20% over the last epoch.',
  );
  assert.match(narrate(m({ losses: losses([0.5]) })).text, /loss before training is 0\.500; the first epoch's loss comes when it ends\.$/);
  assert.match(narrate(m({ losses: losses([1, 2, 4]) })).text, /rising, up 300% over the last 2 epochs\. A rising loss means/);
  assert.match(narrate(m({ losses: losses([0.3, 0.3, 0.3001]) })).text, /hardly changing, within 1% over the last 2 epochs\.$/);
  assert.match(narrate(m({ losses: losses(Array.from({ length: 30 }, (_, i) => 1 / (i + 1))) })).text, /over the last 10 epochs/);
  assert.equal(narrate(m({ reason: 'pause', losses: [] })).text, 'Paused in epoch 83,444 after 2,503,295 updates. The loss is measured at the end of each epoch.');
  // Faster than the sentence changes, the epoch is the position line's to
  // say: the sentence's would trail it.
  assert.equal(
    narrate(m({ losses: losses([0.5, 0.4]) }), { fast: true }).text,
    'Training, more than an epoch a second (the position line keeps count). Training loss 0.400 after epoch 1: falling, down 20% over the last epoch.',
  );
});

test('an output labelled as a question reads as a word in a sentence', async () => {
  const { outputLabel } = await import('../../static/js/narrate.js');
  const { inspect } = await import('../../static/js/inspector.js');
  const { mistakeOf } = await import('../../static/js/mistake.js');
  const { outputNames } = await import('../../static/js/questions.js');
  const net = { inputs: ['a'], outputs: ['dog?'], layers: [{ size: 1 }] };
  assert.equal(outputLabel(net, 0), 'dog');
  assert.equal(neuronName(net, 0, 0), 'the dog output');
  for (const [name, want] of [['price', 'the price output'], ['is it big?!', 'the is it big output'], ['?', 'output 1'], ['', 'output 1']]) {
    assert.equal(neuronName({ ...net, outputs: [name] }, 0, 0), want, JSON.stringify(name));
  }
  // Every sentence built around the cat-or-dog output's name.
  const m = afterEvents(sampleEvents(), catDog());
  const said = [narrate(m).text ?? narrate(m), inspect(m, { kind: 'neuron', layer: 1, neuron: 0 }).title, inspect(m, { kind: 'weight', layer: 1, to: 0, from: null }).title];
  for (const text of said) {
    assert.doesNotMatch(String(JSON.stringify(text)), /dog\? output/, String(text));
  }
  assert.equal(said[1], 'The dog output');
  assert.equal(said[2], 'Bias of the dog output');
  assert.deepEqual(outputNames(m), ['dog']);
  // Several outputs named with marks: the mistake's words and the loss sentence.
  const two = houseState();
  two.network.outputs = ['big?', 'old?'];
  two.lesson.display = { inputs: [], outputs: [] };
  const m2 = loaded(two);
  assert.match(lossSentence(m2, { value: 0.3, prediction: [0.75, 0.25], target: [1, 0] }), /^big: predicted 0\.75, actual 1\.00: off by 0\.25; old: predicted/);
  const k = mistakeOf({ ...m2, sample: { x: [0, 0, 0], y: [1, 0] }, loss: { value: 0.3, prediction: [0.75, 0.25], target: [1, 0] } });
  assert.equal(k.gap, 'big off by 0.25, old off by 0.25');
  assert.equal(k.guess, 'big: guess 0.75');
});

test('a loss that grows tenfold or more is said as a factor, not as a percentage of many digits', async () => {
  const { lossSoFar } = await import('../../static/js/narrate.js');
  // too-fast's first epoch: 0.278 before training, 1.57×10⁷⁰ after.
  const said = lossSoFar([{ epoch: 0, trainLoss: 0.278 }, { epoch: 1, trainLoss: 1.57e70 }]);
  assert.match(said, /rising, grown 5\.65×10⁷⁰-fold over the last epoch\./, said);
  assert.doesNotMatch(said, /\d{4}/, said);
  assert.match(lossSoFar([{ epoch: 0, trainLoss: 0.25 }, { epoch: 1, trainLoss: 4.5 }]), /rising, grown 18-fold over the last epoch\./);
  assert.match(lossSoFar([{ epoch: 0, trainLoss: 0.25 }, { epoch: 1, trainLoss: 0.5 }]), /rising, up 100% over the last epoch\./);
});
