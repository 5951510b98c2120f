// main.js: starts the lesson page. The page's data attributes name the lesson
// and the websocket; the query may set theme=, math=on|off and granularity=.
import { createApp } from './app.js';

const root = document.getElementById('app');
const q = new URLSearchParams(location.search);
const math = q.get('math');
const app = createApp(root, {
  lesson: root.dataset.lesson,
  ws: root.dataset.ws,
  theme: q.get('theme') ?? 'auto',
  math: math === 'on' ? true : math === 'off' ? false : undefined,
  granularity: q.get('granularity') ?? undefined,
});
// For the browser tests and curious learners with the console open.
globalThis.netstep = app;
