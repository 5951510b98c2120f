// ask.js: the predict-then-reveal panel. Before a step that reaches a
// question's moment it asks, with real buttons, and waits; the step's
// events then settle each answer (questions.js), which it shows with the
// lesson's "why" and hands to onAnswer (the embed posts it to its host).

import { reaches, dueQuestions, choices, createResolver, stopBefore } from './questions.js';

/**
 * createAsk wires the panel in box.
 * @param {HTMLElement} box an element with data-role="ask", initially hidden
 * @param {{onAnswer: (a: import('./questions.js').Answer) => void, returnFocus?: () => void}} opts
 */
export function createAsk(box, opts) {
  let asked = new Set();
  /** @type {ReturnType<typeof createResolver>[]} */
  let resolvers = [];
  let busy = false;
  let revealList = null;

  const el = (tag, props = {}, text) => {
    const e = document.createElement(tag);
    Object.assign(e, props);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  /** ask shows question i and resolves with the chosen value, or null. */
  function ask(m, i) {
    const q = m.lesson.questions[i];
    return new Promise((resolve) => {
      const heading = el('h2', { id: 'ask-heading' }, 'Predict first');
      const question = el('p', { className: 'ask-question' }, q.ask);
      const group = el('div', { className: 'ask-choices' });
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'Your prediction');
      const finish = (value) => {
        revealList = null;
        resolve(value);
      };
      for (const c of choices(q, m)) {
        const b = el('button', { type: 'button', className: 'btn' }, c.label);
        b.dataset.choice = c.value;
        b.addEventListener('click', () => finish(c.value));
        group.append(b);
      }
      const skip = el('button', { type: 'button', className: 'btn ghost' }, 'Skip: just show me');
      skip.dataset.choice = '';
      skip.addEventListener('click', () => finish(null));
      const actions = el('div', { className: 'ask-actions' });
      actions.append(skip);
      box.replaceChildren(heading, question, group, actions);
      box.hidden = false;
      group.querySelector('button')?.focus();
    });
  }

  function reveal(a) {
    if (!revealList) {
      const heading = el('h2', { id: 'ask-heading' }, 'What really happened');
      revealList = el('div', { className: 'ask-results' });
      revealList.setAttribute('aria-live', 'polite');
      const close = el('button', { type: 'button', className: 'btn small ghost' }, 'Close');
      close.addEventListener('click', () => {
        box.hidden = true;
        box.replaceChildren();
        revealList = null;
        opts.returnFocus?.();
      });
      const actions = el('div', { className: 'ask-actions' });
      actions.append(close);
      box.replaceChildren(heading, revealList, actions);
      box.hidden = false;
    }
    const item = el('div', { className: 'ask-result' });
    item.dataset.question = String(a.question);
    item.append(el('p', { className: 'ask-question' }, a.ask));
    const verdict = el('p', { className: 'ask-verdict' });
    if (a.correct !== null) {
      verdict.dataset.correct = String(a.correct);
      verdict.textContent = a.correct ? 'You were right. ' : 'Not this time. ';
    }
    verdict.append(document.createTextNode(a.detail));
    item.append(verdict);
    if (a.why) item.append(el('p', { className: 'ask-why' }, a.why));
    revealList.append(item);
  }

  return {
    /** busy reports whether a question is waiting for the learner. */
    busy: () => busy,
    /** clear forgets what was asked: after load and reset. */
    clear() {
      asked = new Set();
      resolvers = [];
      busy = false;
      revealList = null;
      box.hidden = true;
      box.replaceChildren();
    },
    /**
     * stopAt is the phase the page should step up to (in phase steps)
     * before asking the questions the next step reaches, so the learner
     * sees what comes before the question's moment first; or null.
     * @param {import('./state.js').Model} m
     * @param {string} granularity
     */
    stopAt(m, granularity) {
      const qs = m.lesson?.questions;
      if (!Array.isArray(qs) || !qs.length || !m.network) return null;
      const moments = reaches(m.position, granularity, m.data?.train?.length ?? 1, m.training?.batchSize ?? 1);
      return stopBefore(qs, dueQuestions(qs, asked, moments), m.position, granularity);
    },
    /** hold marks the panel busy while the page steps up to a question. */
    hold(on) {
      busy = on;
    },
    /**
     * beforeStep asks every question the next step reaches, one after
     * another, and resolves when the learner has answered them all.
     * @param {import('./state.js').Model} m
     * @param {string} granularity
     */
    async beforeStep(m, granularity) {
      const qs = m.lesson?.questions;
      if (!Array.isArray(qs) || !qs.length || !m.network) return;
      const moments = reaches(m.position, granularity, m.data?.train?.length ?? 1, m.training?.batchSize ?? 1);
      const due = dueQuestions(qs, asked, moments);
      if (!due.length) return;
      busy = true;
      try {
        for (const i of due) {
          asked.add(i);
          const guess = await ask(m, i);
          resolvers.push(createResolver(m, i, guess));
        }
      } finally {
        busy = false;
      }
      box.replaceChildren(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'Stepping…' }));
    },
    /**
     * onEvents feeds a step's events (object form) to the open questions.
     * @param {any[]} events
     */
    onEvents(events) {
      if (!resolvers.length) return;
      for (const e of events) {
        resolvers = resolvers.filter((r) => {
          const a = r.feed(e);
          if (!a) return true;
          reveal(a);
          opts.onAnswer(a);
          return false;
        });
      }
    },
  };
}
