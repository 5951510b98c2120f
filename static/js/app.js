// app.js: wires the page together. createApp(root, options) is the one entry
// point, used by the lesson page (main.js) and, later, by the embed page.
//
// Data flows one way: a command goes out through the socket; frames come back
// and are folded into the model by the reducer; the model is drawn. Nothing
// in the drawing changes the model.

import { createSocket, credentialOK, RESTORED, fallbackText } from './socket.js';
import { initialModel, reduce, restoreLesson, expandEvent } from './state.js';
import { createDiagram, MISTAKE_H } from './draw.js';
import { naturalHeight } from './layout.js';
import { narrate, narrateSoFar } from './narrate.js';
import { createCharts } from './charts.js';
import { createControls, pacedByPage, runCommand } from './controls.js';
import { createInspector } from './inspector.js';
import { createTable } from './table.js';
import { createSettings } from './settings.js';
import { palette, cssVariables } from './colors.js';
import { termNodes } from './glossary.js';
import { createAsk } from './ask.js';
import { reached } from './questions.js';
import { CHANGES, roomURLs, roomCredentials, followersText, endedText, loopbackWarning, addressAdvice } from './room.js';
import { createPointAdder } from './addpoints.js';
import { mapPanels } from './classmap.js';
import { byRole, find, findAll } from './dom.js';

/**
 * @typedef {{
 *   lesson?: string,        // built-in lesson name to load
 *   lessonObject?: any,     // an inline lesson to load instead
 *   ws?: string,            // websocket path or URL, default "/ws"
 *   theme?: string,         // auto | light | dark | projector (default: the last one chosen on this browser, else auto)
 *   math?: boolean,         // show the math from the start
 *   granularity?: string,   // micro | phase | sample | batch | epoch
 *   questions?: boolean,    // ask the lesson's questions before the steps that reach them (default true)
 *   onLessonChange?: (name: string) => void,
 *   room?: import('./room.js').RoomOptions, // a classroom room to present or follow
 *   createVote?: typeof import('./vote.js').createVote, // a room's class votes; only classroom pages load vote.js
 * }} AppOptions
 */

/** RETUNE_MS is the least time between two speed changes sent during Play. */
const RETUNE_MS = 250;
/** REVEAL_READ_MS is how long Play waits after showing an answer before it trains on. */
const REVEAL_READ_MS = 2000;

/** MIN_PROJECTED is the least height (screen pixels) a projected lesson's diagram is fitted to. */
const MIN_PROJECTED = 300;

const FRIENDLY = {
  at_start: 'Nothing to undo: this is the start.',
  diverged: 'Training has diverged. Go Back or Reset.',
  running: 'Pause first.',
  interrupted: 'Stopped for your next command.',
  slow_down: 'Too many commands at once; wait a moment.',
  not_presenter: 'Only the presenter can change this room.',
};

/**
 * createApp starts the page inside root, which holds the markup of
 * templates/page.html. It returns send(cmd), which sends any protocol command
 * and returns its id, and on(frameType, fn), which calls fn with every frame of
 * that type ("*" for all) and returns a function that stops it.
 * @param {HTMLElement} root
 * @param {AppOptions} [options]
 */
export function createApp(root, options = {}) {
  const $ = byRole(root);
  const reduced = matchMedia('(prefers-reduced-motion: reduce)');
  const darkQuery = matchMedia('(prefers-color-scheme: dark)');
  let theme = options.theme ?? recall('netstep.theme') ?? 'auto';
  if (!['auto', 'light', 'dark', 'projector'].includes(theme)) theme = 'auto';
  const resolvedTheme = () => (theme === 'auto' ? (darkQuery.matches ? 'dark' : 'light') : theme);
  const pal = () => palette(resolvedTheme());

  let model = initialModel();
  let prevRendered = null;
  let pendingPrev = null;
  let scheduled = false;
  /** @type {import('./draw.js').Selection|null} */
  let selection = null;
  // A presenter's math switch and step size outlive a reload (this
  // browser's storage, per room), so the class's view does not change.
  const savedView = options.room?.role === 'presenter' ? parseView(recall(`netstep.view.${options.room.code}`)) : null;
  let mathShown = options.math ?? savedView?.math ?? false;
  let lastNarration = '';
  let narratedAt = 0; // when the narration last changed
  /** @type {number|null} the epoch a Play sentence last said, or null */
  let narratedEpoch = null;
  // What drawing the diagram has cost since drawCost was last asked.
  // edgeFrames and edgeTotal: the repaints that redrew the edges (an edge's
  // look changed), which the repaint benchmark reports apart.
  let drawn = { frames: 0, total: 0, max: 0, edgeFrames: 0, edgeTotal: 0 };
  // The edges' raster drawings counted by the last drawCost.
  let picturesSeen = { pictures: 0, total: 0, worker: false };
  /** @type {{model: import('./state.js').Model, narration: import('./narrate.js').Narration}|null} the summary of small steps, while the model is the one it sums up */
  let soFar = null;
  let lastMathKey = '';
  let playing = null; // the client-side step loop, when playing slowly
  let firstState = true;
  /** @type {Map<string, Set<Function>>} */
  const listeners = new Map();
  // In a classroom: 'presenter', 'follower', or 'explore' (a follower's own
  // fork of the room); null on an ordinary page.
  const room = options.room ?? null;
  /** @type {'presenter'|'follower'|'explore'|null} */
  let mode = room ? room.role : null;
  let roomEnded = false;
  let lastState = null; // after a class ended: the lesson a student explores on its own
  if (mode) root.dataset.mode = mode;
  let viewSent = false; // the presenter's view has gone out on this connection

  /** parseView reads a saved view, or null. */
  function parseView(text) {
    try {
      const v = JSON.parse(text ?? 'null');
      return v && typeof v === 'object' ? { math: typeof v.math === 'boolean' ? v.math : undefined, granularity: typeof v.granularity === 'string' ? v.granularity : undefined } : null;
    } catch {
      return null;
    }
  }

  /** store and recall keep a page preference in localStorage, when there is one. */
  function store(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Storage is off: the preference lasts until the page is closed.
    }
  }
  function recall(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  }

  // presenterFit sizes a presenter's diagram for the room: with the
  // projector theme on a wide screen, up to 1.8× larger (its labels too). On a
  // wide screen the drawing takes the window's height that is left under
  // the bars and above the step controls, so that the diagram, Step and the
  // question beside them are on screen together without scrolling (a
  // teacher who scrolls down to Step pushes the diagram's top off the
  // projector); the full join bar leaves less, the slim strip more.
  function presenterFit() {
    const wide = innerWidth >= 1200;
    const stage = $('stage');
    // Up to 1.8× larger, as long as the drawing is still laid out for 760
    // px (a lesson page's stage beside its cards on a 1280 px projector is
    // too narrow to zoom: its neurons shrank to dots).
    const zoom = resolvedTheme() === 'projector' && wide ? Math.min(1.8, Math.max(1, (stage?.clientWidth ?? 0) / 760)) : 1;
    if (!wide) return { zoom, maxHeight: Math.max(240, innerHeight * 0.5) };
    const controls = root.querySelector('.stage-col .controls');
    const svg = stage?.querySelector('svg');
    fitted = !!(stage && controls && svg);
    if (!fitted) return { zoom, maxHeight: innerHeight * 0.6 };
    const box = stage.getBoundingClientRect();
    // The page's own offsets, not the scrolled ones: the fit is the same
    // wherever the page is scrolled to.
    const top = box.top + scrollY;
    const around = box.height - svg.getBoundingClientRect().height; // the stage's padding and scale note
    const below = controls.getBoundingClientRect().bottom - box.bottom; // the legend and the controls
    const left = innerHeight - top - around - below - MISTAKE_H * zoom - 12;
    // What keeps the Step button, at least, on the screen.
    const step = root.querySelector('[data-role=step]');
    const toStep = step ? innerHeight - top - around - (step.getBoundingClientRect().bottom - box.bottom) - MISTAKE_H * zoom - 12 : left;
    return { zoom, maxHeight: Math.max(zoom * 150, left), toStep };
  }
  /** projected: a presenter's page, or any page in the projector theme. */
  function projected() {
    return room?.role === 'presenter' || resolvedTheme() === 'projector';
  }
  // Whether the last fit measured a drawn diagram; until one has, each
  // drawing asks for another fit on the next frame.
  let fitted = false;
  let refit = false;
  addEventListener('resize', () => {
    if (projected()) diagram.resize(true);
  });
  if (room?.role === 'presenter') {
    // What sits above the diagram may change height after it was fitted
    // (the loopback warning and the addresses it offers arrive later).
    let barHeight = -1;
    new ResizeObserver(([e]) => {
      const h = Math.round(e.contentRect.height);
      if (barHeight >= 0 && h !== barHeight) diagram.resize(true);
      barHeight = h;
    }).observe($('room-bar') ?? root);
  }

  // Theme.
  const applyTheme = () => {
    const html = document.documentElement;
    html.dataset.theme = resolvedTheme();
    for (const [k, v] of Object.entries(cssVariables(pal()))) html.style.setProperty(k, v);
  };
  applyTheme();
  const themeSelect = $('theme', HTMLSelectElement);
  if (themeSelect) {
    themeSelect.value = theme;
    themeSelect.addEventListener('change', () => {
      theme = themeSelect.value;
      store('netstep.theme', theme);
      applyTheme();
      charts.redraw(model);
      diagram.resize(true);
      diagram.render(model, null);
    });
  }
  darkQuery.addEventListener('change', () => {
    applyTheme();
    charts.redraw(model);
    diagram.render(model, null);
  });

  const status = $('status');
  const setStatus = (text, kind = '') => {
    status.textContent = text;
    status.dataset.kind = kind;
  };

  // A notice stays until the learner dismisses it: for problems that the
  // connection's own status ("Connected.") must not replace.
  const noticeBox = $('notice');
  const notice = (text, kind = 'error') => {
    if (!noticeBox) {
      setStatus(text, kind);
      return;
    }
    $('notice-text').textContent = text;
    noticeBox.dataset.kind = kind;
    noticeBox.hidden = !text;
  };
  $('notice-close')?.addEventListener('click', () => {
    notice('');
    $('step')?.focus();
  });

  // On a phone the inspector sits far below the diagram: a neuron or
  // weight picked there opens it as a sheet over the bottom of the screen,
  // next to what was tapped, with a button to close it.
  const phone = matchMedia('(max-width: 700px)');
  const inspectorCard = $('inspector')?.closest('section, .card') ?? null;
  let sheetClose = null;
  if (inspectorCard) {
    sheetClose = document.createElement('button');
    sheetClose.type = 'button';
    sheetClose.className = 'btn sheet-close';
    sheetClose.textContent = 'Close';
    sheetClose.hidden = true;
    sheetClose.addEventListener('click', () => closeSheet(true));
    inspectorCard.prepend(sheetClose);
  }
  function openSheet() {
    if (!inspectorCard || !phone.matches) return;
    inspectorCard.classList.add('sheet');
    sheetClose.hidden = false;
  }
  function closeSheet(refocus) {
    if (!inspectorCard?.classList.contains('sheet')) return;
    inspectorCard.classList.remove('sheet');
    sheetClose.hidden = true;
    const stage = $('stage');
    if (refocus && stage) find(stage, '.node.selected, .edge.selected', SVGElement)?.focus();
  }
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeSheet(true);
  });
  phone.addEventListener('change', () => closeSheet(false));

  const diagram = createDiagram($('stage'), {
    onSelect: (sel) => {
      selection = sel;
      openSheet();
      schedule();
    },
    reducedMotion: () => reduced.matches,
    palette: pal,
    // A presenter's diagram is fitted to the room; so is anyone's with the
    // projector theme (a teacher showing a lesson without a class) where
    // its stage is wide enough to draw it larger, never smaller than it
    // would be drawn without (a 1280 px projector's lesson page left it
    // 209 px tall under the intro).
    fit: () => {
      if (room?.role === 'presenter') return presenterFit();
      if (resolvedTheme() !== 'projector') return undefined;
      const f = presenterFit();
      if (f.zoom <= 1) return undefined;
      // No smaller than unzoomed, unless that leaves Step below the
      // screen's edge (a 1280×800 projector): then as tall as keeps it on
      // the screen, down to MIN_PROJECTED.
      const natural = naturalHeight(innerHeight);
      const floor = f.toStep === undefined ? natural : Math.min(natural, Math.max(MIN_PROJECTED, f.toStep));
      return { zoom: f.zoom, maxHeight: Math.max(f.maxHeight, floor) };
    },
    // Play paced by the page: each step's animation fills the time until
    // the next one.
    stepBudget: () => (playing?.paced ? 1000 / (controls.stepsPerSecond() || 1) : null),
    // Blames read "blame −0.11", or "∂ −0.11" with the math shown.
    math: () => mathShown,
  });
  const inspector = createInspector($('inspector'), { onSetWeight: (cmd) => send(cmd) });
  const charts = createCharts(
    { loss: $('loss-chart'), summary: $('loss-summary'), boundaryBox: $('boundary-box'), boundary: $('boundary'), hidden: $('hidden-maps') },
    { palette: pal, added: () => adder?.points() ?? [] },
  );
  // Clicking the boundary plot adds points (a class chosen under it).
  const adder = createPointAdder($, {
    canvas: () => charts.canvas(),
    domain: () => charts.domain(),
    model: () => model,
    send: (cmd) => {
      stopPlaying();
      setStatus('Restarting with your points…');
      send(cmd);
    },
    redraw: () => charts.redraw(model),
  });
  const table = createTable($('values-table'), $('table-box'));
  const settings = createSettings($('settings', HTMLFormElement), {
    onApply: (lesson) => {
      stopPlaying();
      setStatus('Restarting with the new settings…');
      firstState = true;
      send({ cmd: 'load', lesson });
    },
    limits: () => model.limits,
  });

  // The math switch.
  const mathToggle = $('math-toggle', HTMLInputElement);
  const mathBox = $('math');
  // math.js (a tenth of the page's script) loads when the math is first
  // shown: most learners never open it, and a first visit stays within its
  // bytes.
  /** @type {typeof import('./math.js')|null} */
  let math = null;
  /** @type {Promise<void>|null} */
  let mathLoading = null;
  const loadMath = () => {
    mathLoading ??= import('./math.js').then(
      (mod) => {
        math = mod;
        lastMathKey = '';
        schedule();
      },
      (err) => {
        mathLoading = null;
        mathBox.textContent = `The math could not be loaded (${err.message}); switch it off and on to try again.`;
      },
    );
  };
  const showMath = (on, fromUser = false) => {
    mathShown = on;
    // The legend names ∂L/∂z only beside the math (.math-only).
    document.documentElement.classList.toggle('math-shown', on);
    if (on) loadMath();
    if (!on) diagram.markBlame([]);
    mathToggle.checked = on;
    mathBox.hidden = !on;
    lastMathKey = '';
    schedule();
    if (fromUser) tellView();
  };
  mathToggle.addEventListener('change', () => showMath(mathToggle.checked, true));
  showMath(mathShown);

  // Help dialog.
  const help = $('help', HTMLDialogElement);
  $('help-open').addEventListener('click', () => help.showModal());

  const lessonSelect = $('lesson-select', HTMLSelectElement);
  lessonSelect?.addEventListener('change', () => {
    const name = lessonSelect.value;
    if (mode === 'presenter') {
      stopPlaying();
      send({ cmd: 'load', name });
    } else if (options.onLessonChange) options.onLessonChange(name);
    else location.assign(`/lesson/${encodeURIComponent(name)}`);
  });

  // Controls.
  const controls = createControls($, {
    step: () => doStep(),
    back: () => {
      stopPlaying();
      quiz?.abort();
      send({ cmd: 'back' });
    },
    play: () => togglePlay(),
    speed: () => speedChanged(),
    reset: () => {
      stopPlaying();
      send({ cmd: 'reset' });
    },
    action: (a) => {
      if (a === 'step') doStep();
      else if (a === 'back') {
        stopPlaying();
        quiz?.abort();
        send({ cmd: 'back' });
      } else if (a === 'play') togglePlay();
      else if (a === 'reset') {
        stopPlaying();
        send({ cmd: 'reset' });
      } else if (a === 'math') showMath(!mathShown, true);
      else if (a === 'table') {
        const box = $('table-box', HTMLDetailsElement);
        box.open = !box.open;
      } else if (a === 'help') help.showModal();
      else if (a.startsWith('granularity:')) {
        if (following()) return;
        controls.setGranularity(a.slice(12));
        tellView();
      }
    },
  });
  if (options.granularity) controls.setGranularity(options.granularity);
  else if (savedView?.granularity) controls.setGranularity(savedView.granularity);
  $('granularity').addEventListener('change', () => tellView());

  // tellView sends the presenter's view (the math switch, the step size) to
  // the room, whose followers' pages apply it.
  function tellView() {
    if (mode !== 'presenter') return;
    store(`netstep.view.${room.code}`, JSON.stringify({ math: mathShown, granularity: controls.granularity() }));
    if (socket.isOpen()) send({ cmd: 'view', math: mathShown, granularity: controls.granularity() });
  }

  // following reports whether this page only watches (a follower not
  // exploring), and says so when the learner tries to drive.
  function following() {
    if (mode !== 'follower') return false;
    setStatus(roomEnded ? endedText('follower', '') : 'You are following your teacher. Choose “Explore on my own” to try it yourself.', 'warn');
    return true;
  }

  // Predict, then reveal: the lesson's questions, asked before the steps
  // that reach them. Answers go to 'answer' listeners as {type, answer}.
  // While a question waits (or the page steps on to its answer) Step and
  // Play are off, with a pointer to the question.
  const askBox = $('ask');
  // In a room the class votes instead (vote.js): the presenter's page puts
  // the question to the class and sends the answer its step finds.
  const voteBox = $('vote');
  const vote = room && voteBox && options.createVote
    ? options.createVote(voteBox, {
        role: () => mode,
        model: () => model,
        send: (cmd) => send(cmd),
        request: (cmd) => socket.request(cmd),
        selection: () => selection,
        pick: $('vote-pick'),
        askButton: $('vote-ask'),
        quickButton: $('vote-quick'),
      })
    : null;
  const quiz = askBox && options.questions !== false
    ? createAsk(askBox, {
        onAnswer: (answer) => {
          vote?.answered(answer);
          emit({ type: 'answer', answer });
        },
        returnFocus: () => $('step').focus(),
        onChange: () => schedule(),
        pose: room?.role === 'presenter' && vote ? (i) => vote.pose(i) : undefined,
      })
    : null;
  const askWait = document.createElement('span');
  askWait.className = 'ask-wait';
  askWait.dataset.role = 'ask-wait';
  askWait.hidden = true;
  $('play')?.closest('.controls')?.append(askWait);
  // Play stops at questions (on by default when the lesson has any).
  const playQuestions = $('play-questions', HTMLInputElement);

  /** showQuizState turns Step and Play off while a question is open and says why. */
  function showQuizState() {
    const busy = !!quiz?.busy() && mode !== 'follower';
    if (busy) {
      $('step', HTMLButtonElement).disabled = true;
      $('play', HTMLButtonElement).disabled = true;
    }
    // Written only when they change (a write recomputes styles and
    // layout, on every frame of Play).
    if (askWait.hidden !== !busy) askWait.hidden = !busy;
    const wait = quiz?.waiting() ? (vote ? 'The class is voting: Reveal when ready ↓' : 'Answer or skip ↓') : 'Finding out the answer ↓';
    if (askWait.textContent !== wait) askWait.textContent = wait;
    const hasQuestions = Array.isArray(model.lesson?.questions) && model.lesson.questions.length > 0;
    const box = /** @type {HTMLElement|null} */ (playQuestions?.closest('[data-control]'));
    if (box && box.hidden !== (!quiz || !hasQuestions)) box.hidden = !quiz || !hasQuestions;
  }

  function doStep() {
    if (following()) return;
    if (model.running) {
      stopPlaying();
      return;
    }
    if (vote?.busy()) {
      setStatus('A question is open to the class: press Reveal to step on.', 'warn');
      $('vote-reveal')?.focus();
      return;
    }
    if (quiz?.busy()) {
      // The → key and a click on the (disabled) Step lead to the question.
      quiz.focus();
      return;
    }
    diagram.finish();
    const granularity = controls.granularity();
    if (!quiz) {
      send({ cmd: 'step', granularity });
      return;
    }
    stepWithQuestions(granularity);
  }

  // pacedStep is a step the page takes by itself (up to a question, or on
  // to its answer): no faster than the server's command rate allows, and
  // tried again after a moment if the server asks to slow down.
  let lastPaced = 0;
  async function pacedStep(granularity) {
    const gap = 1000 / Math.max(1, (model.limits?.commandsPerSecond ?? 50) * 0.8);
    for (let attempt = 0; ; attempt++) {
      const wait = lastPaced + gap - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      lastPaced = performance.now();
      try {
        return await socket.request({ cmd: 'step', granularity });
      } catch (err) {
        if (err?.code !== 'slow_down' || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  // stepWithQuestions takes a step, asking the questions it reaches first.
  // When the step would pass a question's moment only after other moments
  // (an update question, at "sample" step size, comes after the example's
  // guess; a question about the output comes once the example is in), it
  // first steps up to just before that moment, so the learner sees what
  // the question is about before predicting; then it asks, takes the step,
  // and steps on until every answer is known (the next example's loss, or
  // a number of epochs), so the answer shows without another press.
  // It resolves 'answered' when it asked and every answer is shown,
  // 'interrupted' when a question was taken away (Back, Reset), the
  // learner pressed Stop here or a step failed, and false when it stepped
  // without asking.
  async function stepWithQuestions(granularity) {
    const at = quiz.stopAt(model, granularity);
    const events = [];
    let pieces = 0;
    const collect = () => {
      // Only the example under way: a new one starts the summary over.
      if (model.events.some((e) => e.type === 'sample')) events.length = 0;
      events.push(...model.events);
      pieces++;
    };
    const summarize = () => {
      if (pieces > 1 && events.length && !model.events.some((e) => e.type === 'epoch')) {
        soFar = { model, narration: narrateSoFar(model, events, { math: mathShown }) };
        showNarration(model);
        // The class sees this summary too: its pages saw only the small
        // steps, one at a time.
        if (mode === 'presenter' && socket.isOpen()) {
          const n = soFar.narration;
          send({ cmd: 'view', say: (n.text + (n.note ? `\n${n.note}` : '')).slice(0, 2000) });
        }
      }
    };
    if (at) {
      quiz.hold(true);
      try {
        // A batch may need several examples: bounded, in case the
        // position and the engine ever disagree.
        for (let i = 0; i < 400 && model.position && !reached(model.position, at) && !model.diverged; i++) {
          const g = model.position.phase === at.phase && at.layer !== undefined ? 'micro' : 'phase';
          await pacedStep(g);
          collect();
        }
      } catch {
        return 'interrupted'; // the error frame has said why
      } finally {
        quiz.hold(false);
      }
      // The narration sums up the small steps, not just the last one.
      summarize();
    }
    if (!quiz.due(model, granularity)) {
      await socket.request({ cmd: 'step', granularity }).catch(() => {});
      return false;
    }
    events.length = 0;
    pieces = 0;
    if (!(await quiz.beforeStep(model, granularity))) return 'interrupted';
    // When the step would also pass a later question's moment, only the
    // moment just asked about is taken, so its answer shows first.
    const g = quiz.due(model, granularity) ? 'phase' : granularity;
    quiz.hold(true);
    let all = false;
    try {
      await socket.request({ cmd: 'step', granularity: g });
      collect();
      const limit = quiz.settleLimit();
      for (let i = 0; i < limit && !model.diverged; i++) {
        const next = quiz.settling();
        if (!next) break;
        quiz.settleProgress(model, i + 1);
        await pacedStep(next);
        collect();
      }
    } catch {
      // The error frame has said why.
    } finally {
      quiz.hold(false);
      all = quiz.settled();
    }
    summarize();
    return all ? 'answered' : 'interrupted';
  }

  // playToQuestion is Play while questions remain and "stop at questions"
  // is on: the page steps at the chosen speed and stops where a question
  // is due, asks it, shows its answer and plays on (unless the learner
  // went back, reset or stopped before the answer came).
  async function playToQuestion() {
    const loop = { stop: false };
    playing = loop;
    dispatch({ type: 'running', running: true });
    try {
      while (!loop.stop && !model.diverged) {
        const g = controls.granularity();
        if (quiz.stopAt(model, g) || quiz.due(model, g)) {
          playing = null;
          dispatch({ type: 'running', running: false });
          if ((await stepWithQuestions(g)) === 'interrupted' || loop.stop || model.diverged) return;
          playing = loop;
          dispatch({ type: 'running', running: true });
          // A moment to read the answer (Pause keeps it) before the
          // training, and the next question, move on.
          await new Promise((r) => setTimeout(r, REVEAL_READ_MS));
          continue;
        }
        if (quiz.remaining(model) === 0) break;
        const started = performance.now();
        await pacedStep(g);
        const sps = controls.stepsPerSecond();
        const wait = sps > 0 ? Math.max(0, 1000 / sps - (performance.now() - started)) : 0;
        await new Promise((r) => setTimeout(r, wait));
      }
    } catch {
      // The error frame has said why.
    }
    if (playing === loop) {
      playing = null;
      dispatch({ type: 'running', running: false });
      // Every question has been asked: Play goes on the ordinary way.
      if (!loop.stop && !model.diverged && quiz.remaining(model) === 0) togglePlay();
    }
  }

  function stopPlaying() {
    if (playing) {
      playing.stop = true;
      playing = null;
      dispatch({ type: 'running', running: false });
    } else if (model.running) {
      send({ cmd: 'pause' });
    }
  }

  function togglePlay() {
    if (following()) return;
    if (model.running || playing) {
      stopPlaying();
      return;
    }
    if (quiz?.busy()) {
      quiz.focus();
      return;
    }
    if (quiz && playQuestions?.checked && quiz.remaining(model) > 0) {
      playToQuestion();
      return;
    }
    startPlaying();
  }

  /** startPlaying plays at the speed and step size the controls show. */
  function startPlaying() {
    const sps = controls.stepsPerSecond();
    const g = controls.granularity();
    if (pacedByPage(sps, g)) {
      startLoop();
      return;
    }
    dispatch({ type: 'running', running: true });
    send(runCommand(sps, g));
  }

  // startLoop plays slowly enough to watch: the page steps, so every step
  // is animated and narrated. It reads the speed before each wait, so a
  // new speed takes effect at the next step.
  function startLoop() {
    const loop = { stop: false, paced: true };
    playing = loop;
    dispatch({ type: 'running', running: true });
    const tick = async () => {
      while (!loop.stop) {
        const started = performance.now();
        try {
          await pacedStep(controls.granularity());
        } catch {
          break;
        }
        const wait = Math.max(0, 1000 / controls.stepsPerSecond() - (performance.now() - started));
        await new Promise((r) => setTimeout(r, wait));
      }
      if (playing === loop) {
        playing = null;
        dispatch({ type: 'running', running: false });
      }
    };
    tick();
  }

  // A speed change during Play takes effect at once: a running server gets
  // a new run command (which keeps training and changes its pace); crossing
  // into or out of the page-paced speeds switches between the two. Moving
  // the slider fires many input events: the page sends at most one change
  // every RETUNE_MS (the latest speed wins), well inside the server's
  // command rate limit.
  let retuneTimer = null;
  let lastRetune = 0;
  function speedChanged() {
    if (!(model.running || playing) || retuneTimer) return;
    const wait = Math.max(0, lastRetune + RETUNE_MS - performance.now());
    retuneTimer = setTimeout(() => {
      retuneTimer = null;
      lastRetune = performance.now();
      retune();
    }, wait);
  }
  async function retune() {
    if (following() || !(model.running || playing)) return;
    const sps = controls.stepsPerSecond();
    const g = controls.granularity();
    const slow = pacedByPage(sps, g);
    if (playing) {
      // A loop reads the speed before each wait; Play up to a question
      // stays with the page whatever the speed.
      if (slow || !playing.paced) return;
      playing.stop = true;
      playing = null;
      send(runCommand(sps, g));
      return;
    }
    if (!slow) {
      send(runCommand(sps, g));
      return;
    }
    try {
      await socket.request({ cmd: 'pause' });
    } catch {
      return;
    }
    startLoop();
  }

  // Frames.
  function dispatch(frame) {
    const before = model;
    model = reduce(model, frame);
    // A summary of small steps stays while frames that change nothing of
    // the picture come (the done of a command, a boundary).
    if (soFar && soFar.model === before && (frame.type === 'done' || frame.type === 'boundary')) soFar = { ...soFar, model };
    if (model !== before) {
      if (!pendingPrev) pendingPrev = before;
      schedule();
    }
    if (frame.type === 'state' && frame.reason === 'load') adder.clear();
    if (frame.type === 'state' && frame.reason === 'load' && firstState) {
      firstState = false;
      const view = model.lesson?.view;
      if (view?.granularity && !options.granularity) controls.setGranularity(view.granularity === 'micro' || view.granularity === 'neuron' ? 'micro' : view.granularity);
      if (view && typeof view.math === 'boolean' && options.math === undefined) showMath(view.math);
      if (playQuestions) playQuestions.checked = Array.isArray(model.lesson?.questions) && model.lesson.questions.length > 0;
      selection = null;
    }
    if (vote) {
      if (frame.type === 'events') vote.onEvents((frame.events ?? []).map(expandEvent));
      else vote.onFrame(frame);
    }
    if (quiz) {
      if (frame.type === 'events') quiz.onEvents((frame.events ?? []).map(expandEvent));
      else if (frame.type === 'state' && (frame.reason === 'load' || frame.reason === 'reset')) quiz.clear();
    }
    if (frame.type === 'hello') viewSent = false;
    else if (frame.type === 'view' && mode === 'follower') {
      if (typeof frame.math === 'boolean') showMath(frame.math);
      if (frame.granularity) controls.setGranularity(frame.granularity);
      if (typeof frame.say === 'string' && frame.say) {
        // The presenter's narration of the steps it took up to a question.
        const [text, ...note] = frame.say.split('\n');
        soFar = { model, narration: { text, note: note.length ? note.join('\n') : null, phase: null } };
        showNarration(model);
      }
    } else if (frame.type === 'room') {
      if (mode === 'follower' && frame.seat && room) {
        // Kept for this tab: a reconnect (or a reload) keeps the vote.
        room.seat = frame.seat;
        try {
          sessionStorage.setItem(`netstep.seat.${room.code}`, frame.seat);
        } catch {
          // Storage is off: a reconnect votes afresh.
        }
      }
      if (mode === 'presenter') {
        const el = $('room-followers');
        if (el) el.textContent = followersText(frame.followers ?? 0);
        // The presenter's view goes to the room once per connection.
        if (!viewSent) tellView();
        viewSent = true;
      }
    } else if (frame.type === 'roomEnded') {
      roomEnded = true;
      const text = endedText(room?.role ?? 'follower', frame.reason);
      setStatus(text, 'warn');
      socket.close();
      root.dataset.ended = 'true';
      // Both sides say so; a student may go on with the last state alone.
      const modeText = $('room-mode');
      if (modeText) modeText.textContent = text;
      const followers = $('room-followers');
      if (followers) followers.textContent = text;
      for (const r of ['room-end', 'room-follow', 'room-slim', 'join-card-open']) {
        const b = $(r);
        if (b) b.hidden = true;
      }
      // Nobody can join an ended class: no link, no QR code, no questions.
      for (const el of findAll(root, '.room-qr, .room-how, .room-warning, .room-ask')) el.hidden = true;
      $('join-card', HTMLDialogElement)?.close();
      const explore = $('room-explore');
      if (explore && mode === 'follower') {
        explore.textContent = 'Explore the last state on my own';
        explore.hidden = false;
      } else if (explore) explore.hidden = true;
      vote?.hide();
      schedule();
    }
    if (frame.type === 'error') {
      if (frame.code === 'internal') setStatus(`Something went wrong on the server: ${frame.message}`, 'error');
      else setStatus(FRIENDLY[frame.code] ?? frame.message, 'error');
      if (frame.code === 'running' || frame.code === 'diverged') stopPlaying();
    } else if (frame.type === 'state' && status.dataset.kind === 'error') {
      setStatus('Connected.', 'ok');
    }
    emit(frame);
  }

  /** emit calls the listeners of frame.type and of "*". */
  function emit(frame) {
    for (const key of [frame.type, '*']) for (const fn of listeners.get(key) ?? []) fn(frame);
  }

  // Glossary popovers live outside the text they explain (glossary.js).
  const narrationTips = document.createElement('div');
  const introTips = document.createElement('div');
  narrationTips.className = introTips.className = 'term-tips';
  root.append(narrationTips, introTips);

  // After a divergence Step is off: Back and Reset are offered right under
  // the explanation, outside the live region so it is read without them.
  const recover = document.createElement('div');
  recover.className = 'row recover';
  recover.dataset.role = 'recover';
  recover.hidden = true;
  for (const [role, label] of [['back', 'Back one step'], ['reset', 'Reset: start over']]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = role === 'back' ? 'btn primary' : 'btn';
    b.dataset.recover = role;
    b.textContent = label;
    b.addEventListener('click', () => $(role).click());
    recover.append(b);
  }
  $('narration')?.after(recover);

  /** showRecover shows Back and Reset beside a divergence, and moves focus there from the disabled Step. */
  function showRecover(m) {
    const show = !!m.diverged && mode !== 'follower';
    if (show && recover.hidden) {
      recover.hidden = false;
      if (document.activeElement === $('step') || document.activeElement === document.body) recover.querySelector('button').focus();
    } else if (!show && !recover.hidden) {
      recover.hidden = true;
    }
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  }

  /**
   * showNarration puts what the model's last change did in the narration
   * panel (or the summary of the small steps taken up to a question).
   * @param {import('./state.js').Model} m
   */
  function showNarration(m) {
    // During Play the narration (an aria-live region) changes at most
    // once a second, so that a screen reader can finish each sentence.
    if (m.reason === 'progress' && performance.now() - narratedAt < 1000) return;
    // Faster than an epoch a second since the last sentence, an epoch in
    // the sentence would trail the position line's.
    const epoch = m.position?.epoch ?? 0;
    const fast = m.reason === 'progress' && narratedEpoch !== null && epoch - narratedEpoch > (performance.now() - narratedAt) / 1000;
    const n = soFar?.model === m ? soFar.narration : narrate(m, { math: mathShown, fast });
    const text = n.text + (n.note ? '\n' + n.note : '');
    if (text !== lastNarration && (n.text || m.reason !== 'progress')) {
      lastNarration = text;
      narratedAt = performance.now();
      narratedEpoch = m.reason === 'progress' ? epoch : null;
      const box = $('narration');
      const say = document.createElement('p');
      say.className = `say phase-${n.phase ?? 'none'}`;
      // The lesson's glossary words become buttons that open their meaning.
      const words = m.lesson?.glossary ?? [];
      narrationTips.replaceChildren();
      say.replaceChildren(...termNodes(document, n.text, words, narrationTips));
      box.replaceChildren(say);
      for (const line of n.note ? n.note.split('\n') : []) {
        const note = document.createElement('p');
        note.className = 'note';
        note.replaceChildren(...termNodes(document, line, words, narrationTips));
        box.append(note);
      }
    }
  }

  // lessonPanels fits the decision-boundary card to the lesson: hidden
  // when the training set is too small for a map to mean anything (the
  // worked example's single point), and with the lesson's class and input
  // names instead of "class 1" and "class 0" (classmap.js mapPanels).
  let panelsFor = null;
  let panelDefault = null;
  function lessonPanels(m) {
    const box = $('boundary-box');
    if (!box) return;
    if ((m.data?.train?.length ?? 0) < 4) box.hidden = true;
    if (panelsFor === m.lesson) return;
    panelsFor = m.lesson;
    const legend = find(box, 'p.muted.small');
    const field = find(box, 'fieldset.add-points');
    if (!legend || !field) return;
    const choices = () => findAll(field, 'input[name=boundary-add]', HTMLInputElement).filter((i) => i.value !== '');
    panelDefault ??= { caption: legend.cloneNode(true), choices: choices().map((i) => ({ value: i.value, label: i.closest('label')?.textContent?.trim() ?? i.value })) };
    const fit = mapPanels(m);
    if (fit) legend.textContent = fit.caption;
    else legend.replaceChildren(...panelDefault.caption.cloneNode(true).childNodes);
    const want = fit?.choices ?? panelDefault.choices;
    const have = choices().map((i) => ({ value: i.value, label: i.closest('label')?.textContent?.trim() ?? i.value }));
    // The same choices (a lesson sent again): leave the learner's pick.
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    for (const i of choices()) i.closest('label')?.remove();
    for (const c of want) {
      const label = document.createElement('label');
      label.className = 'check';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'boundary-add';
      input.value = c.value;
      label.append(input, ` ${c.label}`);
      field.append(label);
    }
    const off = find(field, 'input[name=boundary-add][value=""]', HTMLInputElement);
    if (off) off.checked = true;
    adder.update?.();
  }

  function render() {
    scheduled = false;
    const prev = pendingPrev;
    pendingPrev = null;
    const m = model;
    if (!m.network) return;
    // While the page trains on epoch by epoch to a question's answer, the
    // diagram is drawn without its step animation, which would take longer
    // than the steps themselves.
    const t0 = performance.now();
    const edgesDrawn = diagram.render(m, quiz?.settling() === 'epoch' ? null : prev);
    if (projected() && !fitted && !refit) {
      // The first drawing was sized before the page had laid out around
      // it: fit it again to the room it has (presenterFit).
      refit = true;
      requestAnimationFrame(() => {
        refit = false;
        diagram.resize(true);
      });
    }
    const took = performance.now() - t0;
    drawn.frames++;
    drawn.total += took;
    drawn.max = Math.max(drawn.max, took);
    if (edgesDrawn) {
      drawn.edgeFrames++;
      drawn.edgeTotal += took;
    }
    if (selection) diagram.select(selection);
    controls.render(m);
    showQuizState();
    if (mode === 'follower' || (roomEnded && mode === 'presenter')) {
      // A follower's teacher drives; an ended class's presenter has no
      // session left to drive.
      for (const r of ['step', 'back', 'play', 'reset']) $(r, HTMLButtonElement).disabled = true;
      $('granularity', HTMLSelectElement).disabled = true;
    }

    showNarration(m);
    showRecover(m);
    vote?.render(m);

    if (mathShown && math) {
      const sel = selection ?? math.defaultSelection(m);
      diagram.markBlame(math.blameEdges(m, sel));
      const key = m.seq + JSON.stringify(sel);
      if (key !== lastMathKey && !(m.running && m.reason === 'progress')) {
        lastMathKey = key;
        math.renderMath(mathBox, math.formulas(m, sel));
      }
    }
    inspector.render(m, selection);
    charts.render(m);
    lessonPanels(m);
    table.render(m);
    if (m.lesson) {
      settings.setLesson(m.lesson);
      renderAbout(m.lesson);
    }
    prevRendered = m;
  }

  // The intro is cut to its first lines so the network stays in view; a
  // button after it shows the rest (and hides it again).
  let introMore = null;
  function showWholeIntro(intro) {
    if (!introMore) {
      introMore = document.createElement('button');
      introMore.type = 'button';
      introMore.className = 'link-btn intro-more';
      introMore.setAttribute('aria-expanded', 'false');
      introMore.addEventListener('click', () => {
        const open = intro.classList.toggle('open');
        introMore.setAttribute('aria-expanded', String(open));
        introMore.textContent = open ? 'Show less' : 'Read the whole introduction';
      });
      intro.after(introMore);
    }
    intro.classList.remove('open');
    introMore.setAttribute('aria-expanded', 'false');
    introMore.textContent = 'Read the whole introduction';
    // Only when the text is cut.
    requestAnimationFrame(() => {
      introMore.hidden = intro.scrollHeight <= intro.clientHeight + 2;
    });
  }

  /**
   * showLessonChoice makes the lesson list show the lesson running, which
   * need not be the one the page was served with (a room opened with a
   * teacher's own lesson, a lesson from a file): a lesson of one's own is
   * named as such, and is not a choice to load.
   */
  function showLessonChoice(lesson) {
    if (!lessonSelect) return;
    let own = find(lessonSelect, 'option[data-own]', HTMLOptionElement);
    const builtin = [...lessonSelect.options].find((o) => !o.dataset.own && o.value === lesson.name);
    if (builtin) {
      own?.remove();
      lessonSelect.value = builtin.value;
      return;
    }
    if (!own) {
      own = document.createElement('option');
      own.dataset.own = 'true';
      own.value = '';
      own.disabled = true;
      lessonSelect.prepend(own);
    }
    own.textContent = `Your own: ${lesson.title || 'untitled lesson'}`;
    lessonSelect.value = '';
    own.selected = true;
  }

  let aboutFor = null;
  function renderAbout(lesson) {
    if (aboutFor === lesson) return;
    aboutFor = lesson;
    if (lesson.title) {
      $('lesson-title').textContent = lesson.title;
      document.title = `${lesson.title} · netstep`;
    }
    showLessonChoice(lesson);
    introTips.replaceChildren();
    const intro = $('intro');
    intro.replaceChildren(...termNodes(document, lesson.intro ?? lesson.summary ?? '', lesson.glossary ?? [], introTips));
    showWholeIntro(intro);
    const about = $('about');
    const kids = [];
    const p = document.createElement('p');
    p.textContent = lesson.intro || lesson.summary || 'This lesson has no introduction.';
    kids.push(p);
    if (Array.isArray(lesson.glossary) && lesson.glossary.length) {
      const h = document.createElement('h3');
      h.textContent = 'Words used here';
      const dl = document.createElement('dl');
      dl.className = 'glossary';
      for (const t of lesson.glossary) {
        const dt = document.createElement('dt');
        dt.textContent = t.term;
        const dd = document.createElement('dd');
        dd.textContent = t.meaning;
        dl.append(dt, dd);
      }
      kids.push(h, dl);
    }
    about.replaceChildren(...kids);
  }

  const wsURL = new URL(options.ws ?? '/ws', location.href);
  wsURL.protocol = wsURL.protocol === 'https:' ? 'wss:' : 'ws:';
  // Events in the compact form: about 60% of the bytes (protocol.md). The
  // reducer and everything that reads events expand them to the objects
  // that hosts and the step log get. A classroom room sends whatever form
  // its session has; the page reads either.
  if (!room) wsURL.searchParams.set('events', 'compact');
  if (room?.role === 'follower') {
    try {
      room.seat = sessionStorage.getItem(`netstep.seat.${room.code}`) ?? undefined;
    } catch {
      // Storage is off.
    }
  }
  const urls = room ? roomURLs(wsURL.href, room) : null;
  // The live connection presents the presenter's token or the follower's
  // latest seat, as subprotocols: never in the URL, which proxies log.
  const liveCredentials = () => roomCredentials(room);
  // A presenter link without its token would silently follow: say so.
  const missingToken = room?.role === 'presenter' && !room.token;
  // One whose token cannot be a token the server gave out is wrong.
  const badToken = room?.role === 'presenter' && !!room.token && !credentialOK(room.token);
  const socket = createSocket({
    url: urls ? urls.live : wsURL.href,
    credentials: room ? liveCredentials : undefined,
    connect: !missingToken && !badToken,
    onFrame: dispatch,
    // A classroom page whose handshake is refused (an ended or unknown room:
    // 404; a wrong token: 403) asks the server about the room, since the
    // browser hides the status, and stops with a sentence that says why.
    refused: room ? (failures) => roomRefusal(failures) : undefined,
    rejoin: () => mode === 'presenter' || mode === 'follower',
    onStatus: (s, why) => {
      dispatch({ type: 'connection', status: s });
      if (s === 'closed' && why) {
        setStatus(why, 'error');
        notice(why);
        for (const r of ['room-explore', 'room-follow', 'room-end']) {
          const b = $(r, HTMLButtonElement);
          if (b) b.disabled = true;
        }
        // A student refused (a full room, an ended class) follows nobody:
        // the bar must not say otherwise.
        const modeText = $('room-mode');
        if (modeText && mode === 'follower') {
          modeText.textContent = 'You are not following this class.';
          for (const r of ['room-explore', 'room-follow']) {
            const b = $(r, HTMLButtonElement);
            if (b) b.hidden = true;
          }
        }
        narrateText(why);
      } else if (s === 'connecting') setStatus('Connecting…');
      else if (s === 'open') setStatus('Connected.', 'ok');
      else if (s === 'reconnecting') {
        if (playing) {
          playing.stop = true;
          playing = null;
        }
        setStatus('Connection lost. Reconnecting…', 'warn');
      } else if (s === 'restored') {
        if (mode === 'presenter' || mode === 'follower') setStatus('Back in the class.', 'ok');
        else setStatus(RESTORED, 'ok');
      } else if (s === 'fallback') {
        const say = fallbackText(why);
        setStatus(say, 'warn');
        notice(say);
      }
    },
    // A room has its lesson already and a fork the room's state: only an
    // ordinary page loads (and restore() rebuilds an explorer's fork that
    // the server forgot).
    firstLoad: () => {
      if (lastState) return { cmd: 'load', lesson: lastState };
      if (mode) return null;
      return options.lessonObject ? { cmd: 'load', lesson: options.lessonObject } : { cmd: 'load', name: options.lesson };
    },
    restore: () => {
      if (mode === 'presenter' || mode === 'follower') return null;
      const lesson = restoreLesson(model);
      return lesson ? { cmd: 'load', lesson } : null;
    },
  });

  if (missingToken || badToken) {
    const why = missingToken
      ? `This presenter link is missing its token (the part after #token= in the link you were given). Open the full link to drive the class, or join as a student at /join/${room.code}.`
      : `This presenter link is not valid for class ${room.code}: its token is wrong. Open the exact link you got when you started the class, or join as a student at /join/${room.code}.`;
    setStatus(why, 'error');
    notice(why);
    narrateText(why);
    $('room-end')?.setAttribute('disabled', '');
  }

  /**
   * roomRefusal finds out why a room's websocket was refused: the room is
   * gone (404 from /api/rooms/CODE), or it exists but the presenter's token
   * was refused twice in a row (403). Null: try again.
   * @param {number} failures
   */
  async function roomRefusal(failures) {
    const res = await fetch(`/api/rooms/${encodeURIComponent(room.code)}`, { cache: 'no-store' });
    if (res.status === 404) {
      return room.role === 'presenter'
        ? `The class ${room.code} has ended, or the server restarted and forgot it. Start a new class from any lesson with “Teach a class”.`
        : `The class ${room.code} has ended, or there is no class with that code. Check the code with your teacher.`;
    }
    if (res.ok && failures >= 2 && mode === 'presenter' && room.token) {
      return `This presenter link is not valid for class ${room.code}: its token is wrong. Open the exact link you got when you started the class, or join as a student at /join/${room.code}.`;
    }
    return null;
  }

  /** narrateText puts a sentence in the narration panel. */
  function narrateText(text) {
    const say = document.createElement('p');
    say.className = 'say';
    say.textContent = text;
    $('narration').replaceChildren(say);
    lastNarration = text;
  }

  // The room bar: explore and follow again (followers), end (presenter).
  if (room) {
    const explore = $('room-explore');
    const follow = $('room-follow');
    const modeText = $('room-mode');
    const setMode = (next) => {
      stopPlaying();
      if (roomEnded) {
        // The room is gone: a fresh private session from the last state.
        mode = 'explore';
        root.dataset.mode = mode;
        lastState = restoreLesson(model);
        if (explore) explore.hidden = true;
        if (modeText) modeText.textContent = 'The class has ended; you are exploring its last state on your own.';
        const fresh = new URL(wsURL.href);
        fresh.searchParams.set('events', 'compact');
        socket.switchTo(fresh.href);
        return;
      }
      mode = next;
      root.dataset.mode = mode;
      if (explore) explore.hidden = next === 'explore';
      if (follow) follow.hidden = next !== 'explore';
      if (modeText) modeText.textContent = next === 'explore' ? 'You are exploring on your own; the class goes on without you.' : 'You see what your teacher sees.';
      selection = null;
      if (next === 'explore') vote?.hide();
      socket.switchTo(next === 'explore' ? urls.fork : urls.live, next === 'explore' ? undefined : liveCredentials);
      (next === 'explore' ? follow : explore)?.focus();
    };
    explore?.addEventListener('click', () => setMode('explore'));
    follow?.addEventListener('click', () => setMode('follower'));
    // The presenter's join bar folds to a slim strip (remembered), and the
    // join card shows the code and a big QR code over everything.
    const bar = $('room-bar');
    const slim = $('room-slim');
    const loopback = mode === 'presenter' ? loopbackWarning(location.hostname) : '';
    if (loopback && bar) {
      const warn = document.createElement('p');
      warn.className = 'room-warning';
      warn.dataset.role = 'room-warning';
      warn.setAttribute('role', 'alert');
      warn.textContent = loopback;
      bar.append(warn);
      offerAddresses(warn);
    }
    const setSlim = (on) => {
      bar?.classList.toggle('slim', on);
      slim?.setAttribute('aria-pressed', String(on));
      if (slim) slim.textContent = on ? 'Full bar' : 'Slim bar';
      store('netstep.roomBar', on ? 'slim' : 'full');
      requestAnimationFrame(() => diagram.resize(true));
    };
    if (slim) {
      setSlim(recall('netstep.roomBar') === 'slim');
      slim.addEventListener('click', () => setSlim(slim.getAttribute('aria-pressed') !== 'true'));
    }
    $('join-card-open')?.addEventListener('click', () => $('join-card', HTMLDialogElement)?.showModal());
    $('room-end')?.addEventListener('click', () => {
      if (confirm('End the class for every student?')) send({ cmd: 'endRoom' });
    });
  }

  /**
   * offerAddresses lists the server's network addresses (GET
   * /api/addresses) beside the loopback warning: choosing one points the
   * join link and both QR codes at it.
   * @param {HTMLElement} warn
   */
  async function offerAddresses(warn) {
    let list = [];
    let asked = false;
    try {
      const res = await fetch('/api/addresses', { cache: 'no-store' });
      if (res.ok) {
        list = (await res.json()).addresses ?? [];
        asked = true;
      }
    } catch {
      // The advice below says where the address is written.
    }
    if (!list.length) {
      warn.append(addressAdvice(asked, location.port));
      return;
    }
    const label = document.createElement('label');
    label.append(' Use the network address ');
    const pick = document.createElement('select');
    pick.dataset.role = 'room-address';
    for (const a of list) pick.append(Object.assign(document.createElement('option'), { value: a, textContent: a }));
    label.append(pick);
    warn.append(label);
    const use = (base) => {
      const link = `${base}/join/${room.code}`;
      for (const el of root.querySelectorAll('.room-link, [data-role="join-card-link"]')) el.textContent = link;
      for (const img of findAll(root, '.room-qr, .join-card-qr', HTMLImageElement)) {
        img.src = `/api/rooms/${encodeURIComponent(room.code)}/qr?base=${encodeURIComponent(base)}`;
        img.alt = `QR code of the join link ${link}`;
      }
    };
    pick.addEventListener('change', () => use(pick.value));
    use(list[0]);
  }

  const ro = new ResizeObserver(() => {
    diagram.resize();
    if (model.network) charts.render(model);
  });
  ro.observe($('stage'));

  function send(cmd) {
    if (CHANGES.has(cmd.cmd) && following()) return null;
    return socket.send(cmd);
  }

  return {
    /** send sends a protocol command and returns its id. */
    send,
    /** request sends a command and resolves with its done frame. */
    request: (cmd) => socket.request(cmd),
    /**
     * on calls fn with every frame of frameType ("*": all frames).
     * @param {string} frameType
     * @param {(frame: any) => void} fn
     */
    on(frameType, fn) {
      if (!listeners.has(frameType)) listeners.set(frameType, new Set());
      listeners.get(frameType).add(fn);
      return () => listeners.get(frameType)?.delete(fn);
    },
    /** model returns the current view model (for tests and the embed page). */
    model: () => model,
    /**
     * drawCost reports how many times the diagram was drawn since the last
     * call and how long that took in milliseconds (mean and worst), and
     * the same for the repaints that redrew the edges (edgeFrames,
     * edgeMeanMs), then starts counting again: the repaint benchmark reads
     * it (docs/benchmarks.md). A big network's edges are written into
     * pixels apart from the repaint (edges.js pixelPainter, by a worker
     * where there is one): pictures is how many of those drawings reached
     * the canvas, pictureMeanMs what one took to write, worker whether a
     * worker wrote them.
     */
    drawCost() {
      const d = drawn;
      drawn = { frames: 0, total: 0, max: 0, edgeFrames: 0, edgeTotal: 0 };
      const p = diagram.pictures();
      // A new diagram's edge layer counts from 0.
      const was = p && p.pictures >= picturesSeen.pictures ? picturesSeen : { pictures: 0, total: 0 };
      picturesSeen = p ?? { pictures: 0, total: 0, worker: false };
      const pictures = p ? p.pictures - was.pictures : 0;
      return {
        frames: d.frames,
        meanMs: d.frames ? d.total / d.frames : 0,
        maxMs: d.max,
        edgeFrames: d.edgeFrames,
        edgeMeanMs: d.edgeFrames ? d.edgeTotal / d.edgeFrames : 0,
        pictures,
        pictureMeanMs: pictures && p ? (p.total - was.total) / pictures : 0,
        worker: p?.worker ? 1 : 0,
      };
    },
    /** mode is the classroom role: presenter, follower, explore, or null. */
    mode: () => mode,
    /**
     * notice shows text until the learner dismisses it ('' hides it).
     * @param {string} text
     * @param {'error'|'warn'|'ok'} [kind]
     */
    notice,
  };
}
