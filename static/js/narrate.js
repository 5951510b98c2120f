// narrate.js: what the last step did, in plain English with the numbers.
// Pure; no DOM. The page puts the text in an aria-live region, so it is what
// a screen-reader user hears after each step: one to three short sentences.

import { fmt, count, displayValue, displayAmount, percent, realValue, changeDecimals, productWords } from './format.js';

/**
 * @typedef {{text: string, note: string|null, phase: string|null}} Narration
 */

/**
 * narrate describes the model's last change: the events of the last step, or
 * the reason of the last state frame. With the math off (the default) it
 * speaks in plain words ("blame"); with opts.math it also names ∂L/∂z.
 * opts.fast says Play is going through more than an epoch a second, faster
 * than the narration changes (playingSentence).
 * @param {import('./state.js').Model} m
 * @param {{math?: boolean, fast?: boolean}} [opts]
 * @returns {Narration}
 */
export function narrate(m, opts = {}) {
  const n = narrateStep(m, !!opts.math, !!opts.fast);
  // The sample event always arrives with the forward pass of its example,
  // so a step that starts a new example also gets the lesson's note for
  // "sample", before the note of where the step stopped.
  const samples = (m.events ?? []).filter((e) => e.type === 'sample');
  if (samples.length === 1 && n.phase && n.phase !== 'epoch' && n.phase !== 'sample' && n.phase !== 'diverged') {
    const s = noteFor(m, 'sample');
    if (s) return { ...n, note: n.note ? `${s}\n${n.note}` : s };
  }
  return n;
}

/**
 * narrateSoFar sums up several small steps the page took by itself, phase by
 * phase up to a question's moment: the guess and the loss, then the blame,
 * where the narration of the last small step alone would tell only its own
 * part.
 * @param {import('./state.js').Model} m the model after the last small step
 * @param {any[]} events the events of all the small steps, in order
 * @param {{math?: boolean}} [opts]
 * @returns {Narration}
 */
export function narrateSoFar(m, events, opts = {}) {
  const n = narrate({ ...m, events }, opts);
  if (n.phase === 'diverged' || !n.text) return n;
  return { ...n, text: `Up to here: ${n.text}` };
}

/**
 * narrateStep is narrate without the sample note.
 * @param {import('./state.js').Model} m
 * @returns {Narration}
 */
function narrateStep(m, math, fast = false) {
  if (!m.network) return { text: '', note: null, phase: null };
  const events = m.events ?? [];
  if (m.diverged && (events.some((e) => e.type === 'diverged') || m.error?.code === 'diverged')) {
    // The engine's reason usually says it all ("Training stopped in epoch
    // 5, …; go back or reset, and try …"): say it once, without doubling.
    const why = String(m.diverged).trim().replace(/\.+$/, '');
    const text = /^training stopped/i.test(why) ? `${why}.` : `Training stopped: ${why}.`;
    return withNote(m, 'diverged', /\bback\b/i.test(why) ? text : `${text} Go Back, lower the learning rate, or Reset.`);
  }
  if (events.length === 0) return fromReason(m, math, fast);
  const find = (t) => events.filter((e) => e.type === t);
  const epochs = find('epoch');
  const updates = find('update');
  const losses = find('loss');
  const backward = find('backward');
  const forward = find('forward');
  const samples = find('sample');

  if (epochs.length) {
    const parts = [epochSentence(m, epochs[epochs.length - 1])];
    return withNote(m, 'epoch', parts.join(' '));
  }
  if (losses.length) {
    const parts = [lossSentence(m, losses[losses.length - 1])];
    if (updates.length) parts.push(updateSentence(m, updates));
    else if (backward.length) parts.push(blameSentence(m, backward, math));
    const phase = updates.length ? 'update' : 'loss';
    return withNote(m, phase, parts.join(' '));
  }
  if (updates.length) return withNote(m, 'update', updateSentence(m, updates));
  if (backward.length) {
    if (backward.length === 1) return withNote(m, 'backward', oneBlameSentence(m, backward[0], math));
    return withNote(m, 'backward', blameSentence(m, backward, math));
  }
  if (forward.length) {
    if (forward.length === 1) return withNote(m, 'forward', oneForwardSentence(m, forward[0], math));
    return withNote(m, 'forward', forwardSentence(m, forward));
  }
  if (samples.length) return withNote(m, 'sample', sampleSentence(m, samples[samples.length - 1]));
  return { text: 'Nothing changed.', note: null, phase: null };
}

/**
 * fromReason narrates a state frame.
 * @param {import('./state.js').Model} m
 * @param {boolean} math
 * @param {boolean} fast
 */
function fromReason(m, math, fast) {
  switch (m.reason) {
    case 'load':
      return withNote(m, 'start', 'Ready. Press Step to send the first example through the network, left to right.');
    case 'reset':
      return withNote(m, 'start', 'Back to the start: the weights are the initial ones again and the history is cleared.');
    case 'back':
      return { text: backSentence(m, math), note: null, phase: null };
    case 'setWeight':
      return { text: 'You changed a weight. Step to see what the network does with it; Back undoes the change.', note: null, phase: null };
    case 'set':
      return { text: `Training settings changed: learning rate ${fmt(m.training?.learningRate, 3)}, batch size ${m.training?.batchSize}.`, note: null, phase: null };
    case 'pause':
      return { text: pausedSentence(m), note: null, phase: null };
    case 'resume':
      return { text: 'Reconnected. Everything is where you left it.', note: null, phase: null };
    case 'state':
    case 'resync':
      return whereSentence(m);
    case 'progress':
      return { text: playingSentence(m, fast), note: null, phase: null };
    default:
      return { text: '', note: null, phase: null };
  }
}

/**
 * whereSentence says where training is, for a page that joins a session
 * under way (a classroom's presenter after a reload, a student who joins
 * late) or is brought up to date.
 * @param {import('./state.js').Model} m
 * @returns {Narration}
 */
function whereSentence(m) {
  const p = m.position;
  if (!p || (p.t ?? 0) === 0) return withNote(m, 'start', 'Ready. Press Step to send the first example through the network, left to right.');
  const n = m.data?.train?.length ?? 0;
  const u = p.updates ?? 0;
  return {
    text: `Here is where training is: epoch ${count((p.epoch ?? 0) + 1)}, example ${count(Math.min((p.sample ?? 0) + 1, Math.max(n, 1)))}${n ? ` of ${count(n)}` : ''}, ${count(u)} update${u === 1 ? '' : 's'} so far${lastLossText(m)}.`,
    note: null,
    phase: null,
  };
}

function lastLossText(m) {
  const last = m.losses[m.losses.length - 1];
  return last ? `, training loss ${fmt(last.trainLoss, 3)}` : '';
}

/**
 * playingSentence says what Play is doing, with the epoch the position
 * line shows (the one under way, counted from 1): the latest training loss
 * and whether it is falling. The count of updates, which changes too often
 * to read aloud, is left to the position line; so is the epoch when Play
 * goes through more than one a second (fast): the narration changes at
 * most once a second, and its epoch would trail the line's.
 * @param {import('./state.js').Model} m
 * @param {boolean} [fast]
 */
export function playingSentence(m, fast = false) {
  if (fast) return `Training, more than an epoch a second (the position line keeps count). ${lossSoFar(m.losses)}`;
  return `Training: epoch ${count((m.position?.epoch ?? 0) + 1)}. ${lossSoFar(m.losses)}`;
}

/**
 * pausedSentence says where Play stopped, in the same counts.
 * @param {import('./state.js').Model} m
 */
export function pausedSentence(m) {
  const p = m.position;
  const u = p?.updates ?? 0;
  return `Paused in epoch ${count((p?.epoch ?? 0) + 1)} after ${count(u)} update${u === 1 ? '' : 's'}. ${lossSoFar(m.losses)}`;
}

/** TREND_POINTS is how many loss points back the trend looks. */
const TREND_POINTS = 10;

/**
 * lossSoFar is the latest training loss and its trend over the last
 * TREND_POINTS points: falling, rising, or flat (within 1%).
 * @param {{epoch: number, trainLoss: number}[]} losses
 */
export function lossSoFar(losses) {
  const n = losses.length;
  if (!n) return 'The loss is measured at the end of each epoch.';
  const last = losses[n - 1];
  if (last.epoch === 0) return `The loss before training is ${fmt(last.trainLoss, 3)}; the first epoch's loss comes when it ends.`;
  const head = `Training loss ${fmt(last.trainLoss, 3)} after epoch ${count(last.epoch)}`;
  if (n < 2) return head + '.';
  const from = losses[Math.max(0, n - 1 - TREND_POINTS)];
  const span = last.epoch - from.epoch;
  const over = `over the last ${span === 1 ? 'epoch' : count(span) + ' epochs'}`;
  if (!Number.isFinite(last.trainLoss) || !Number.isFinite(from.trainLoss) || from.trainLoss <= 0) return head + '.';
  const change = (last.trainLoss - from.trainLoss) / from.trainLoss;
  const pct = Math.abs(change) >= 10 ? `${count(Math.abs(change) * 100)}%` : percent(Math.abs(change));
  if (change <= -0.01) return `${head}: falling, down ${pct} ${over}.`;
  // Ten times or more is said as a factor: "up 5,657,464,…,000%" reads as noise.
  const ratio = last.trainLoss / from.trainLoss;
  const up = ratio >= 10 ? `grown ${fmt(ratio, 0)}-fold` : `up ${pct}`;
  if (change >= 0.01) return `${head}: rising, ${up} ${over}. A rising loss means the steps are too big: try a smaller learning rate.`;
  return `${head}: hardly changing, within 1% ${over}.`;
}

/**
 * withNote adds the lesson's note for the phase, if it has one.
 * @param {import('./state.js').Model} m
 * @param {string} phase
 * @param {string} text
 * @returns {Narration}
 */
function withNote(m, phase, text) {
  return { text, note: noteFor(m, phase), phase };
}

/**
 * noteFor is the lesson's note for a moment, or null.
 * @param {import('./state.js').Model} m
 * @param {string} phase
 */
function noteFor(m, phase) {
  const notes = Array.isArray(m.lesson?.notes) ? m.lesson.notes : [];
  const say = notes.find((x) => x.at === phase)?.say;
  return say === undefined ? null : fillIn(say, m);
}

/**
 * fillIn puts the live training settings into a lesson's words:
 * {learningRate}, {batchSize} and {optimizer} become the values the
 * network trains with now, so a note still tells the truth after the
 * learner changes them in the settings (docs/lessons.md, "notes").
 * @param {string} text
 * @param {{training?: any}} m
 */
export function fillIn(text, m) {
  const t = m.training ?? {};
  return text.replace(/\{(learningRate|batchSize|optimizer)\}/g, (all, key) => {
    const v = t[key];
    if (v === undefined || v === null) return all;
    return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
  });
}

/**
 * outputLabel is an output's name as a word in a sentence: a lesson may
 * label its output as a question ("dog?") or with a closing mark, which
 * reads on the diagram but not in "the dog? output"; the marks at its end
 * go. An output with no name left is "output j+1".
 * @param {any} network
 * @param {number} j
 */
export function outputLabel(network, j) {
  const name = String(network?.outputs?.[j] ?? '').replace(/[\s?!.,:;]+$/u, '').trim();
  return name || `output ${j + 1}`;
}

/**
 * neuronName names neuron j of layer l (l = -1: the inputs) for a sentence.
 * @param {any} network
 * @param {number} l
 * @param {number} j
 */
export function neuronName(network, l, j) {
  if (l < 0) return network.inputs[j] ?? `input ${j + 1}`;
  const last = network.layers.length - 1;
  if (l === last) {
    const name = outputLabel(network, j);
    return name === `output ${j + 1}` ? name : `the ${name} output`;
  }
  const hiddenLayers = last;
  return hiddenLayers > 1 ? `hidden neuron ${j + 1} of layer ${l + 1}` : `hidden neuron ${j + 1}`;
}

/**
 * shortName is neuronName without articles, for tables and labels.
 * @param {any} network
 * @param {number} l
 * @param {number} j
 */
export function shortName(network, l, j) {
  if (l < 0) return network.inputs[j] ?? `x${j + 1}`;
  if (l === network.layers.length - 1) return network.outputs[j] ?? `output ${j + 1}`;
  return network.layers.length > 2 ? `h${l + 1}.${j + 1}` : `h${j + 1}`;
}

const asArray = (v) => (Array.isArray(v) ? v : [v]);

/**
 * classesFor returns the class names of output k, if the lesson names any.
 * @param {any} m
 * @param {number} k
 */
function outputSpec(m, k) {
  return m.lesson?.display?.outputs?.[k];
}

/**
 * article returns "a" or "an" for a word.
 * @param {string} w
 */
function article(w) {
  return /^[aeiou]/i.test(w) ? 'an' : 'a';
}

/**
 * lossSentence sets the prediction against the target in the lesson's terms.
 * @param {import('./state.js').Model} m
 * @param {{value: number, prediction: any, target: any}} e
 */
export function lossSentence(m, e) {
  const pred = asArray(e.prediction);
  const target = asArray(e.target);
  const spec0 = outputSpec(m, 0);
  const classes = spec0?.classes;
  const lossText = `The loss is ${fmt(e.value, 3)}.`;
  if (classes && classes.length >= 2) {
    let guessIdx;
    let conf;
    let trueIdx;
    if (pred.length === 1) {
      const p = pred[0];
      guessIdx = p >= 0.5 ? 1 : 0;
      conf = p >= 0.5 ? p : 1 - p;
      trueIdx = target[0] >= 0.5 ? 1 : 0;
    } else {
      guessIdx = argmax(pred);
      conf = pred[guessIdx];
      trueIdx = argmax(target);
    }
    const guess = classes[guessIdx] ?? `class ${guessIdx}`;
    const truth = classes[trueIdx] ?? `class ${trueIdx}`;
    const first = `I think this is ${article(guess)} ${guess}, ${percent(conf)} sure.`;
    if (guessIdx === trueIdx) {
      return `${first} It is ${article(truth)} ${truth}: right${conf < 0.75 ? ', but not yet sure' : ''}. ${lossText}`;
    }
    return `${first} It is actually ${article(truth)} ${truth}: wrong${conf >= 0.75 ? ' and confident, so the loss is big' : ''}. ${lossText}`;
  }
  const parts = pred.map((p, k) => {
    const spec = outputSpec(m, k);
    const t = target[k];
    const off = Math.abs(realValue(p, spec) - realValue(t, spec));
    const offText = spec ? displayAmount(off, { ...spec, offset: 0 }) : fmt(off);
    const name = pred.length > 1 ? `${outputLabel(m.network, k)}: ` : '';
    return `${name}predicted ${displayValue(p, spec)}, actual ${displayValue(t, spec)}: off by ${offText}`;
  });
  const all = parts.join('; ');
  // Output names keep their own case ("o1: predicted …").
  return `${pred.length > 1 ? all : cap(all)}. ${lossText}`;
}

function argmax(xs) {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/**
 * direction says, in plain words, what an update did to a weight and why:
 * "went up from −0.46 to −0.41: a bigger bias makes this mistake smaller".
 * The way it went is the sign of new − old; the why is the gradient's sign
 * (the loss falls when the weight moves against it), said only when the
 * move agrees with it (momentum can carry a weight the other way).
 * Enough digits are shown that the two numbers differ.
 * @param {{old: number, new: number, grad?: number, batch?: number}} u
 * @param {string} [noun='weight']
 */
export function direction(u, noun = 'weight') {
  const d = u.new - u.old;
  const n = changeDecimals(u.old, u.new);
  const grad = typeof u.grad === 'number' ? u.grad : null;
  const mistake = u.batch > 1 ? `the mistakes on these ${u.batch} examples` : 'this mistake';
  if (d === 0) {
    if (grad === 0) return `stayed at ${fmt(u.old, n)}: its gradient is 0, so changing it would not change ${mistake}`;
    return `stayed at ${fmt(u.old, n)}`;
  }
  const how = sizeWord(u.old, u.new);
  let why = '';
  if (grad !== null && grad !== 0 && Math.sign(d) === -Math.sign(grad)) {
    why = `: a ${grad < 0 ? 'bigger' : 'smaller'} ${noun} makes ${mistake} smaller`;
  }
  return `went ${d > 0 ? 'up' : 'down'}${how} from ${fmt(u.old, n)} to ${fmt(u.new, n)}${why}`;
}

/** SIZE is the size below which a weight or bias counts as small, so a change of 0.03 to −0.10 is not "a lot". */
const SIZE = 0.5;

/**
 * sizeWord says how big a change is for a weight or bias: against the
 * bigger of its old and new size, and at least SIZE (a weight near 0 that
 * moves by 0.03 has moved a little): " a little" under 5%, nothing up to
 * 30%, " a lot" beyond.
 * @param {number} oldV
 * @param {number} newV
 */
export function sizeWord(oldV, newV) {
  const rel = Math.abs(newV - oldV) / Math.max(Math.abs(oldV), Math.abs(newV), SIZE);
  return rel < 0.05 ? ' a little' : rel < 0.3 ? '' : ' a lot';
}

/**
 * weightName names a weight or bias for a sentence.
 * @param {any} network
 * @param {{layer: number, to: number, from: number|null, bias: boolean}} u
 */
export function weightName(network, u) {
  if (u.bias) return `the bias of ${neuronName(network, u.layer, u.to)}`;
  return `the weight from ${neuronName(network, u.layer - 1, u.from ?? 0)} to ${neuronName(network, u.layer, u.to)}`;
}

/**
 * updateSentence tells the biggest change of an update.
 * @param {import('./state.js').Model} m
 * @param {any[]} updates
 */
export function updateSentence(m, updates) {
  let big = updates[0];
  for (const u of updates) if (Math.abs(u.new - u.old) > Math.abs(big.new - big.old)) big = u;
  const lr = m.training?.learningRate;
  const sgd = (m.training?.optimizer ?? 'sgd') === 'sgd' && typeof lr === 'number';
  // The learning rate as the learner set it: 5, not 5.000.
  const how = sgd ? `, each by ${fillIn('{learningRate}', m)} (the learning rate) times its gradient` : '';
  const biggest = Math.abs(big.new - big.old) / Math.max(Math.abs(big.old), Math.abs(big.new), SIZE);
  const size = biggest >= 0.3 ? 'Some steps were big. ' : '';
  const lead = updates.length > 1 ? `Update: all ${updates.length} weights and biases moved against their gradients${how}. ${size}The biggest change: ` : 'Update: ';
  const name = weightName(m.network, big);
  const sentence = `${name} ${direction(big, big.bias ? 'bias' : 'weight')}.`;
  return lead + (updates.length > 1 ? sentence : sentence.charAt(0).toUpperCase() + sentence.slice(1));
}

/**
 * blameSentence summarises a backward pass.
 * @param {import('./state.js').Model} m
 * @param {any[]} backward
 */
function blameSentence(m, backward, math) {
  const last = m.network.layers.length - 1;
  const out = backward.find((e) => e.layer === last);
  let big = null;
  for (const e of backward) if (e.layer < last && (!big || Math.abs(e.dZ) > Math.abs(big.dZ))) big = e;
  const parts = ['Backward pass: the blame flowed right to left.'];
  if (math) {
    if (out) parts.push(`At ${neuronName(m.network, out.layer, out.neuron)}, ∂L/∂z = ${fmt(out.dZ)}.`);
    if (big) parts.push(`The most blamed hidden neuron is ${neuronName(m.network, big.layer, big.neuron)} (∂L/∂z = ${fmt(big.dZ)}).`);
  } else {
    if (out) parts.push(`${cap(neuronName(m.network, out.layer, out.neuron))} gets a blame of ${fmt(out.dZ)}: ${blameMeaning(out.dZ)}.`);
    if (big) parts.push(`The hidden neuron with the most blame is ${neuronName(m.network, big.layer, big.neuron)} (${fmt(big.dZ)}), passed back to it along its weights.`);
  }
  return parts.join(' ');
}

/** blameMeaning says in words what the sign of a blame asks for. */
function blameMeaning(dZ) {
  if (dZ > 0) return 'its total was too big, so a smaller total would lower the loss';
  if (dZ < 0) return 'its total was too small, so a bigger total would lower the loss';
  return 'changing its total would not change the loss';
}

function oneBlameSentence(m, e, math) {
  const who = neuronName(m.network, e.layer, e.neuron);
  const last = m.network.layers.length - 1;
  // The two factors as written multiply to the blame as written.
  const [dA, slope, dZ] = productWords(e.dA, e.slope, e.dZ);
  if (!math) {
    if (e.layer < last) return `Blame reaches ${who}, sent back from the neurons it feeds along its weights: ${dA} on its output, times how steeply its activation responds (${slope}), gives a blame of ${dZ}.`;
    return `Blame starts at ${who}, a blame of ${fmt(e.dZ)}: ${blameMeaning(e.dZ)}.`;
  }
  if (e.slope !== undefined && e.dA !== undefined) {
    return `Blame reaches ${who}: ∂L/∂a = ${dA}, times the activation's slope ${slope}, gives ∂L/∂z = ${dZ}.`;
  }
  return `Blame reaches ${who}: ∂L/∂z = ${fmt(e.dZ)} (prediction minus target).`;
}

/**
 * backSentence re-narrates where Back lands: the epoch and example (from 1)
 * and what is known of that example at that point.
 * @param {import('./state.js').Model} m
 * @param {boolean} math
 */
function backSentence(m, math) {
  const p = m.position;
  if (!p) return 'Went back one step.';
  const n = m.data?.train?.length ?? 0;
  const where = `Went back one step, to epoch ${(p.epoch ?? 0) + 1}, example ${Math.min((p.sample ?? 0) + 1, Math.max(n, 1))}${n ? ` of ${n}` : ''}.`;
  if (m.loss && m.sample) return `${where} ${lossSentence(m, m.loss)}`;
  if (m.sample) return `${where} This example has gone part of the way through the network.`;
  return `${where} The next example has not gone in yet.`;
}

function activationOf(m, l) {
  return m.network.layers[l]?.activation ?? 'the activation';
}

function oneForwardSentence(m, e, math) {
  const who = neuronName(m.network, e.layer, e.neuron);
  if (!math) return `${cap(who)} adds up its weighted inputs and bias into a total of ${fmt(e.z)}. Then ${activationOf(m, e.layer)} turns that total into ${fmt(e.a)}.`;
  return `${cap(who)} adds up its weighted inputs and bias: z = ${fmt(e.z)}. Then ${activationOf(m, e.layer)} turns that into a = ${fmt(e.a)}.`;
}

function forwardSentence(m, forward) {
  const last = m.network.layers.length - 1;
  const outs = forward.filter((e) => e.layer === last);
  const layers = new Set(forward.map((e) => e.layer));
  let text = `Forward pass: the values flowed left to right through ${layers.size === 1 ? 'one layer' : `${layers.size} layers`}.`;
  if (outs.length) {
    text += ` The network's output: ${outs.map((e) => `${outputLabel(m.network, e.neuron)} ${displayValue(e.a, outputSpec(m, e.neuron))}`).join(', ')}.`;
  }
  return text;
}

function sampleSentence(m, e) {
  const specs = m.lesson?.display?.inputs ?? [];
  const xs = (e.x ?? []).map((v, i) => {
    const name = m.network.inputs[i] ?? `x${i + 1}`;
    const unit = (specs[i]?.unit ?? '').toLowerCase();
    // "3 bedrooms", not "bedrooms 3 bedrooms".
    if (unit && (unit.includes(name.toLowerCase()) || name.toLowerCase().includes(unit))) return displayValue(v, specs[i]);
    return `${name} ${displayValue(v, specs[i])}`;
  });
  const classes = outputSpec(m, 0)?.classes;
  let answer;
  if (classes && e.y) {
    const y = asArray(e.y);
    const idx = y.length === 1 ? (y[0] >= 0.5 ? 1 : 0) : argmax(y);
    answer = `it is ${article(classes[idx] ?? 'x')} ${classes[idx]}`;
  } else if (e.y) {
    answer = `the answer should be ${asArray(e.y).map((v, k) => displayValue(v, outputSpec(m, k))).join(', ')}`;
  }
  return `Next example (#${e.index + 1}): ${xs.join(', ')}${answer ? `; ${answer}` : ''}.`;
}

function epochSentence(m, e) {
  const prev = m.losses.length >= 2 ? m.losses[m.losses.length - 2] : null;
  let trend = '';
  if (prev && prev.epoch < e.epoch) {
    // Enough digits that the two losses differ, or "unchanged".
    let n = 3;
    while (n < 6 && fmt(prev.trainLoss, n) === fmt(e.trainLoss, n)) n++;
    if (fmt(prev.trainLoss, n) === fmt(e.trainLoss, n)) trend = ', unchanged';
    else trend = `${e.trainLoss < prev.trainLoss ? ', down' : ', up'} from ${fmt(prev.trainLoss, n)}`;
    if (trend !== ', unchanged') return `Epoch ${e.epoch} done: every training example has been seen. Training loss ${fmt(e.trainLoss, n)}${trend}${testPart(e)}.${overfitSentence(m, e)}`;
  }
  return `Epoch ${e.epoch} done: every training example has been seen. Training loss ${fmt(e.trainLoss, 3)}${trend}${testPart(e)}.${overfitSentence(m, e)}`;
}

function testPart(e) {
  return typeof e.testLoss === 'number' ? `; test loss ${fmt(e.testLoss, 3)}` : ' (this lesson keeps no examples back for a test)';
}

/**
 * overfitSentence names overfitting when the test loss has risen clearly
 * (by a tenth) above its lowest while the training loss has kept falling
 * since then: the network is learning its training examples, not the
 * pattern. Empty otherwise.
 * @param {import('./state.js').Model} m
 * @param {{epoch: number, trainLoss: number, testLoss?: number}} e
 */
export function overfitSentence(m, e) {
  if (typeof e.testLoss !== 'number') return '';
  const hist = (m.losses ?? []).filter((x) => typeof x.testLoss === 'number' && x.epoch >= 1);
  if (hist.length < 5) return '';
  let best = hist[0];
  for (const x of hist) if (x.testLoss < best.testLoss) best = x;
  if (best.epoch >= e.epoch || e.testLoss < best.testLoss * 1.1 || !(e.trainLoss < best.trainLoss)) return '';
  return ` The test loss has risen from its lowest, ${fmt(best.testLoss, 3)} after epoch ${best.epoch}, while the training loss kept falling (${fmt(best.trainLoss, 3)} → ${fmt(e.trainLoss, 3)}): the network is overfitting, learning its training examples rather than the pattern behind them.`;
}

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
