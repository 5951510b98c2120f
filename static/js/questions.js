// questions.js: predict, then reveal (docs/lessons.md, "questions"). Pure;
// no DOM. Before a step that reaches a question's moment the page asks it;
// the events that follow are fed, in order, to a resolver that finds the
// real answer: which way the weight moved, whether the loss grew, which
// output won.

import { fmt } from './format.js';
import { fillIn, outputLabel } from './narrate.js';

/** The moments of one sample, in the order the engine reaches them. */
const PHASES = ['forward', 'loss', 'backward', 'update'];

/**
 * reaches lists the moments the next step will pass through, from the
 * state's position (whose phase is the NEXT micro-step), the step size, the
 * training set's size and the batch size. It is used only to decide when to
 * ask; the answer always comes from the events, however many steps it takes.
 * @param {{phase?: string, sample?: number, batchCount?: number}|null} pos
 * @param {string} granularity micro | phase | sample | batch | epoch
 * @param {number} trainSize
 * @param {number} batchSize
 * @returns {Set<string>}
 */
export function reaches(pos, granularity, trainSize, batchSize) {
  const phase = PHASES.includes(pos?.phase) ? pos.phase : 'forward';
  const sample = pos?.sample ?? 0;
  const inBatch = pos?.batchCount ?? 0;
  const lastOfEpoch = sample + 1 >= trainSize;
  const endsBatch = inBatch + 1 >= batchSize || lastOfEpoch;
  const out = new Set();
  switch (granularity) {
    case 'micro':
    case 'phase':
      out.add(phase);
      if (phase === 'update' && lastOfEpoch) out.add('epoch');
      return out;
    case 'sample':
      for (const p of PHASES.slice(PHASES.indexOf(phase))) if (p !== 'update' || endsBatch || phase === 'update') out.add(p);
      if (out.has('update') && lastOfEpoch) out.add('epoch');
      return out;
    case 'batch': {
      for (const p of PHASES) out.add(p);
      const left = Math.max(1, batchSize - inBatch);
      if (sample + left >= trainSize) out.add('epoch');
      return out;
    }
    default:
      return new Set([...PHASES, 'epoch']);
  }
}

/**
 * @typedef {{at: string, kind: string, ask: string, why?: string, answer?: string,
 *   horizon?: {epochs: number, lossBelow?: number},
 *   layer?: number, to?: number, from?: number, bias?: boolean}} Question
 * @typedef {{value: string, label: string}} Choice
 */

/**
 * dueQuestions returns the indices of the questions not yet asked whose
 * moment the next step reaches, in the lesson's order.
 * @param {Question[]} questions
 * @param {Set<number>} asked
 * @param {Set<string>} moments from reaches
 */
export function dueQuestions(questions, asked, moments) {
  const out = [];
  (questions ?? []).forEach((q, i) => {
    if (!asked.has(i) && moments.has(q.at)) out.push(i);
  });
  return out;
}

/**
 * firstGroup keeps, of the due questions, those of the earliest moment
 * (with "epoch" ones too when that moment is the update that ends the
 * epoch): the learner answers them, sees them revealed, and only then is
 * asked about a later moment, never two moments back to back.
 * @param {Question[]} questions
 * @param {number[]} due
 * @returns {number[]}
 */
export function firstGroup(questions, due) {
  const order = [...PHASES, 'epoch'];
  let first = order.length;
  for (const i of due) first = Math.min(first, order.indexOf(questions[i]?.at));
  const at = order[first];
  return due.filter((i) => questions[i]?.at === at || (at === 'update' && questions[i]?.at === 'epoch'));
}

/**
 * stopBefore is where within a sample the page should ask, when the step
 * would first pass other moments the learner needs to see (an update
 * question at "sample" step size comes after that example's guess and
 * loss): {phase} of the earliest due moment after the next micro-step's
 * phase. A forward question on a network with hidden layers is asked once
 * the example is in and the hidden layers have their values, just before
 * the output layer's: {phase: 'forward', layer: the output layer}, so the
 * learner sees what the network sees and predicts what it will answer.
 * Null when the step starts at that point already, for "epoch" questions,
 * and for epoch-size steps (asked before the whole epoch).
 * @param {Question[]} questions
 * @param {number[]} due indices from dueQuestions
 * @param {{phase?: string, layer?: number, neuron?: number}|null} pos the position now (phase: the next micro-step)
 * @param {string} granularity
 * @param {number} [layers=1] layers with weights
 * @returns {{phase: string, layer?: number}|null}
 */
export function stopBefore(questions, due, pos, granularity, layers = 1) {
  if (granularity === 'epoch') return null;
  const phase = PHASES.includes(pos?.phase) ? pos.phase : 'forward';
  const now = PHASES.indexOf(phase);
  const last = layers - 1;
  let best = -1;
  for (const i of due) {
    const k = PHASES.indexOf(questions[i]?.at);
    if (k < 0) continue;
    if (best < 0 || k < best) best = k;
  }
  if (best < 0) return null;
  if (PHASES[best] === 'forward' && last > 0) {
    const before = phase !== 'forward' || (pos?.layer ?? 0) < last;
    return before ? { phase: 'forward', layer: last } : null;
  }
  if (granularity === 'micro' || granularity === 'phase') return null;
  if (best <= now) return null;
  return { phase: PHASES[best] };
}

/**
 * reached reports whether the position is at the point stopBefore names.
 * @param {{phase?: string, layer?: number}|null} pos
 * @param {{phase: string, layer?: number}} at
 */
export function reached(pos, at) {
  if (!pos || pos.phase !== at.phase) return false;
  return at.layer === undefined || (pos.layer ?? 0) >= at.layer;
}

/**
 * isCrossEntropy reports whether a loss question at "loss" is about small or
 * big (cross-entropy has a natural yardstick: the loss of an even guess)
 * rather than bigger or smaller than before.
 * @param {Question} q
 * @param {any} training
 */
function againstEvenGuess(q, training) {
  return q.kind === 'loss' && q.at === 'loss' && training?.loss === 'cross_entropy';
}

/**
 * horizonEpochs is how many epochs a question looks ahead (0: it is
 * graded by the step that reaches it).
 * @param {Question} q
 */
export function horizonEpochs(q) {
  return q?.kind === 'loss' && q.horizon?.epochs > 0 ? q.horizon.epochs : 0;
}

/**
 * threshold is the loss a "will it fall below …" question names, or null.
 * @param {Question} q
 */
export function threshold(q) {
  return horizonEpochs(q) && q.horizon.lossBelow > 0 ? q.horizon.lossBelow : null;
}

/**
 * choices are the buttons a question offers.
 * @param {Question} q
 * @param {{network: any, training: any, lesson: any}} m
 * @returns {Choice[]}
 */
export function choices(q, m) {
  switch (q.kind) {
    case 'weight':
      return [{ value: 'up', label: 'It will go up' }, { value: 'down', label: 'It will go down' }];
    case 'loss':
      if (threshold(q) !== null) return [{ value: 'yes', label: 'Yes' }, { value: 'no', label: 'No' }];
      if (againstEvenGuess(q, m.training)) return [{ value: 'smaller', label: 'Small' }, { value: 'bigger', label: 'Big' }];
      return [{ value: 'smaller', label: 'Smaller' }, { value: 'bigger', label: 'Bigger' }];
    case 'winner':
      return outputNames(m).map((name, k) => ({ value: String(k), label: name }));
    default:
      return [];
  }
}

/**
 * outputNames are the names of the output neurons, or of the classes when
 * the lesson names one class per output, as words for a sentence
 * (outputLabel: "dog?" is "dog").
 * @param {{network: any, lesson: any}} m
 */
export function outputNames(m) {
  const names = m.network?.outputs ?? [];
  const classes = m.lesson?.display?.outputs?.[0]?.classes;
  if (Array.isArray(classes) && classes.length === names.length) return classes.slice();
  return names.map((_, j) => outputLabel(m.network, j));
}

/**
 * meanLoss is the mean per-sample loss over samples with the network's
 * current weights: the yardstick for "after this epoch, will the loss be
 * smaller?" before any epoch has ended. It follows engine/net.go.
 * @param {any} network {layers: [{size, activation}], weights, biases}
 * @param {string} lossKind half_squared_error | mse | cross_entropy
 * @param {{x: number[], y: number[]}[]} samples
 */
export function meanLoss(network, lossKind, samples) {
  if (!network || !samples?.length) return NaN;
  let total = 0;
  for (const s of samples) {
    let a = s.x;
    let z = a;
    network.layers.forEach((layer, l) => {
      z = network.weights[l].map((row, j) => row.reduce((acc, w, i) => acc + w * a[i], network.biases[l][j]));
      a = activate(layer.activation, z);
    });
    total += sampleLoss(lossKind, network.layers[network.layers.length - 1].activation, z, a, s.y);
  }
  return total / samples.length;
}

function activate(act, z) {
  switch (act) {
    case 'sigmoid':
      return z.map((v) => 1 / (1 + Math.exp(-v)));
    case 'tanh':
      return z.map(Math.tanh);
    case 'relu':
      return z.map((v) => Math.max(v, 0));
    case 'leaky_relu':
      return z.map((v) => (v > 0 ? v : 0.01 * v));
    case 'softmax': {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((x, y) => x + y, 0);
      return e.map((v) => v / s);
    }
    default:
      return z.slice();
  }
}

function sampleLoss(kind, act, z, y, t) {
  if (kind === 'mse') return y.reduce((s, v, k) => s + (v - t[k]) ** 2, 0) / y.length;
  if (kind === 'cross_entropy') {
    if (act === 'softmax') {
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      return z.reduce((s, v, k) => s + (t[k] ? t[k] * (lse - v) : 0), 0);
    }
    const softplus = (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
    return z.reduce((s, v, k) => s + softplus(v) - t[k] * v, 0);
  }
  return y.reduce((s, v, k) => s + 0.5 * (v - t[k]) ** 2, 0);
}

/**
 * @typedef {{type: 'answer', question: number, at: string, kind: string,
 *   ask: string, guess: string|null, answer: string|null, correct: boolean|null,
 *   detail: string, why: string|null, old?: number, new?: number,
 *   before?: number, after?: number, winner?: number, epochs?: number}} Answer
 * The answer event: what embed hosts receive as netstep:event.
 */

/**
 * createResolver starts watching the events for question index of the
 * model's lesson. Call it before the step, with the model as it is then.
 * feed(event) returns the Answer once the events settle it, else null.
 * @param {any} m the model before the step
 * @param {number} index
 * @param {string|null} guess the learner's choice value, null if not asked
 * @param {Question} [question] the question, when it is not the lesson's (a classroom's quick question)
 */
export function createResolver(m, index, guess, question) {
  // The words with the live settings filled in ({learningRate}, …).
  const raw = question ?? m.lesson.questions[index];
  const q = { ...raw, ask: fillIn(raw.ask, m), ...(raw.why ? { why: fillIn(raw.why, m) } : {}) };
  const names = outputNames(m);
  const lossKind = m.training?.loss;
  let before = m.loss?.value ?? null;
  const ahead = horizonEpochs(q);
  const below = threshold(q);
  let epochsSeen = 0;
  if (q.kind === 'loss' && (q.at === 'epoch' || ahead)) {
    const last = m.losses?.[m.losses.length - 1];
    before = last ? last.trainLoss : meanLoss(m.network, lossKind, m.data?.train);
  }
  let passed = false; // the question's moment has happened
  const outs = []; // a winner question's output values as they come
  const outputLayer = (m.network?.layers.length ?? 1) - 1;

  /**
   * done is the Answer of this question.
   * @param {string|null} answer null: the events could not settle it
   * @param {string} detail
   * @param {Partial<Answer>} [extra]
   * @returns {Answer}
   */
  const done = (answer, detail, extra = {}) => ({
    type: 'answer',
    question: index,
    at: q.at,
    kind: q.kind,
    ask: q.ask,
    guess,
    answer,
    correct: guess === null || answer === null ? null : guess === answer,
    detail,
    why: !q.answer || answer === null || answer === q.answer ? (q.why ?? null) : null,
    ...extra,
  });

  const compare = (after, yardstick, what) => {
    const answer = after > yardstick ? 'bigger' : 'smaller';
    return done(answer, `${what} ${answer === 'bigger' ? 'grew' : 'shrank'}: ${fmt(yardstick, 4)} → ${fmt(after, 4)}.`, { before: yardstick, after });
  };

  return {
    /** @param {any} e an event object (expanded) */
    feed(e) {
      switch (q.kind) {
        case 'weight':
          if (e.type === 'update' && e.layer === (q.layer ?? 0) && e.to === (q.to ?? 0) && (q.bias ? !!e.bias : !e.bias && e.from === (q.from ?? 0))) {
            const answer = e.new >= e.old ? 'up' : 'down';
            const what = q.bias ? 'The bias' : 'The weight';
            return done(answer, `${what} went ${answer}: ${fmt(e.old, 4)} → ${fmt(e.new, 4)}.`, { old: e.old, new: e.new });
          }
          return null;
        case 'winner': {
          // The output layer's forward values decide, as soon as all are in.
          let pred = null;
          if (e.type === 'forward' && e.layer === outputLayer) {
            outs[e.neuron] = e.a;
            if (outs.filter((v) => v !== undefined).length === names.length) pred = outs;
          } else if (e.type === 'loss') pred = Array.isArray(e.prediction) ? e.prediction : [e.prediction];
          if (pred) {
            let k = 0;
            pred.forEach((v, i) => {
              if (v > pred[k]) k = i;
            });
            return done(String(k), `${names[k] ?? `Output ${k + 1}`} won with ${fmt(pred[k], 3)}.`, { winner: k });
          }
          return null;
        }
        case 'loss':
          if (ahead) {
            if (e.type !== 'epoch') return null;
            epochsSeen++;
            if (below !== null) {
              if (e.trainLoss < below) return done('yes', `Yes: after ${epochsSeen} epoch${epochsSeen === 1 ? '' : 's'} the mean training loss was ${fmt(e.trainLoss, 4)}, below ${fmt(below, 4)}.`, { before, after: e.trainLoss, epochs: epochsSeen });
              if (epochsSeen < ahead) return null;
              return done('no', `No: after ${ahead} epochs the mean training loss was ${fmt(e.trainLoss, 4)}, still not below ${fmt(below, 4)}.`, { before, after: e.trainLoss, epochs: epochsSeen });
            }
            if (epochsSeen < ahead) return null;
            if (!Number.isFinite(before)) return done(null, `The loss after ${ahead} epochs is ${fmt(e.trainLoss, 4)}.`, { after: e.trainLoss, epochs: epochsSeen });
            return compare(e.trainLoss, before, `Over ${ahead} epoch${ahead === 1 ? '' : 's'} the mean training loss`);
          }
          if (q.at === 'epoch') {
            if (e.type !== 'epoch') return null;
            if (!Number.isFinite(before)) return done(null, `The loss after the epoch is ${fmt(e.trainLoss, 4)}.`, { after: e.trainLoss });
            return compare(e.trainLoss, before, 'The mean training loss');
          }
          if (q.at === 'loss') {
            if (e.type !== 'loss') return null;
            if (lossKind === 'cross_entropy') {
              const k = Array.isArray(e.prediction) ? Math.max(2, e.prediction.length) : 2;
              const even = Math.log(k);
              const answer = e.value > even ? 'bigger' : 'smaller';
              return done(answer, `The loss is ${fmt(e.value, 3)}: ${answer === 'bigger' ? 'big, more' : 'small, less'} than the ${fmt(even, 2)} of an even guess.`, { before: even, after: e.value });
            }
            if (before === null) {
              before = e.value;
              return done(null, `The loss is ${fmt(e.value, 4)}.`, { after: e.value });
            }
            return compare(e.value, before, 'The loss');
          }
          // At forward, backward or update: the next loss measured after
          // that moment, against the last one before it.
          if (e.type === q.at) passed = true;
          else if (e.type === 'loss') {
            if (!passed) before = e.value;
            else if (before !== null) return compare(e.value, before, 'The loss on the next example');
            else before = e.value;
          }
          return null;
        default:
          return null;
      }
    },
    /**
     * next is the step size that brings the answer closer when the step
     * that reached the question's moment has not settled it: whole epochs
     * for a question that looks epochs ahead, else one phase (the next
     * example's loss, a winner's output layer).
     * @returns {'epoch'|'phase'}
     */
    next: () => (ahead ? 'epoch' : 'phase'),
    /** limit is how many of those steps may be needed at most. */
    limit: () => (ahead ? ahead + 1 : 12),
    question: q,
    outputLayer,
  };
}

/**
 * reveal is what the page shows for an answer: a verdict when the learner
 * guessed, the measured outcome, and the lesson's why only when it explains
 * what happened (a question whose answer names the outcome its why
 * assumes; when training went another way, because the learner changed
 * something, the why would contradict the numbers, so it is left out and
 * the note says so).
 * @param {Answer} a
 * @param {Question} q
 * @returns {{verdict: string|null, detail: string, why: string|null, note: string|null}}
 */
export function reveal(a, q) {
  const verdict = a.correct === null ? null : a.correct ? 'You were right.' : 'Not this time.';
  const fits = !q?.answer || a.answer === null || a.answer === q.answer;
  const why = q?.why && fits ? q.why : null;
  const note = q?.why && !fits ? 'This time training went differently from what usually happens here, so the lesson\'s explanation, which is about the usual outcome, is not shown.' : null;
  return { verdict, detail: a.detail, why, note };
}
