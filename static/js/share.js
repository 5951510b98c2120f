// share.js: links and snippets that bring back what the learner sees. A
// built-in lesson is shared by name (/lesson/NAME); a lesson of the
// learner's own travels inline in the fragment (#lesson=base64url). Pure.

import { encodeLesson } from './lessoncodec.js';

/**
 * @typedef {{math?: boolean, granularity?: string, theme?: string}} ViewSettings
 */

/** settingsQuery is "?math=on&granularity=…" for the settings that differ from the defaults. */
export function settingsQuery(/** @type {ViewSettings} */ s) {
  const q = new URLSearchParams();
  if (s.math !== undefined) q.set('math', s.math ? 'on' : 'off');
  if (s.granularity) q.set('granularity', s.granularity);
  if (s.theme && s.theme !== 'auto') q.set('theme', s.theme);
  const text = q.toString();
  return text ? '?' + text : '';
}

/**
 * shareURL is a link to the lesson: by name, or inline when custom is set.
 * @param {string} origin like https://netstep.example
 * @param {{name: string|null, custom: boolean, lesson: any}} what
 * @param {ViewSettings} settings
 */
export function shareURL(origin, what, settings) {
  if (what.custom || !what.name) return `${origin}/${settingsQuery(settings)}#lesson=${encodeLesson(what.lesson)}`;
  return `${origin}/lesson/${encodeURIComponent(what.name)}${settingsQuery(settings)}`;
}

/**
 * embedSnippet is the markup a course author pastes: the iframe and the
 * /embed.js line that fits its height to the lesson.
 * @param {string} origin
 * @param {{name: string|null, custom: boolean, lesson: any, title: string}} what
 * @param {ViewSettings} settings
 */
export function embedSnippet(origin, what, settings) {
  const q = new URLSearchParams();
  if (!what.custom && what.name) q.set('lesson', what.name);
  if (settings.math !== undefined) q.set('math', settings.math ? 'on' : 'off');
  if (settings.granularity) q.set('granularity', settings.granularity);
  if (settings.theme && settings.theme !== 'auto') q.set('theme', settings.theme);
  const query = q.toString();
  let src = `${origin}/embed${query ? '?' + query : ''}`;
  if (what.custom || !what.name) src += `#lesson=${encodeLesson(what.lesson)}`;
  const title = escapeAttr(`${what.title || 'A lesson'} · netstep`);
  return `<iframe src="${escapeAttr(src)}" data-netstep width="800" height="600" style="border:0;max-width:100%" title="${title}" loading="lazy"></iframe>\n` +
    `<script src="${escapeAttr(origin)}/embed.js" async></script>`;
}

/** @param {string} s */
function escapeAttr(s) {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * shareableLesson is the lesson as loaded, with the training settings now
 * in force, ready to be encoded.
 * @param {any} lesson state.lesson
 * @param {any} training the model's current training settings
 */
export function shareableLesson(lesson, training) {
  const out = structuredClone(lesson);
  if (training) out.training = { ...(out.training ?? {}), ...structuredClone(training) };
  delete out.name;
  return out;
}
