// ask.js: the predict-then-reveal panel. Before a step that reaches a
// question's moment it asks, with real buttons, and waits; the step's
// events then settle each answer (questions.js), and the page keeps
// stepping until they do (settling), so an answer is revealed without
// another press of Step. It shows each answer with the lesson's "why" and
// hands it to onAnswer (the embed posts it to its host).
//
// The panel knows nothing of sockets or steps: the page asks it what to do
// (stopAt, beforeStep, settling) and feeds it events (onEvents). A
// classroom page can reuse it, or reuse questions.js's pure parts (choices,
// createResolver, reveal) with its own buttons.

import { reaches, dueQuestions, firstGroup, choices, createResolver, stopBefore, reveal as revealText } from './questions.js';
import { fillIn } from './narrate.js';
import { find } from './dom.js';

/** ABORTED is what ask resolves with when the question was taken away (Back, Reset, a new lesson). */
const ABORTED = Symbol('aborted');

/**
 * createAsk wires the panel in box.
 * @param {HTMLElement} box an element with data-role="ask", initially hidden
 * @param {{onAnswer: (a: import('./questions.js').Answer) => void, returnFocus?: () => void,
 *   onChange?: () => void, pose?: (index: number) => Promise<string|null>}} opts onChange: the
 *   panel started or stopped waiting; pose, in a classroom, puts the question to the class
 *   instead (vote.js), which shows the answer itself
 */
export function createAsk(box, opts) {
  let asked = new Set();
  /** @type {ReturnType<typeof createResolver>[]} */
  let resolvers = [];
  let waiting = false; // a question is on screen, waiting for the learner
  let holding = false; // the page is stepping up to a question or on to its answer
  let stopWanted = false;
  let revealList = null;
  /** @type {((v: any) => void)|null} */
  let pendingResolve = null;
  let pendingIndex = -1;
  const changed = () => opts.onChange?.();

  const el = (tag, props = {}, text) => {
    const e = document.createElement(tag);
    Object.assign(e, props);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  /** ask shows question i and resolves with the chosen value, null (skipped) or ABORTED. */
  function ask(m, i) {
    const q = m.lesson.questions[i];
    return new Promise((resolve) => {
      const heading = el('h2', { id: 'ask-heading' }, 'Predict first');
      const question = el('p', { className: 'ask-question' }, fillIn(q.ask, m));
      const group = el('div', { className: 'ask-choices' });
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'Your prediction');
      const finish = (value) => {
        pendingResolve = null;
        pendingIndex = -1;
        revealList = null;
        resolve(value);
      };
      pendingResolve = finish;
      pendingIndex = i;
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

  function closeButton() {
    const close = el('button', { type: 'button', className: 'btn small ghost' }, 'Close');
    close.dataset.role = 'ask-close';
    close.addEventListener('click', () => {
      box.hidden = true;
      box.replaceChildren();
      revealList = null;
      opts.returnFocus?.();
    });
    return close;
  }

  function showReveal(a) {
    if (!revealList) {
      const heading = el('h2', { id: 'ask-heading' }, 'What really happened');
      revealList = el('div', { className: 'ask-results' });
      revealList.setAttribute('aria-live', 'polite');
      const actions = el('div', { className: 'ask-actions' });
      actions.append(closeButton());
      box.replaceChildren(heading, revealList, actions);
      box.hidden = false;
    }
    const r = revealText(a, a.q);
    const item = el('div', { className: 'ask-result' });
    item.dataset.question = String(a.question);
    item.append(el('p', { className: 'ask-question' }, a.ask));
    const verdict = el('p', { className: 'ask-verdict' });
    if (r.verdict) {
      verdict.dataset.correct = String(a.correct);
      verdict.textContent = `${r.verdict} `;
    }
    verdict.append(document.createTextNode(r.detail));
    item.append(verdict);
    if (r.why) item.append(el('p', { className: 'ask-why' }, r.why));
    if (r.note) item.append(el('p', { className: 'ask-why muted' }, r.note));
    revealList.append(item);
  }

  /** progress shows that the page is training on towards the answer, with a way to stop. */
  function showProgress(text) {
    let p = find(box, '[data-role=ask-progress]');
    if (!p) {
      p = el('p', { className: 'muted' });
      p.dataset.role = 'ask-progress';
      p.setAttribute('aria-live', 'polite');
      const stop = el('button', { type: 'button', className: 'btn small' }, 'Stop here');
      stop.dataset.role = 'ask-stop';
      stop.addEventListener('click', () => {
        stopWanted = true;
      });
      const actions = el('div', { className: 'ask-actions' });
      actions.dataset.role = 'ask-progress-actions';
      actions.append(stop);
      if (revealList) box.append(p, actions);
      else box.replaceChildren(el('h2', { id: 'ask-heading' }, 'Finding out'), p, actions);
      box.hidden = false;
    }
    p.textContent = text;
  }

  function hideProgress() {
    box.querySelector('[data-role=ask-progress]')?.remove();
    box.querySelector('[data-role=ask-progress-actions]')?.remove();
  }

  /** giveUp reveals the questions still open as not settled (stopped early, or Back). */
  function giveUp(why) {
    for (const r of resolvers) {
      const q = r.question;
      const a = { type: 'answer', question: r.index, at: q.at, kind: q.kind, ask: q.ask, guess: r.guess, answer: null, correct: null, detail: why, why: null, q };
      showReveal(a);
    }
    resolvers = [];
  }

  return {
    /** busy reports whether a question waits for the learner or the page is stepping to or past one: Step and Play are off. */
    busy: () => waiting || holding || resolvers.length > 0,
    /** waiting reports whether a question is on screen waiting for an answer. */
    waiting: () => waiting,
    /** focus moves the focus to the waiting question's first choice. */
    focus() {
      const b = find(box, '.ask-choices button', HTMLButtonElement);
      if (b) {
        b.focus();
        box.classList.remove('ask-nudge');
        // Restart the nudge animation (reduced motion: a plain outline).
        void box.offsetWidth;
        box.classList.add('ask-nudge');
      }
    },
    /** clear forgets what was asked: after load and reset. */
    clear() {
      pendingResolve?.(ABORTED);
      asked = new Set();
      resolvers = [];
      waiting = false;
      holding = false;
      revealList = null;
      box.hidden = true;
      box.replaceChildren();
      changed();
    },
    /**
     * abort takes a waiting question away (Back): it will be asked again
     * when training reaches it next time, and the open ones are given up.
     */
    abort() {
      if (pendingIndex >= 0) asked.delete(pendingIndex);
      const was = waiting;
      pendingResolve?.(ABORTED);
      if (resolvers.length) giveUp('You went back before the answer was known.');
      if (was) {
        box.hidden = true;
        box.replaceChildren();
      }
      changed();
    },
    /**
     * remaining counts the questions not yet asked.
     * @param {import('./state.js').Model} m
     */
    remaining(m) {
      const qs = m.lesson?.questions;
      return Array.isArray(qs) ? qs.filter((_, i) => !asked.has(i)).length : 0;
    },
    /**
     * due reports whether the next step of this size reaches a question.
     * @param {import('./state.js').Model} m
     * @param {string} granularity
     */
    due(m, granularity) {
      const qs = m.lesson?.questions;
      if (!Array.isArray(qs) || !qs.length || !m.network) return false;
      const moments = reaches(m.position, granularity, m.data?.train?.length ?? 1, m.training?.batchSize ?? 1);
      return dueQuestions(qs, asked, moments).length > 0;
    },
    /**
     * stopAt is the point the page should step up to before asking the
     * questions the next step reaches, so the learner sees what comes
     * before the question's moment first; or null. See questions.js
     * stopBefore.
     * @param {import('./state.js').Model} m
     * @param {string} granularity
     */
    stopAt(m, granularity) {
      const qs = m.lesson?.questions;
      if (!Array.isArray(qs) || !qs.length || !m.network) return null;
      const moments = reaches(m.position, granularity, m.data?.train?.length ?? 1, m.training?.batchSize ?? 1);
      return stopBefore(qs, dueQuestions(qs, asked, moments), m.position, granularity, m.network.layers.length);
    },
    /** hold marks the panel busy while the page steps up to a question or on to its answer. */
    hold(on) {
      holding = on;
      if (on) stopWanted = false;
      changed();
    },
    /**
     * beforeStep asks every question the next step reaches, one after
     * another, and resolves when the learner has answered them all: true
     * to take the step, false when a question was taken away (Back, Reset).
     * @param {import('./state.js').Model} m
     * @param {string} granularity
     * @returns {Promise<boolean>}
     */
    async beforeStep(m, granularity) {
      const qs = m.lesson?.questions;
      if (!Array.isArray(qs) || !qs.length || !m.network) return true;
      const moments = reaches(m.position, granularity, m.data?.train?.length ?? 1, m.training?.batchSize ?? 1);
      const due = firstGroup(qs, dueQuestions(qs, asked, moments));
      if (!due.length) return true;
      waiting = true;
      changed();
      try {
        for (const i of due) {
          asked.add(i);
          const guess = await (opts.pose ? opts.pose(i) : ask(m, i));
          if (guess === ABORTED) return false;
          const r = createResolver(m, i, guess);
          r.index = i;
          r.guess = guess;
          resolvers.push(r);
        }
      } finally {
        waiting = false;
        changed();
      }
      box.replaceChildren(el('h2', { id: 'ask-heading' }, 'Finding out'), el('p', { className: 'muted' }, 'Stepping…'));
      return true;
    },
    /**
     * settling is the step size that brings the open answers closer, or
     * null when none is open (or the learner pressed Stop). The page
     * steps with it until it is null, then calls settled().
     * @returns {string|null}
     */
    settling() {
      if (!resolvers.length || stopWanted) return null;
      return resolvers.some((r) => r.next() === 'epoch') ? 'epoch' : 'phase';
    },
    /** settleLimit is how many settling steps the open answers may need at most. */
    settleLimit: () => resolvers.reduce((n, r) => Math.max(n, r.limit()), 0),
    /**
     * settleProgress tells the learner that the page is training on.
     * @param {import('./state.js').Model} m
     * @param {number} stepsTaken
     */
    settleProgress(m, stepsTaken) {
      const epochs = resolvers.find((r) => r.next() === 'epoch');
      if (epochs) showProgress(`Training on to find out: ${stepsTaken} of up to ${epochs.limit() - 1} epochs…`);
      else showProgress('Stepping on to find out…');
    },
    /**
     * settled ends the stepping: answers still open were stopped early.
     * It reports whether every answer came.
     * @returns {boolean}
     */
    settled() {
      hideProgress();
      const all = resolvers.length === 0;
      if (resolvers.length) giveUp(stopWanted ? 'You stopped before the answer was known.' : 'The answer did not come: training stopped first.');
      stopWanted = false;
      if (box.querySelector('h2')?.textContent === 'Finding out' && !revealList) {
        box.hidden = true;
        box.replaceChildren();
      }
      find(box, '[data-role=ask-close]')?.focus();
      changed();
      return all;
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
          if (!opts.pose) showReveal({ ...a, q: r.question });
          opts.onAnswer(a);
          return false;
        });
      }
    },
  };
}
