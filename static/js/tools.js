// tools.js: the lesson page's Share, Embed and download buttons, and the
// "your own data" panel (CSV or clicked points). It works only through the
// app's public surface: send, on and model.

import { expandEvent, restoreLesson } from './state.js';
import { createStepLog } from './steplog.js';
import { shareURL, embedSnippet, shareableLesson } from './share.js';
import { parseCSV, guessRoles, tableSamples, lessonFromSamples, lessonFromPoints, lessonLimits } from './owndata.js';
import { byRole, find } from './dom.js';

/**
 * createTools wires the tools inside root, when the page has them.
 * @param {HTMLElement} root
 * @param {{send: (cmd: any) => any, on: Function, model: () => any}} app
 * @param {{inline: boolean}} opts inline: the page was opened with a #lesson= link
 */
export function createTools(root, app, opts) {
  const $ = byRole(root);
  if (!$('share')) return;
  const log = createStepLog();
  let loads = 0;
  let custom = opts.inline;
  app.on('events', (f) => log.add((f.events ?? []).map(expandEvent)));
  app.on('state', (f) => {
    if (f.reason === 'load') {
      loads++;
      if (loads > 1) custom = true;
      log.clear();
    } else if (f.reason === 'reset') log.clear();
    else if (f.reason === 'set' || f.reason === 'setWeight') custom = true;
  });

  const status = $('tools-status');
  const say = (text) => {
    status.textContent = text;
  };

  const what = () => {
    const m = app.model();
    return {
      name: custom ? null : root.dataset.lesson || null,
      custom,
      lesson: m.lesson ? shareableLesson(m.lesson, m.training) : null,
      title: m.lesson?.title ?? '',
    };
  };
  const settings = () => {
    const math = $('math-toggle', HTMLInputElement);
    const theme = $('theme', HTMLSelectElement);
    return { math: math ? math.checked : undefined, granularity: $('granularity', HTMLSelectElement)?.value, theme: theme?.value };
  };

  async function copy(text, done) {
    try {
      await navigator.clipboard.writeText(text);
      say(done);
    } catch {
      say(`Copy this: ${text}`);
    }
  }

  $('share').addEventListener('click', () => {
    if (!app.model().lesson) return;
    const url = shareURL(location.origin, what(), settings());
    copy(url, `Link copied. It opens this lesson with the same settings${custom ? ' (the whole lesson is inside the link)' : ''}.`);
  });

  const dialog = $('embed-dialog', HTMLDialogElement);
  const code = $('embed-code', HTMLTextAreaElement);
  $('embed-open').addEventListener('click', () => {
    if (!app.model().lesson) return;
    code.value = embedSnippet(location.origin, what(), settings());
    dialog.showModal();
    code.select();
  });
  $('embed-copy').addEventListener('click', () => copy(code.value, 'Embed code copied.'));

  const download = (name, type, text) => {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const base = () => (root.dataset.lesson && !custom ? root.dataset.lesson : 'my-lesson');
  $('download-jsonl').addEventListener('click', () => {
    if (!log.size()) return say('Nothing to download yet: take a step first.');
    download(`${base()}-steps.jsonl`, 'application/x-ndjson', log.toJSONLines());
    say(`Downloaded ${log.size()} events as JSON lines.`);
  });
  $('download-csv').addEventListener('click', () => {
    if (!log.size()) return say('Nothing to download yet: take a step first.');
    download(`${base()}-steps.csv`, 'text/csv', log.toCSV());
    say(`Downloaded ${log.size()} events as CSV.`);
  });
  $('download-lesson').addEventListener('click', () => {
    const lesson = restoreLesson(app.model());
    if (!lesson) return;
    delete lesson.name;
    download(`${base()}.json`, 'application/json', JSON.stringify(lesson, null, 2) + '\n');
    say('Downloaded the lesson with the current weights. Open it with netstep validate, or load it in the settings.');
  });

  createOwnData($, app, { say, download, markCustom: () => (custom = true) });
}

/**
 * createOwnData wires the "your own data" panel.
 * @param {import('./dom.js').Finder} $
 * @param {{send: (cmd: any) => any, model: () => any}} app
 * @param {{say: (text: string) => void, download: (name: string, type: string, text: string) => void, markCustom: () => void}} tools
 */
function createOwnData($, app, { say, download, markCustom }) {
  const text = $('csv', HTMLTextAreaElement);
  const file = $('csv-file', HTMLInputElement);
  const rolesBox = $('csv-roles');
  const columns = $('csv-columns');
  const errorsList = $('data-errors');
  let table = null;

  const showErrors = (errors) => {
    errorsList.replaceChildren(...errors.map((e) => Object.assign(document.createElement('li'), { textContent: e })));
  };

  const readTable = () => {
    try {
      table = parseCSV(text.value);
    } catch (e) {
      table = null;
      rolesBox.hidden = true;
      showErrors([e.message]);
      return;
    }
    showErrors([]);
    const guess = guessRoles(table.header);
    columns.replaceChildren(
      ...table.header.map((h, k) => {
        const label = document.createElement('label');
        label.className = 'field';
        const span = Object.assign(document.createElement('span'), { className: 'field-label', textContent: h || `column ${k + 1}` });
        const sel = document.createElement('select');
        sel.dataset.column = h;
        for (const [v, t] of [['input', 'input'], ['output', 'output'], ['ignore', 'not used']]) sel.append(new Option(t, v));
        sel.value = guess.outputs.includes(h) ? 'output' : 'input';
        label.append(span, sel);
        return label;
      }),
    );
    rolesBox.hidden = false;
  };
  text.addEventListener('change', readTable);
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > 1 << 20) return showErrors(['the file is bigger than 1 MiB; a lesson holds at most 5000 examples']);
    text.value = await f.text();
    readTable();
  });

  const csvLesson = () => {
    if (!table) readTable();
    if (!table) return null;
    const roles = { inputs: [], outputs: [] };
    for (const sel of columns.querySelectorAll('select')) {
      if (sel.value === 'input') roles.inputs.push(sel.dataset.column);
      else if (sel.value === 'output') roles.outputs.push(sel.dataset.column);
    }
    const { samples, errors } = tableSamples(table, roles, lessonLimits(app.model().limits));
    showErrors(errors);
    if (errors.length) return null;
    return lessonFromSamples(samples, roles);
  };
  const use = (lesson) => {
    markCustom();
    app.send({ cmd: 'load', lesson });
    say(`Loaded ${lesson.data.samples.length} examples of your own. Press Step.`);
  };
  $('csv-use').addEventListener('click', () => {
    const l = csvLesson();
    if (l) use(l);
  });
  $('csv-save').addEventListener('click', () => {
    const l = csvLesson();
    if (l) download('my-data.json', 'application/json', JSON.stringify(l, null, 2) + '\n');
  });

  // Points on the plane: x1 and x2 from −6 to 6, x2 upwards.
  const plot = $('points-plot', SVGSVGElement);
  const NS = 'http://www.w3.org/2000/svg';
  /** @type {{x1: number, x2: number, label: number}[]} */
  let points = [];
  const label = () => Number(find(plot.closest('[data-role="data-box"]'), 'input[name="point-class"]:checked', HTMLInputElement)?.value ?? 1);
  const draw = () => {
    const kids = [];
    for (const d of ['M120 0V240', 'M0 120H240']) {
      const p = document.createElementNS(NS, 'path');
      p.setAttribute('d', d);
      p.setAttribute('class', 'axis');
      kids.push(p);
    }
    for (const pt of points) {
      const x = (pt.x1 + 6) * 20;
      const y = (6 - pt.x2) * 20;
      let e;
      if (pt.label) {
        e = document.createElementNS(NS, 'circle');
        e.setAttribute('cx', x.toFixed(1));
        e.setAttribute('cy', y.toFixed(1));
        e.setAttribute('r', '4');
      } else {
        e = document.createElementNS(NS, 'rect');
        e.setAttribute('x', (x - 3.5).toFixed(1));
        e.setAttribute('y', (y - 3.5).toFixed(1));
        e.setAttribute('width', '7');
        e.setAttribute('height', '7');
      }
      e.setAttribute('class', `class-${pt.label}`);
      kids.push(e);
    }
    plot.replaceChildren(...kids);
    plot.setAttribute('aria-label', `A plane for your points: ${points.filter((p) => p.label).length} of class 1 and ${points.filter((p) => !p.label).length} of class 0.`);
  };
  const add = (x1, x2) => {
    if (points.length >= 5000) return;
    points.push({ x1: Math.max(-6, Math.min(6, x1)), x2: Math.max(-6, Math.min(6, x2)), label: label() });
    draw();
  };
  plot.addEventListener('click', (ev) => {
    const r = plot.getBoundingClientRect();
    add(((ev.clientX - r.left) / r.width) * 12 - 6, 6 - ((ev.clientY - r.top) / r.height) * 12);
  });
  $('point-add').addEventListener('click', () => {
    const x1 = Number($('point-x1', HTMLInputElement).value);
    const x2 = Number($('point-x2', HTMLInputElement).value);
    if (!Number.isFinite(x1) || !Number.isFinite(x2)) return showErrors(['want two numbers from −6 to 6 for x1 and x2']);
    add(x1, x2);
  });
  $('points-clear').addEventListener('click', () => {
    points = [];
    draw();
  });
  const pointsLesson = () => {
    const kinds = new Set(points.map((p) => p.label));
    if (points.length < 2 || kinds.size < 2) {
      showErrors(['place at least one point of each class']);
      return null;
    }
    showErrors([]);
    return lessonFromPoints(points);
  };
  $('points-use').addEventListener('click', () => {
    const l = pointsLesson();
    if (l) use(l);
  });
  $('points-save').addEventListener('click', () => {
    const l = pointsLesson();
    if (l) download('my-points.json', 'application/json', JSON.stringify(l, null, 2) + '\n');
  });
  draw();
}
