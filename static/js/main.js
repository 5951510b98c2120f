// main.js: starts the lesson page. The page's data attributes name the lesson
// and the websocket; the query may set theme=, math=on|off, granularity= and
// questions=off (do not stop to ask the lesson's questions). A fragment
// #lesson=base64url carries a lesson of the learner's own (a shared link).
import { createApp } from './app.js';
import { readLessonHash } from './lessoncodec.js';
import { createTools } from './tools.js';
import { tokenFromHash, openClass } from './room.js';
import { byRole } from './dom.js';
import { restoreLesson } from './state.js';

const root = document.getElementById('app');
const $ = byRole(root);
const q = new URLSearchParams(location.search);
const math = q.get('math');
const { lesson: inline, problem } = readLessonHash(location.hash);
// A classroom page: /present/CODE#token=… or /join/CODE. The token stays in
// the fragment, which browsers never send to the server or in a Referer.
/** @type {import('./room.js').RoomOptions|undefined} */
const room = root.dataset.room
  ? { code: root.dataset.room, role: root.dataset.roomRole === 'presenter' ? 'presenter' : 'follower', token: tokenFromHash(location.hash) }
  : undefined;
// Class votes are for classroom pages only: a learner's page never loads
// vote.js (its first visit stays within the bytes it is allowed).
const createVote = room ? (await import('./vote.js')).createVote : undefined;
const app = createApp(root, {
  lesson: root.dataset.lesson,
  lessonObject: inline ?? undefined,
  ws: root.dataset.ws,
  theme: q.get('theme') ?? undefined, // else the learner's last choice, else automatic
  math: math === 'on' ? true : math === 'off' ? false : undefined,
  granularity: q.get('granularity') ?? undefined,
  questions: q.get('questions') !== 'off',
  room,
  createVote,
});

// "Teach a class": open a room with this page's lesson as it is now (a
// lesson of the learner's own, its current weights) and present it.
const start = $('start-room', HTMLButtonElement);
// The page's session, which the room copies (its resume token, from hello;
// it goes in the request's body, never in a URL).
/** @type {string|null} */
let session = null;
app.on('hello', (f) => {
  session = typeof f.resume === 'string' ? f.resume : null;
});
start?.addEventListener('click', async () => {
  start.disabled = true;
  try {
    const m = app.model();
    const opened = await openClass(fetch, { session, current: restoreLesson(m), original: m.lesson ?? inline ?? root.dataset.lesson });
    if (opened.note) {
      try {
        sessionStorage.setItem(`netstep.classNote.${opened.code}`, opened.note);
      } catch {
        // Storage is off: the presenter's page cannot say it.
      }
    }
    location.assign(opened.presenterUrl);
  } catch (err) {
    const status = $('status');
    status.textContent = `Could not open a class: ${err.message}`;
    status.dataset.kind = 'error';
    start.disabled = false;
  }
});
if (room) {
  // What "Teach a class" had to say about the lesson it opened the room with.
  try {
    const note = sessionStorage.getItem(`netstep.classNote.${room.code}`);
    if (note) app.notice(note, 'warn');
    sessionStorage.removeItem(`netstep.classNote.${room.code}`);
  } catch {
    // Storage is off.
  }
}
createTools(root, app, { inline: !!inline });
if (problem) app.notice(`The lesson in this link could not be read (${problem.message}); showing the built-in lesson instead.`);
// For the browser tests and curious learners with the console open.
globalThis.netstep = app;
