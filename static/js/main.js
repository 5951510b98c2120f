// main.js: starts the lesson page. The page's data attributes name the lesson
// and the websocket; the query may set theme=, math=on|off, granularity= and
// questions=off (do not stop to ask the lesson's questions). A fragment
// #lesson=base64url carries a lesson of the learner's own (a shared link).
import { createApp } from './app.js';
import { lessonFromHash } from './lessoncodec.js';
import { createTools } from './tools.js';

const root = document.getElementById('app');
const q = new URLSearchParams(location.search);
const math = q.get('math');
let inline = null;
let problem = null;
try {
  inline = lessonFromHash(location.hash);
} catch (e) {
  problem = e;
}
const app = createApp(root, {
  lesson: root.dataset.lesson,
  lessonObject: inline ?? undefined,
  ws: root.dataset.ws,
  theme: q.get('theme') ?? 'auto',
  math: math === 'on' ? true : math === 'off' ? false : undefined,
  granularity: q.get('granularity') ?? undefined,
  questions: q.get('questions') !== 'off',
});
createTools(root, app, { inline: !!inline });
if (problem) {
  const status = root.querySelector('[data-role="status"]');
  status.textContent = `The lesson in this link could not be read (${problem.message}); showing the built-in lesson instead.`;
  status.dataset.kind = 'error';
}
// For the browser tests and curious learners with the console open.
globalThis.netstep = app;
