// bridge.js: the embed's postMessage API, the pure part (docs/embedding.md).
// The embed tells its parent page when it is ready, what happened and how
// tall it is; the parent sends it protocol commands. No DOM here: embed-main.js
// wires these functions to window.

/** API_VERSION is the version of the message format, in netstep:ready. */
export const API_VERSION = 1;

/** COMMANDS are the protocol commands a host may send (docs/protocol.md). */
export const COMMANDS = ['step', 'back', 'run', 'pause', 'reset', 'load', 'set', 'setWeight', 'state'];

/** CONTROLS are the names the controls= option takes. */
export const CONTROLS = ['step', 'granularity', 'back', 'play', 'speed', 'reset', 'math', 'help'];

const THEMES = ['auto', 'light', 'dark', 'projector'];
const GRANULARITIES = ['micro', 'phase', 'sample', 'batch', 'epoch'];

/**
 * @typedef {{
 *   lesson: string|null,
 *   controls: Set<string>|null,
 *   math: boolean|undefined,
 *   autoplay: boolean,
 *   theme: string,
 *   granularity: string|undefined,
 *   questions: boolean,
 * }} EmbedOptions
 * controls is null when every control shows.
 */

/**
 * parseEmbedOptions reads the embed's query. Unknown values fall back to
 * the defaults rather than failing: an author's typo should not blank a
 * course page.
 * @param {string} search location.search
 * @returns {EmbedOptions}
 */
export function parseEmbedOptions(search) {
  const q = new URLSearchParams(search);
  let controls = null;
  if (q.has('controls')) {
    controls = new Set(
      (q.get('controls') ?? '')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter((s) => CONTROLS.includes(s)),
    );
  }
  const math = q.get('math');
  const theme = q.get('theme') ?? 'auto';
  const g = q.get('granularity') ?? undefined;
  return {
    lesson: q.get('lesson') || null,
    controls,
    math: math === 'on' ? true : math === 'off' ? false : undefined,
    autoplay: q.get('autoplay') === '1',
    theme: THEMES.includes(theme) ? theme : 'auto',
    granularity: g && GRANULARITIES.includes(g) ? g : undefined,
    questions: q.get('questions') !== 'off',
  };
}

/**
 * readyMessage is posted once the first lesson has loaded.
 * @param {string} lessonTitle
 */
export function readyMessage(lessonTitle) {
  return { type: 'netstep:ready', version: API_VERSION, commands: COMMANDS.slice(), lesson: lessonTitle ?? null };
}

/** @param {any} event a protocol event object */
export function eventMessage(event) {
  return { type: 'netstep:event', event };
}

/** @param {number} height the content's height in CSS pixels */
export function resizeMessage(height) {
  return { type: 'netstep:resize', height: Math.ceil(height) };
}

/**
 * replyMessage tells the host how its command ended: {type:
 * 'netstep:done', id} or {type: 'netstep:error', id, code, message}.
 * @param {any} frame a done or error frame
 * @param {any} hostId the id the host gave, or undefined
 */
export function replyMessage(frame, hostId) {
  if (frame.type === 'done') return { type: 'netstep:done', id: hostId ?? null };
  return { type: 'netstep:error', id: hostId ?? null, code: frame.code, message: frame.message };
}

/**
 * commandFromMessage returns the protocol command in a host's message
 * {type: 'netstep:command', cmd: {...}}, or null when the message is not a
 * netstep command (other scripts post messages too: those are ignored), or
 * throws an Error naming the problem when it is a bad netstep command.
 * @param {any} data
 * @returns {any|null}
 */
export function commandFromMessage(data) {
  if (!data || typeof data !== 'object' || data.type !== 'netstep:command') return null;
  const cmd = data.cmd;
  if (!cmd || typeof cmd !== 'object' || Array.isArray(cmd)) throw new Error('netstep:command needs a cmd object');
  if (!COMMANDS.includes(cmd.cmd)) throw new Error(`cmd: want one of ${COMMANDS.join(', ')}; got ${JSON.stringify(cmd.cmd)}`);
  return cmd;
}

/**
 * accepts reports whether a message event may command the embed: it must
 * come from the parent window itself and, when embed origins are
 * configured, from one of them.
 * @param {{source: any, origin: string}} ev
 * @param {any} parent window.parent
 * @param {string[]} origins configured embed origins; empty: any
 */
export function accepts(ev, parent, origins) {
  if (!parent || ev.source !== parent) return false;
  return origins.length === 0 || origins.includes(ev.origin);
}

/**
 * targetOrigins are the targetOrigin arguments to post with. Without
 * configured origins it is "*": a sandboxed embed has an opaque origin and
 * cannot learn its parent's, and nothing it posts is secret (the same
 * numbers the learner sees).
 * @param {string[]} origins
 */
export function targetOrigins(origins) {
  return origins.length ? origins.slice() : ['*'];
}
