// controls.js: the Step, Back, Play/Pause and Reset buttons, the step size
// and speed controls, and the keyboard shortcuts (listed in the help dialog).

import { count } from './format.js';
import { setText } from './dom.js';

/** Speeds of the Play slider, in steps a second; 0 is as fast as possible. */
export const SPEEDS = [0.5, 1, 2, 5, 10, 30, 100, 0];

/**
 * pacedByPage reports whether Play at sps steps a second of granularity g
 * is slow enough for the page to take each step itself, animated and
 * narrated; faster, the server trains and sends progress frames.
 * @param {number} sps
 * @param {string} g
 */
export function pacedByPage(sps, g) {
  return sps > 0 && sps <= 2 && g !== 'epoch';
}

/**
 * runCommand is the run command for Play at sps steps a second of
 * granularity g: the server runs whole examples at least.
 * @param {number} sps
 * @param {string} g
 */
export function runCommand(sps, g) {
  return { cmd: 'run', stepsPerSecond: sps, granularity: g === 'micro' || g === 'phase' ? 'sample' : g };
}

/** GRANULARITIES are the protocol's step sizes, with the words the page uses. */
export const GRANULARITIES = [
  ['micro', 'one neuron'],
  ['phase', 'one phase'],
  ['sample', 'one example'],
  ['batch', 'one batch'],
  ['epoch', 'one epoch'],
];

/**
 * speedText describes a speed for the slider's aria-valuetext.
 * @param {number} sps
 */
export function speedText(sps) {
  if (sps === 0) return 'as fast as possible';
  if (sps < 1) return 'one step every 2 seconds';
  return `${sps} step${sps === 1 ? '' : 's'} a second`;
}

/**
 * positionText says where training is, from the server's position (the
 * reducer keeps it up to date from the events): the epoch under way
 * (counted from 1), the example being worked on, or the next one when the
 * last has finished, out of the training set's size, and the updates so far.
 * "epoch 1 · example 3 of 30 · 2 updates", "epoch 1 · example 3 of 30 next · 2 updates".
 * @param {{epoch?: number, sample?: number, phase?: string, layer?: number, neuron?: number, updates?: number}|null} p
 * @param {number} trainSize
 */
export function positionText(p, trainSize) {
  if (!p) return '';
  const between = (p.phase ?? 'forward') === 'forward' && (p.layer ?? 0) === 0 && (p.neuron ?? 0) === 0;
  const k = Math.min((p.sample ?? 0) + 1, Math.max(trainSize, 1));
  const of = trainSize > 0 ? ` of ${trainSize}` : '';
  const u = p.updates ?? 0;
  return `epoch ${count((p.epoch ?? 0) + 1)} · example ${count(k)}${of ? ` of ${count(trainSize)}` : ''}${between ? ' next' : ''} · ${count(u)} update${u === 1 ? '' : 's'}`;
}

/**
 * shortcut maps a key event to an action name, or null. Keys typed into
 * form fields, and Space or Enter on buttons, are left alone.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, target?: any}} ev
 * @returns {string|null}
 */
export function shortcut(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  const tag = ev.target?.tagName?.toLowerCase?.() ?? '';
  if (tag === 'input' || tag === 'select' || tag === 'textarea' || ev.target?.isContentEditable) return null;
  if ((ev.key === ' ' || ev.key === 'Enter') && (tag === 'button' || tag === 'summary' || tag === 'a' || ev.target?.getAttribute?.('role') === 'button')) return null;
  switch (ev.key) {
    case 'ArrowRight':
    case ' ':
      return 'step';
    case 'ArrowLeft':
      return 'back';
    case 'p':
    case 'P':
      return 'play';
    case 'r':
    case 'R':
      return 'reset';
    case 'm':
    case 'M':
      return 'math';
    case 't':
    case 'T':
      return 'table';
    case '?':
      return 'help';
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
      return 'granularity:' + GRANULARITIES[Number(ev.key) - 1][0];
    default:
      return null;
  }
}

/**
 * createControls wires the control bar.
 * @param {import('./dom.js').Finder} $
 * @param {{step: () => void, back: () => void, play: () => void, reset: () => void,
 *   speed?: () => void, action: (name: string) => void}} on speed: the speed slider moved
 */
export function createControls($, on) {
  const step = $('step', HTMLButtonElement);
  const back = $('back', HTMLButtonElement);
  const play = $('play', HTMLButtonElement);
  const reset = $('reset', HTMLButtonElement);
  const gran = $('granularity', HTMLSelectElement);
  const speed = $('speed', HTMLInputElement);
  const hint = $('step-hint');
  const position = $('position');

  step.addEventListener('click', on.step);
  back.addEventListener('click', on.back);
  play.addEventListener('click', on.play);
  reset.addEventListener('click', on.reset);
  const showHint = () => {
    hint.textContent = GRANULARITIES.find(([g]) => g === gran.value)?.[1] ?? '';
  };
  gran.addEventListener('change', showHint);
  const showSpeed = () => speed.setAttribute('aria-valuetext', speedText(SPEEDS[Number(speed.value)]));
  speed.addEventListener('input', () => {
    showSpeed();
    on.speed?.();
  });
  showHint();
  showSpeed();

  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented) return;
    if (document.querySelector('dialog[open]')) return;
    const a = shortcut(ev);
    if (!a) return;
    ev.preventDefault();
    on.action(a);
  });

  return {
    granularity: () => gran.value,
    setGranularity(g) {
      if (GRANULARITIES.some(([x]) => x === g)) {
        gran.value = g;
        showHint();
      }
    },
    stepsPerSecond: () => SPEEDS[Number(speed.value)],
    /**
     * @param {import('./state.js').Model} m
     */
    render(m) {
      const running = m.running;
      // Written only when they change: a write, even of the same text,
      // makes the browser recompute styles and layout, thirty times a
      // second during Play.
      setText(play, running ? 'Pause' : 'Play');
      if (play.getAttribute('aria-pressed') !== String(running)) play.setAttribute('aria-pressed', String(running));
      if (!play.hasAttribute('aria-keyshortcuts')) play.setAttribute('aria-keyshortcuts', 'P');
      back.disabled = !m.canBack || running;
      step.disabled = !m.network || !!m.diverged;
      play.disabled = !m.network || (!!m.diverged && !running);
      reset.disabled = !m.network;
      const p = m.position;
      setText(position, positionText(p, m.data?.train?.length ?? 0));
    },
  };
}
