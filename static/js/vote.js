// vote.js: class votes in a classroom room (docs/classroom.md, "The whole
// class predicts"). The presenter asks, every follower answers and may
// change its answer, everyone sees the tally, the presenter reveals. The
// server counts; the answer comes from the step's events, read by the
// presenter's page with questions.js, exactly as a learner's own page does.
// Pure helpers first (tested with node), then the panel.

import { h } from './dom.js';
import { choices, createResolver } from './questions.js';

/**
 * @typedef {{type: 'question', question: number, index?: number, at: string, kind: string, ask: string,
 *   layer?: number, to?: number, from?: number, bias?: boolean, choices: number, yours?: number, closed?: boolean}} QuestionFrame
 * @typedef {{question: number, answered: number, following: number, counts: number[], closed?: boolean}} TallyFrame
 * @typedef {TallyFrame & {type: 'reveal', index?: number, answer: number|null, detail?: string, why?: string, withdrawn?: boolean}} RevealFrame
 * @typedef {{label: string, count: number, percent: number, right: boolean}} Row
 */

/**
 * movesOn reports whether a frame is the class moving on: the presenter
 * stepped, ran, went back, reset, loaded a lesson or changed a number. An
 * answered question's reveal goes then, on every screen (the page asking
 * for the state again, a resync or a pause is no move).
 * @param {any} f
 */
export function movesOn(f) {
  switch (f?.type) {
    case 'events':
      return (f.events?.length ?? 0) > 0;
    case 'progress':
      return true;
    case 'state':
      return ['step', 'back', 'reset', 'load', 'set', 'setWeight'].includes(f.reason);
    default:
      return false;
  }
}

/**
 * percent is n of total as a whole percentage (0 when nobody answered).
 * @param {number} n
 * @param {number} total
 */
export function percent(n, total) {
  return total > 0 ? Math.round((100 * n) / total) : 0;
}

/**
 * spread is one row per choice: its words, its votes, their share of the
 * answers and whether it is the right answer.
 * @param {number[]} counts
 * @param {string[]} labels
 * @param {number|null} [answer]
 * @returns {Row[]}
 */
export function spread(counts, labels, answer = null) {
  const total = counts.reduce((s, n) => s + n, 0);
  return counts.map((count, i) => ({ label: labels[i] ?? `Choice ${i + 1}`, count, percent: percent(count, total), right: answer === i }));
}

/**
 * answeredText says how many have answered.
 * @param {number} answered
 * @param {number} following
 */
export function answeredText(answered, following) {
  const of = `${answered} of ${following} student${following === 1 ? '' : 's'}`;
  return `${of} answered`;
}

/**
 * questionOf is the question a question frame asks, as questions.js reads
 * one: the lesson's own (with its horizon) when the frame names one, else
 * a quick question on a weight.
 * @param {QuestionFrame} f
 * @param {any} [m] the model, whose lesson has the questions
 * @returns {import('./questions.js').Question}
 */
export function questionOf(f, m) {
  const own = typeof f.index === 'number' ? m?.lesson?.questions?.[f.index] : undefined;
  if (own && own.kind === f.kind && own.at === f.at) return own;
  const q = { at: f.at, kind: f.kind, ask: f.ask };
  if (f.kind === 'weight') Object.assign(q, { layer: f.layer ?? 0, to: f.to ?? 0, from: f.from ?? 0, bias: !!f.bias });
  return q;
}

/**
 * labelsFor are the words of a question's choices, in the server's order.
 * @param {QuestionFrame} f
 * @param {any} m the model (its network and lesson name the outputs)
 */
export function labelsFor(f, m) {
  const words = choices(questionOf(f, m), m).map((c) => c.label);
  return Array.from({ length: f.choices }, (_, i) => words[i] ?? `Choice ${i + 1}`);
}

/**
 * choiceOf is the index of an answer's value among the question's
 * choices, or null.
 * @param {QuestionFrame} f
 * @param {any} m
 * @param {string|null} value from questions.js's Answer
 */
export function choiceOf(f, m, value) {
  if (value === null || value === undefined) return null;
  const i = choices(questionOf(f, m), m).findIndex((c) => c.value === value);
  return i < 0 ? null : i;
}

/**
 * createVote wires the vote panel in box for a room's presenter or
 * follower.
 * @param {HTMLElement} box
 * @param {{
 *   role: () => string|null,              // presenter, follower, explore
 *   model: () => any,
 *   send: (cmd: any) => any,
 *   request: (cmd: any) => Promise<any>,
 *   selection: () => any,                 // the diagram's selection: a weight or bias to ask about
 *   pick?: HTMLSelectElement|null,        // the presenter's list of the lesson's questions
 *   askButton?: HTMLButtonElement|null,   // asks the picked one
 *   quickButton?: HTMLButtonElement|null, // asks "up or down?" on the selected weight
 * }} opts
 */
export function createVote(box, opts) {
  /** @type {QuestionFrame|null} */
  let open = null;
  /** @type {TallyFrame|null} */
  let tally = null;
  let mine = null; // this follower's choice
  let closed = false;
  // The presenter: a promise to settle when Reveal is pressed (a lesson
  // question the page reached: its own step follows), or a resolver to
  // feed while the panel itself steps (a question posed at any moment).
  let release = null;
  let resolver = null;
  let revealing = false;
  let revealed = false; // the panel shows an answered question's reveal
  const presenter = () => opts.role() === 'presenter';

  const heading = (text) => h('h2', { id: 'vote-heading', text });
  let pickFor = null; // the lesson whose questions the list shows

  opts.askButton?.addEventListener('click', () => {
    if (opts.pick?.value) askAbout(Number(opts.pick.value));
  });
  opts.quickButton?.addEventListener('click', () => askAbout(null));

  /** askAbout poses a lesson question (index) or, with none, up or down on the selected weight. */
  function askAbout(index) {
    if (open) return;
    if (index !== undefined && index !== null) {
      opts.send({ cmd: 'ask', index });
      return;
    }
    const s = opts.selection();
    if (!s || s.kind !== 'weight') return;
    const cmd = { cmd: 'ask', layer: s.layer, to: s.to };
    if (s.from === null || s.from === undefined) cmd.bias = true;
    else cmd.from = s.from;
    opts.send(cmd);
  }

  function show(...kids) {
    box.replaceChildren(...kids);
    box.hidden = kids.length === 0;
    revealed = false;
  }

  /** bars draws the spread: a bar, a count and a percentage per choice. */
  function bars(rows, yours) {
    const list = h('ul', { class: 'vote-bars' });
    for (const [i, r] of rows.entries()) {
      const bar = h('span', { class: 'vote-bar', 'aria-hidden': 'true' }, h('span', { class: 'vote-fill', style: `width:${r.percent}%` }));
      const marks = [];
      if (r.right) marks.push(h('strong', { class: 'vote-right', text: '✓ right answer' }));
      if (yours === i) marks.push(h('span', { class: 'vote-yours', text: 'your answer' }));
      list.append(
        h('li', { class: 'vote-row', 'data-choice': i, 'data-right': r.right ? 'true' : false },
          h('span', { class: 'vote-label', text: r.label }),
          bar,
          h('span', { class: 'vote-count', text: `${r.count} · ${r.percent}%` }),
          ...marks),
      );
    }
    return list;
  }

  function renderOpen() {
    if (!open) return;
    const m = opts.model();
    const labels = labelsFor(open, m);
    const t = tally && tally.question === open.question ? tally : { answered: 0, following: 0, counts: labels.map(() => 0) };
    const count = h('p', { class: 'vote-answered', 'data-role': 'vote-answered', 'aria-live': 'polite', text: answeredText(t.answered, t.following) });
    const ask = h('p', { class: 'ask-question', text: open.ask });
    if (presenter()) {
      const reveal = h('button', { type: 'button', class: 'btn primary', 'data-role': 'vote-reveal', text: revealing ? 'Revealing…' : 'Reveal' });
      reveal.disabled = revealing;
      reveal.addEventListener('click', () => doReveal());
      show(heading(`Question ${open.question} to the class`), ask, count, bars(spread(t.counts, labels), null), h('div', { class: 'ask-actions' }, reveal));
      return;
    }
    const group = h('div', { class: 'ask-choices', role: 'group', 'aria-label': 'Your answer' });
    labels.forEach((label, i) => {
      const b = h('button', { type: 'button', class: 'btn', 'data-choice': i, 'aria-pressed': String(mine === i), text: label });
      b.disabled = closed;
      b.addEventListener('click', () => {
        mine = i;
        opts.send({ cmd: 'answer', question: open.question, choice: i });
        for (const x of group.querySelectorAll('button')) x.setAttribute('aria-pressed', String(x === b));
        note.textContent = `Your answer: ${label}. You can change it until your teacher reveals.`;
      });
      group.append(b);
    });
    const note = h('p', { class: 'vote-note', 'data-role': 'vote-note', 'aria-live': 'polite' });
    if (closed) note.textContent = mine === null ? 'Voting has closed; the answer is coming.' : `Voting has closed. Your answer: ${labels[mine]}.`;
    else if (mine !== null) note.textContent = `Your answer: ${labels[mine]}. You can change it until your teacher reveals.`;
    else note.textContent = 'Tap your prediction. You can change it until your teacher reveals.';
    show(heading('Your teacher asks'), ask, group, note, count);
  }

  /** renderTally updates the counts without rebuilding the buttons. */
  function renderTally() {
    if (!open) return;
    if (presenter()) {
      renderOpen();
      return;
    }
    const el = box.querySelector('[data-role="vote-answered"]');
    if (el) el.textContent = answeredText(tally.answered, tally.following);
  }

  /**
   * doReveal takes the step that answers the open question (the
   * presenter), or lets the page's own step do it.
   */
  async function doReveal() {
    if (!open || revealing) return;
    revealing = true;
    renderOpen();
    if (release) {
      const r = release;
      release = null;
      r(null);
      return;
    }
    const m = opts.model();
    resolver = createResolver(m, open.index ?? -1, null, questionOf(open, m));
    const question = open.question;
    // Posed at any moment, the question's moment may be a batch away:
    // phase steps up to it (bounded), or the epochs its horizon names.
    const epochs = resolver.next() === 'epoch';
    const limit = epochs ? resolver.limit() : 400;
    try {
      for (let i = 0; i < limit && resolver && open?.question === question && !opts.model().diverged; i++) {
        await opts.request({ cmd: 'step', granularity: resolver.next() === 'epoch' ? 'epoch' : 'phase' });
      }
    } catch {
      // The error frame has said why.
    }
    if (resolver && open?.question === question) {
      resolver = null;
      opts.send({ cmd: 'reveal', answer: null, detail: 'The answer did not show up in the steps taken.' });
    }
  }

  function renderReveal(f, labels) {
    /** @type {HTMLElement[]} */
    const kids = [heading(f.withdrawn ? 'Question withdrawn' : 'What really happened'), h('p', { class: 'ask-question', text: open?.ask ?? '' })];
    if (f.withdrawn) kids.push(h('p', { text: 'Your teacher moved on before the answer; here is how the class voted.' }));
    if (f.detail) kids.push(h('p', { class: 'ask-verdict', 'data-role': 'vote-detail', text: f.detail }));
    kids.push(h('p', { class: 'vote-answered', text: answeredText(f.answered, f.following) }));
    kids.push(bars(spread(f.counts, labels, f.answer), presenter() ? null : mine));
    if (!presenter() && mine !== null && f.answer !== null) {
      kids.push(h('p', { class: 'ask-verdict', 'data-correct': String(mine === f.answer), text: mine === f.answer ? 'You were right.' : 'Not this time.' }));
    }
    if (f.why) kids.push(h('p', { class: 'ask-why', text: f.why }));
    const close = h('button', { type: 'button', class: 'btn small ghost', text: 'Close' });
    close.addEventListener('click', () => show());
    kids.push(h('div', { class: 'ask-actions' }, close));
    show(...kids);
    revealed = true;
  }

  return {
    /** busy reports whether a question is open: the presenter reveals before stepping on. */
    busy: () => !!open && presenter(),
    /**
     * pose puts lesson question index to the class, for ask.js: it
     * resolves (with no guess of the teacher's own) once Reveal is
     * pressed, and the page's step that follows answers it.
     * @param {number} index
     * @returns {Promise<null>}
     */
    pose(index) {
      return new Promise((resolve) => {
        release = resolve;
        opts.send({ cmd: 'ask', index });
      });
    },
    /**
     * answered hands the presenter's page's Answer (questions.js) to the
     * room as the reveal.
     * @param {import('./questions.js').Answer} a
     */
    answered(a) {
      if (!presenter() || !open) return;
      opts.send({ cmd: 'reveal', answer: choiceOf(open, opts.model(), a.answer), detail: a.detail });
    },
    askAbout,
    /**
     * render keeps the presenter's ask controls in step with the lesson,
     * the selection and whether a question is open.
     * @param {any} m
     */
    render(m) {
      const qs = m.lesson?.questions ?? [];
      if (opts.pick && pickFor !== m.lesson) {
        pickFor = m.lesson;
        opts.pick.replaceChildren(...qs.map((q, i) => h('option', { value: i, text: `${i + 1}. ${q.ask}` })));
        if (!qs.length) opts.pick.append(h('option', { value: '', text: 'This lesson has no questions' }));
      }
      if (opts.pick) opts.pick.disabled = !!open || !qs.length;
      if (opts.askButton) opts.askButton.disabled = !!open || !qs.length;
      if (opts.quickButton) {
        const s = opts.selection();
        opts.quickButton.disabled = !!open || s?.kind !== 'weight';
      }
    },
    /**
     * onEvents feeds a step's events (objects) to a question the panel is
     * revealing itself.
     * @param {any[]} events
     */
    onEvents(events) {
      if (revealed && movesOn({ type: 'events', events })) show();
      if (!resolver) return;
      for (const e of events) {
        const a = resolver?.feed(e);
        if (a) {
          resolver = null;
          opts.send({ cmd: 'reveal', answer: choiceOf(open, opts.model(), a.answer), detail: a.detail });
          return;
        }
      }
    },
    /** onFrame takes the room's question, tally and reveal frames. */
    onFrame(f) {
      if (opts.role() === 'explore') return;
      if (revealed && movesOn(f)) show();
      if (f.type === 'hello' || f.type === 'question' || f.type === 'reveal') queueMicrotask(() => this.render(opts.model()));
      switch (f.type) {
        case 'hello':
          // A new connection: the server says again what is open.
          open = null;
          tally = null;
          resolver = null;
          revealing = false;
          break;
        case 'question': {
          const fresh = open?.question !== f.question;
          if (fresh) mine = null;
          open = f;
          closed = !!f.closed;
          if (typeof f.yours === 'number') mine = f.yours;
          renderOpen();
          // On a student's phone the panel sits under the diagram, below
          // the fold: a new question comes into view. (Never on the
          // presenter's page, whose projector must not move.)
          if (fresh && !presenter()) {
            const still = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
            box.scrollIntoView?.({ block: 'nearest', behavior: still ? 'auto' : 'smooth' });
          }
          break;
        }
        case 'tally':
          if (!open || f.question !== open.question) return;
          tally = f;
          if (f.closed && !closed) {
            closed = true;
            renderOpen();
          } else renderTally();
          break;
        case 'reveal': {
          if (!open || f.question !== open.question) return;
          const labels = labelsFor(open, opts.model());
          renderReveal(f, labels);
          if (release) {
            // Withdrawn while the page waited: its step need not wait.
            release(null);
            release = null;
          }
          open = null;
          resolver = null;
          revealing = false;
          break;
        }
      }
    },
    /** hide empties the panel (exploring on one's own). */
    hide() {
      open = null;
      show();
    },
  };
}
