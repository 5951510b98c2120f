// addpoints.js: add points of either class by clicking the decision-boundary
// plot of a 2-D lesson, then train on the lesson's data with them added,
// from the weights the network has now. The typed form under "Your own
// data" is the keyboard's way to place points.

import { restoreLesson } from './state.js';
import { fromPixel } from './charts.js';
import { lessonLimits } from './owndata.js';
import { find } from './dom.js';

/**
 * @typedef {{x1: number, x2: number, label: number}} Point
 */

/**
 * lessonWithPoints is the model's lesson, with its current weights and
 * settings, whose data are its own training and test examples (as points
 * in the plane, so features still apply) plus the added points, which join
 * the training set. Null when the model has no 2-D data.
 * @param {import('./state.js').Model} m
 * @param {Point[]} added
 */
export function lessonWithPoints(m, added) {
  const lesson = restoreLesson(m);
  const train = m.data?.train ?? [];
  if (!lesson || !train.length || !train.every((s) => Array.isArray(s.point))) return null;
  const asSample = (s) => ({ x: s.point.slice(), y: s.y.slice() });
  const outputs = train[0].y.length;
  const extra = added.map((p) => ({ x: [round(p.x1), round(p.x2)], y: outputs === 1 ? [p.label] : Array.from({ length: outputs }, (_, k) => (k === p.label ? 1 : 0)) }));
  const features = lesson.data?.features;
  lesson.data = { samples: [...train.map(asSample), ...extra] };
  const test = (m.data?.test ?? []).filter((s) => Array.isArray(s.point)).map(asSample);
  if (test.length) lesson.data.test = test;
  if (features) lesson.data.features = features;
  if (lesson.training?.batchSize > lesson.data.samples.length) lesson.training.batchSize = lesson.data.samples.length;
  return lesson;
}

function round(v) {
  return Math.round(v * 100) / 100;
}

/**
 * addedText says how many points of each class the learner has added, in
 * the order the classes were first added, with the names the choices show.
 * @param {Point[]} added
 * @param {(label: number) => string} labelOf
 */
export function addedText(added, labelOf) {
  if (!added.length) return '';
  /** @type {Map<number, number>} */
  const n = new Map();
  for (const p of added) n.set(p.label, (n.get(p.label) ?? 0) + 1);
  const parts = [...n].map(([label, c]) => `${c} ${labelOf(label)}`);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  return `Added ${list} point${added.length === 1 ? '' : 's'}, drawn with a ring. Train to use them.`;
}

/**
 * createPointAdder wires the controls under the boundary plot.
 * @param {import('./dom.js').Finder} $
 * @param {{canvas: () => HTMLCanvasElement|null, domain: () => number[]|null, model: () => any,
 *   send: (cmd: any) => any, redraw: () => void}} opts
 */
export function createPointAdder($, opts) {
  const box = $('boundary-add');
  if (!box) return { points: () => [], clear() {} };
  /** @type {Point[]} */
  let added = [];
  const info = $('boundary-added');
  const train = $('boundary-train');
  const chosen = () => find(box, 'input[name="boundary-add"]:checked', HTMLInputElement)?.value ?? '';
  const labelOf = (/** @type {number} */ v) => find(box, `input[name="boundary-add"][value="${v}"]`, HTMLInputElement)?.closest('label')?.textContent?.trim() ?? `class ${v}`;
  const show = () => {
    info.textContent = addedText(added, labelOf);
    train.hidden = added.length === 0;
    $('boundary-undo').hidden = added.length === 0;
    opts.redraw();
  };
  const update = () => {
    const c = opts.canvas();
    if (c) c.classList.toggle('adding', chosen() !== '');
  };
  box.addEventListener('change', update);
  document.addEventListener(
    'click',
    (ev) => {
      const c = opts.canvas();
      const domain = opts.domain();
      if (!c || ev.target !== c || chosen() === '' || !domain) return;
      if (added.length + (opts.model().data?.train?.length ?? 0) >= lessonLimits(opts.model().limits).samples) return;
      const r = c.getBoundingClientRect();
      const [x1, x2] = fromPixel(ev.clientX - r.left, ev.clientY - r.top, domain, r.width);
      added.push({ x1, x2, label: Number(chosen()) });
      show();
    },
    true,
  );
  $('boundary-undo').addEventListener('click', () => {
    added.pop();
    show();
  });
  train.addEventListener('click', () => {
    const lesson = lessonWithPoints(opts.model(), added);
    if (!lesson) return;
    const title = lesson.title ?? 'My points';
    lesson.title = title.endsWith(' (with my points)') ? title : `${title} (with my points)`;
    added = [];
    show();
    opts.send({ cmd: 'load', lesson });
  });
  return {
    /** points are the added points not yet trained on. */
    points: () => added,
    /** clear forgets them (a new lesson). */
    clear() {
      if (!added.length) return;
      added = [];
      show();
    },
    update,
  };
}
