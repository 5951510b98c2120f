// lessontrace.test.js: the built-in lessons as the engine runs them
// (testdata/lesson-traces.json, written by the Go test TestLessonTraces),
// replayed through the page's reducer. Imported by the tests of the
// questions and of the math panel.
import { readFileSync } from 'node:fs';
import { initialModel, reduce } from '../../static/js/state.js';

const file = new URL('./testdata/lesson-traces.json', import.meta.url);

/** @returns {{name: string, state: any, micro: any[][], positions: any[], epochs: any[]}[]} */
export function lessonTraces() {
  return JSON.parse(readFileSync(file, 'utf8')).lessons;
}

/**
 * loaded is the page's model right after the lesson loaded.
 * @param {{state: any}} t
 */
export function loaded(t) {
  return reduce(initialModel(), { type: 'state', reason: 'load', state: t.state });
}

/**
 * replay calls visit(model before, events, model after, kind) for each
 * micro-step of the trace, then for each whole epoch (kind 'epoch': only
 * its epoch event, the model's weights no longer follow).
 * @param {any} t
 * @param {(before: any, events: any[], after: any, kind: string) => boolean|void} visit return true to stop
 */
export function replay(t, visit) {
  let m = loaded(t);
  for (const [i, events] of t.micro.entries()) {
    const next = reduce(m, { type: 'events', events: events ?? [], position: t.positions[i] });
    if (visit(m, events ?? [], next, 'micro')) return;
    m = next;
  }
  for (const e of t.epochs) {
    const next = { ...m, losses: [...m.losses, { epoch: e.epoch, trainLoss: e.trainLoss, testLoss: e.testLoss ?? null }], events: [e] };
    if (visit(m, [e], next, 'epoch')) return;
    m = next;
  }
}
