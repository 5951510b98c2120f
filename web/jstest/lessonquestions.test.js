// Every built-in question, asked where the page asks it and graded by the
// engine's own events: its reveal agrees with its grade, and the lesson's
// "why" explains the answer training really gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reaches, dueQuestions, firstGroup, stopBefore, createResolver, reveal, choices } from '../../static/js/questions.js';
import { lessonTraces, replay } from './lessontrace.test.js';

for (const t of lessonTraces()) {
  const qs = t.state.lesson.questions ?? [];
  if (!qs.length) continue;
  test(`${t.name}: every question is asked, graded, and revealed without contradiction`, () => {
    const asked = new Set();
    const open = [];
    const answers = new Map();
    replay(t, (m, events, after, kind) => {
      const moments = kind === 'epoch' ? reaches(m.position, 'epoch', 1, 1) : reaches(m.position, 'micro', m.data.train.length, m.training.batchSize);
      const due = dueQuestions(qs, asked, moments);
      const layers = m.network.layers.length;
      if (due.length && (kind === 'epoch' || !stopBefore(qs, due, m.position, 'micro', layers))) {
        for (const i of firstGroup(qs, due)) {
          asked.add(i);
          // One learner who guesses each choice: all are graded the same.
          open.push(...choices(qs[i], m).map((c) => ({ i, guess: c.value, r: createResolver(m, i, c.value) })));
          open.push({ i, guess: null, r: createResolver(m, i, null) });
        }
      }
      for (const e of events) {
        for (let k = open.length - 1; k >= 0; k--) {
          const a = open[k].r.feed(e);
          if (!a) continue;
          const { i, guess } = open[k];
          open.splice(k, 1);
          const list = answers.get(i) ?? [];
          list.push({ guess, a });
          answers.set(i, list);
        }
      }
      return asked.size === qs.length && open.length === 0;
    });
    qs.forEach((q, i) => {
      const list = answers.get(i);
      assert.ok(list, `question ${i} (${q.ask}) was never graded`);
      const real = list[0].a.answer;
      assert.ok(list.every(({ a }) => a.answer === real), `question ${i}: every guess is graded against the same answer`);
      if (q.answer) assert.equal(real, q.answer, `question ${i} (${q.ask}): the lesson's answer is ${q.answer}, training gives ${real}: ${list[0].a.detail}`);
      for (const { guess, a } of list) {
        const r = reveal(a, q);
        if (guess === null) assert.equal(r.verdict, null);
        else assert.equal(r.verdict, guess === real ? 'You were right.' : 'Not this time.', `question ${i}, guess ${guess}`);
        // The why is shown whenever the lesson's answer is the real one.
        assert.equal(r.why, q.why ?? null, `question ${i}: the why is shown`);
        assert.equal(r.note, null);
        // The detail states the real answer, in words that cannot read as
        // the other one.
        if (real === 'up' || real === 'down') assert.match(a.detail, new RegExp(`went ${real}:`));
        if (real === 'smaller') assert.match(a.detail, /shrank|small,/);
        if (real === 'bigger') assert.match(a.detail, /grew|big,/);
        if (real === 'yes' || real === 'no') assert.match(a.detail, new RegExp(`^${real === 'yes' ? 'Yes' : 'No'}:`));
      }
    });
  });
}
