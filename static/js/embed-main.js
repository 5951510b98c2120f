// embed-main.js: starts the embedded lesson (/embed) and its postMessage API
// (docs/embedding.md). The lesson is named in the query (?lesson=NAME) or
// carried inline in the fragment (#lesson=base64url). Nothing here touches
// cookies or storage, so it works in a sandbox="allow-scripts" frame.
import { createApp } from './app.js';
import { readLessonHash } from './lessoncodec.js';
import { expandEvent } from './state.js';
import {
  parseEmbedOptions, readyMessage, eventMessage, resizeMessage, replyMessage,
  commandFromMessage, accepts, targetOrigins,
} from './bridge.js';
import { byRole, findAll } from './dom.js';

const root = document.getElementById('app');
const $ = byRole(root);
const opts = parseEmbedOptions(location.search);
const origins = (root.dataset.origins ?? '').split(' ').filter(Boolean);
const parent = window.parent !== window ? window.parent : null;

/** post sends msg to the parent page, if there is one. */
function post(msg) {
  if (!parent) return;
  for (const o of targetOrigins(origins)) {
    try {
      parent.postMessage(msg, o);
    } catch {
      // An origin that does not parse; checked on the server, so never.
    }
  }
}

// Controls the author chose to hide.
if (opts.controls) {
  for (const el of findAll(root, '[data-control]')) {
    if (!opts.controls.has(el.dataset.control)) el.hidden = true;
  }
}

const { lesson: inline, problem } = readLessonHash(location.hash);

if (problem) {
  $('status').textContent = `This embedded lesson cannot be shown: ${problem.message}.`;
  $('status').dataset.kind = 'error';
  $('narration').textContent = 'Check the #lesson= part of the embed\u2019s address.';
} else {
  start();
}

function start() {
  const app = createApp(root, {
    lesson: inline ? undefined : root.dataset.lesson || root.dataset.defaultLesson,
    lessonObject: inline ?? undefined,
    ws: root.dataset.ws,
    theme: opts.theme,
    math: opts.math,
    granularity: opts.granularity,
    questions: opts.questions,
    // No lesson menu in an embed: a lesson change stays inside the frame.
    onLessonChange: () => {},
  });
  globalThis.netstep = app;

  let ready = false;
  app.on('state', (f) => {
    if (ready || f.reason !== 'load') return;
    ready = true;
    post(readyMessage(f.state?.lesson?.title ?? null));
    if (opts.autoplay) $('play')?.click();
  });
  app.on('events', (f) => {
    for (const e of f.events ?? []) post(eventMessage(expandEvent(e)));
  });
  app.on('progress', (f) => {
    for (const l of f.losses ?? []) {
      const e = expandEvent(l);
      post(eventMessage({ type: 'epoch', epoch: e.epoch, trainLoss: e.trainLoss, testLoss: e.testLoss }));
    }
  });
  app.on('answer', (f) => post(eventMessage(f.answer)));

  // Commands from the host page, with replies matched by our own ids.
  /** @type {Map<string, any>} */
  const hostIds = new Map();
  let next = 1;
  const reply = (f) => {
    if (f.id === undefined || !hostIds.has(String(f.id))) return;
    const hostId = hostIds.get(String(f.id));
    hostIds.delete(String(f.id));
    post(replyMessage(f, hostId));
  };
  app.on('done', reply);
  app.on('error', reply);
  window.addEventListener('message', (ev) => {
    if (!accepts(ev, parent, origins)) return;
    let cmd;
    try {
      cmd = commandFromMessage(ev.data);
    } catch (e) {
      post({ type: 'netstep:error', id: ev.data?.cmd?.id ?? null, code: 'bad_command', message: e.message });
      return;
    }
    if (!cmd) return;
    const { id: hostId, ...rest } = cmd;
    const id = `host-${next++}`;
    hostIds.set(id, hostId);
    if (hostIds.size > 256) hostIds.delete(hostIds.keys().next().value);
    app.send({ ...rest, id });
  });

  // The content's height, whenever it changes, so the host can fit the frame.
  let lastHeight = 0;
  const measure = () => {
    const h = Math.ceil(root.getBoundingClientRect().height);
    if (h !== lastHeight) {
      lastHeight = h;
      post(resizeMessage(h));
    }
  };
  new ResizeObserver(measure).observe(root);
  measure();
}
