// lessoncodec.js: a lesson in a URL. An inline lesson travels in the
// fragment as base64url of its JSON (UTF-8, no padding), so a link or an
// embed can carry a lesson the server has never seen, and the server never
// sees it either: fragments are not sent in requests. Pure; no DOM.

/** MAX_FRAGMENT_CHARS bounds what decodeLesson accepts: a 1 MiB lesson. */
export const MAX_FRAGMENT_CHARS = Math.ceil((1 << 20) * 4 / 3);

/**
 * encodeLesson returns base64url(JSON(lesson)) without padding.
 * @param {any} lesson
 * @returns {string}
 */
export function encodeLesson(lesson) {
  const bytes = new TextEncoder().encode(JSON.stringify(lesson));
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * decodeLesson reverses encodeLesson. It also accepts padding and the
 * standard alphabet, which people produce by hand. It throws an Error with a
 * plain message when the text is not base64 of a JSON object.
 * @param {string} text
 * @returns {any}
 */
export function decodeLesson(text) {
  if (text.length > MAX_FRAGMENT_CHARS) throw new Error('the inline lesson is longer than 1 MiB');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(b64) || b64.length % 4 === 1) throw new Error('the inline lesson is not base64url');
  let bin;
  try {
    bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  } catch {
    throw new Error('the inline lesson is not base64url');
  }
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  let json;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error('the inline lesson is not UTF-8 text');
  }
  let lesson;
  try {
    lesson = JSON.parse(json);
  } catch (e) {
    throw new Error(`the inline lesson is not JSON: ${e.message}`);
  }
  if (!lesson || typeof lesson !== 'object' || Array.isArray(lesson)) throw new Error('the inline lesson is not a JSON object');
  return lesson;
}

/**
 * lessonFromHash returns the lesson in a fragment like "#lesson=…" (other
 * parameters may follow after "&"), or null when there is none. Errors
 * from decodeLesson pass through.
 * @param {string} hash location.hash, with or without the "#"
 */
export function lessonFromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const v = params.get('lesson');
  if (!v) return null;
  // URLSearchParams turns "+" into a space; base64url has neither, but a
  // hand-made standard base64 may.
  return decodeLesson(v.replace(/ /g, '+'));
}

/**
 * readLessonHash is lessonFromHash for the pages' start-up: it never throws,
 * and says what was wrong instead, so the page can still show a lesson (or
 * the reason it cannot).
 * @param {string} hash
 * @returns {{lesson: any, problem: Error|null}}
 */
export function readLessonHash(hash) {
  try {
    return { lesson: lessonFromHash(hash), problem: null };
  } catch (e) {
    return { lesson: null, problem: e instanceof Error ? e : new Error(String(e)) };
  }
}
