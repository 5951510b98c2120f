// mistake.js: the mistake the loss measures, in the lesson's own words and
// units: the guess, the truth, the gap between them and the loss. Pure; no
// DOM. draw.js draws it beside the network at the loss phase.

import { fmt, displayValue, realValue, hasUnits, displayAmount, percent } from './format.js';
import { outputLabel } from './narrate.js';

/**
 * @typedef {{
 *   kind: 'amount'|'class',
 *   guess: string, truth: string, gap: string, loss: string,
 *   right?: boolean,
 *   axis: {lo: number, hi: number, guess: number, truth: number},
 * }} Mistake
 * axis places the guess and the truth on a line from lo to hi (real units,
 * or the probability of the true class from 0 to 1) so that the gap can be
 * drawn to scale.
 */

/**
 * classIndex is the class a network output or a target stands for: the
 * biggest of several outputs, or for one output 1 when it is at least 0.5.
 * @param {number[]} v
 */
export function classIndex(v) {
  if (v.length === 1) return v[0] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
  return best;
}

/**
 * mistakeOf describes the current example's mistake, or null when its
 * loss is not known yet.
 * @param {import('./state.js').Model} m
 * @returns {Mistake|null}
 */
export function mistakeOf(m) {
  const loss = m.loss;
  if (!loss || !m.sample || !m.network) return null;
  const pred = Array.isArray(loss.prediction) ? loss.prediction : [loss.prediction];
  const truth = m.sample.y;
  if (!pred.length || pred.some((v) => typeof v !== 'number') || !truth?.length) return null;
  const specs = m.lesson?.display?.outputs ?? [];
  const classes = specs[0]?.classes;
  const lossText = `loss ${fmt(loss.value, 3)}`;
  if (classes && classes.length >= 2 && classes.length === Math.max(2, pred.length)) {
    const g = classIndex(pred);
    const t = classIndex(truth);
    const sure = pred.length === 1 ? (g === 1 ? pred[0] : 1 - pred[0]) : pred[g];
    const onTruth = pred.length === 1 ? (t === 1 ? pred[0] : 1 - pred[0]) : pred[t];
    return {
      kind: 'class',
      guess: `${classes[g]} · ${percent(sure)} sure`,
      truth: `really: ${classes[t]}`,
      gap: g === t ? `right, ${percent(onTruth)} on ${classes[t]}` : `wrong: only ${percent(onTruth)} on ${classes[t]}`,
      loss: lossText,
      right: g === t,
      axis: { lo: 0, hi: 1, guess: onTruth, truth: 1 },
    };
  }
  // An amount: the first output on the line.
  const spec = specs[0];
  const real = (v) => realValue(v, hasUnits(spec) ? spec : undefined);
  const guess = real(pred[0]);
  const want = real(truth[0]);
  const targets = (m.data?.train ?? []).map((p) => real(p.y?.[0])).filter(Number.isFinite);
  let lo = Math.min(guess, want, ...targets);
  let hi = Math.max(guess, want, ...targets);
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const amount = (r) => (hasUnits(spec) ? displayAmount(r, spec) : fmt(r));
  if (pred.length > 1) {
    // Several outputs: the line shows the first, and the words say every
    // output's gap, so the loss beside them (over all of them) adds up.
    const name = (j) => outputLabel(m.network, j);
    const gaps = pred.map((p, j) => {
      const sj = specs[j];
      const rj = (v) => realValue(v, hasUnits(sj) ? sj : undefined);
      const d = Math.abs(rj(p) - rj(truth[j]));
      return `${name(j)} off by ${hasUnits(sj) ? displayAmount(d, sj) : fmt(d)}`;
    });
    return {
      kind: 'amount',
      guess: `${name(0)}: guess ${displayValue(pred[0], hasUnits(spec) ? spec : undefined)}`,
      truth: `truth ${amount(want)}`,
      gap: gaps.join(', '),
      loss: `${lossText} over ${pred.length === 2 ? "both" : `all ${pred.length}`} outputs`,
      axis: { lo, hi, guess, truth: want },
    };
  }
  return {
    kind: 'amount',
    guess: `guess ${displayValue(pred[0], hasUnits(spec) ? spec : undefined)}`,
    truth: `truth ${amount(want)}`,
    gap: `off by ${amount(Math.abs(guess - want))}`,
    loss: lossText,
    axis: { lo, hi, guess, truth: want },
  };
}
