// settings.js: the settings panel. Changing the network, the training or the
// data builds a new lesson object from the one loaded and sends `load`, so
// every change restarts cleanly. buildLesson is pure and tested with node.

import { h } from './dom.js';

/** The choices the engine accepts (docs/lessons.md, engine/lesson.go). */
export const CHOICES = {
  activation: ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear'],
  outputActivation: ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', 'softmax'],
  loss: ['half_squared_error', 'mse', 'cross_entropy'],
  optimizer: ['sgd', 'momentum', 'adam'],
  regularization: ['none', 'l1', 'l2'],
  generator: ['circle', 'xor', 'gaussian', 'spiral', 'plane', 'multi_gaussian', 'house_prices'],
  features: ['x1', 'x2', 'x1^2', 'x2^2', 'x1*x2', 'sin(x1)', 'sin(x2)'],
};

const LABELS = {
  half_squared_error: 'half squared error',
  mse: 'mean squared error',
  cross_entropy: 'cross-entropy',
  sgd: 'plain gradient descent',
  leaky_relu: 'leaky ReLU',
  relu: 'ReLU',
  multi_gaussian: 'multi-Gaussian',
  house_prices: 'house prices',
};

/**
 * @typedef {{hidden: number[], activation: string, outputActivation: string,
 *   loss: string, optimizer: string, learningRate: number, batchSize: number,
 *   momentum: number, regKind: string, regRate: number,
 *   generator: string|null, n: number|null, noise: number|null, features: string[]|null}} Settings
 */

/**
 * settingsOf reads the settings from a loaded (normalised) lesson.
 * @param {any} lesson
 * @returns {Settings}
 */
export function settingsOf(lesson) {
  const layers = lesson.network.layers;
  const hidden = layers.slice(0, -1);
  const t = lesson.training ?? {};
  const d = lesson.data ?? {};
  const gen = d.generator || null;
  return {
    hidden: hidden.map((l) => l.size),
    activation: hidden[0]?.activation ?? 'sigmoid',
    outputActivation: layers[layers.length - 1].activation,
    loss: t.loss ?? 'half_squared_error',
    optimizer: t.optimizer ?? 'sgd',
    learningRate: t.learningRate ?? 0.1,
    batchSize: t.batchSize ?? 1,
    momentum: t.momentum ?? 0,
    regKind: t.regularization?.kind ?? 'none',
    regRate: t.regularization?.rate ?? 0,
    generator: gen,
    n: gen ? d.n ?? null : null,
    noise: gen ? d.noise ?? 0 : null,
    features: gen && gen !== 'house_prices' ? (d.features?.length ? d.features.slice() : lesson.network.inputs.slice()) : null,
  };
}

/**
 * buildLesson returns a copy of lesson with the settings applied. When the
 * network's shape, activations or inputs change, the starting weights are
 * dropped so the engine draws new ones; otherwise the lesson's own starting
 * weights are kept, so a change of learning rate compares like with like.
 * @param {any} lesson
 * @param {Settings} s
 */
export function buildLesson(lesson, s) {
  const out = structuredClone(lesson);
  const before = settingsOf(lesson);
  const net = out.network;
  const nOut = net.layers[net.layers.length - 1].size;
  net.layers = [...s.hidden.map((size) => ({ size, activation: s.activation })), { size: nOut, activation: s.outputActivation }];
  if (out.data && s.generator) {
    out.data.generator = s.generator;
    if (s.n !== null) out.data.n = s.n;
    if (s.noise !== null) out.data.noise = s.noise;
    const featuresChanged = JSON.stringify(s.features) !== JSON.stringify(before.features);
    if (s.features && s.generator !== 'house_prices' && (out.data.features || featuresChanged)) {
      out.data.features = s.features.slice();
      net.inputs = s.features.slice();
    }
  }
  const shapeChanged =
    JSON.stringify(before.hidden) !== JSON.stringify(s.hidden) ||
    before.activation !== s.activation ||
    before.outputActivation !== s.outputActivation ||
    JSON.stringify(before.features) !== JSON.stringify(s.features) ||
    before.generator !== s.generator;
  if (shapeChanged) {
    delete net.weights;
    delete net.biases;
  }
  out.training = {
    ...(out.training ?? {}),
    loss: s.loss,
    optimizer: s.optimizer,
    learningRate: s.learningRate,
    batchSize: s.batchSize,
    momentum: s.momentum,
    regularization: { kind: s.regKind, rate: s.regKind === 'none' ? 0 : s.regRate },
  };
  return out;
}

function label(v) {
  return LABELS[v] ?? v.replaceAll('_', ' ');
}

/**
 * createSettings fills form with controls for the loaded lesson.
 * @param {HTMLFormElement} form
 * @param {{onApply: (lesson: any) => void, limits: () => any}} opts
 */
export function createSettings(form, opts) {
  let lesson = null;
  /** @type {Settings|null} */
  let s = null;
  let uid = 0;

  function select(name, value, choices, text) {
    const id = `set-${name}-${uid++}`;
    const sel = h('select', { id, name });
    for (const c of choices) sel.append(h('option', { value: c, selected: c === value, text: label(c) }));
    sel.addEventListener('change', () => {
      s[name] = sel.value;
    });
    return h('div', { class: 'field' }, h('label', { for: id, class: 'field-label', text }), sel);
  }

  function number(name, value, text, attrs) {
    const id = `set-${name}-${uid++}`;
    const input = h('input', { id, name, type: 'number', value, inputmode: 'decimal', ...attrs });
    input.addEventListener('input', () => {
      const v = Number(input.value);
      if (input.value !== '' && Number.isFinite(v)) s[name] = v;
    });
    return h('div', { class: 'field' }, h('label', { for: id, class: 'field-label', text }), input);
  }

  function draw() {
    if (!lesson) return;
    const limits = opts.limits() ?? {};
    const maxLayers = limits.maxLayers ?? 8;
    const maxNeurons = limits.maxNeurons ?? 64;
    const frag = document.createDocumentFragment();

    const layers = h('fieldset', { class: 'layers' }, h('legend', { text: 'Hidden layers' }));
    const row = h('div', { class: 'layer-row' });
    s.hidden.forEach((size, i) => {
      const name = `hidden layer ${i + 1}`;
      const minus = h('button', { type: 'button', class: 'btn small', 'aria-label': `Fewer neurons in ${name}`, disabled: size <= 1, text: '−' });
      const plus = h('button', { type: 'button', class: 'btn small', 'aria-label': `More neurons in ${name}`, disabled: size >= maxNeurons, text: '+' });
      minus.addEventListener('click', () => {
        s.hidden[i] = Math.max(1, size - 1);
        draw();
      });
      plus.addEventListener('click', () => {
        s.hidden[i] = Math.min(maxNeurons, size + 1);
        draw();
      });
      row.append(h('div', { class: 'layer-box' }, h('span', { class: 'layer-size', text: `${size} neuron${size === 1 ? '' : 's'}` }), h('span', { class: 'layer-buttons' }, minus, plus)));
    });
    if (!s.hidden.length) row.append(h('p', { class: 'muted', text: 'No hidden layer: the inputs feed the output directly.' }));
    const addLayer = h('button', { type: 'button', class: 'btn small', disabled: s.hidden.length + 1 >= maxLayers, text: '+ layer' });
    const removeLayer = h('button', { type: 'button', class: 'btn small', disabled: s.hidden.length === 0, text: '− layer' });
    addLayer.setAttribute('aria-label', 'Add a hidden layer');
    removeLayer.setAttribute('aria-label', 'Remove the last hidden layer');
    addLayer.addEventListener('click', () => {
      s.hidden.push(s.hidden[s.hidden.length - 1] ?? 2);
      draw();
    });
    removeLayer.addEventListener('click', () => {
      s.hidden.pop();
      draw();
    });
    layers.append(row, h('div', { class: 'layer-actions' }, addLayer, removeLayer));
    frag.append(layers);

    const net = h('fieldset', {}, h('legend', { text: 'Network' }));
    net.append(select('activation', s.activation, CHOICES.activation, 'Hidden activation'), select('outputActivation', s.outputActivation, CHOICES.outputActivation, 'Output activation'));
    frag.append(net);

    const tr = h('fieldset', {}, h('legend', { text: 'Training' }));
    tr.append(
      select('loss', s.loss, CHOICES.loss, 'Loss'),
      select('optimizer', s.optimizer, CHOICES.optimizer, 'Optimizer'),
      number('learningRate', s.learningRate, 'Learning rate', { min: 0, step: 'any' }),
      number('batchSize', s.batchSize, 'Batch size', { min: 1, step: 1 }),
      number('momentum', s.momentum, 'Momentum', { min: 0, max: 0.999, step: 'any' }),
      select('regKind', s.regKind, CHOICES.regularization, 'Regularization'),
      number('regRate', s.regRate, 'Regularization rate', { min: 0, step: 'any' }),
    );
    frag.append(tr);

    if (s.generator) {
      const data = h('fieldset', {}, h('legend', { text: 'Data' }));
      data.append(select('generator', s.generator, CHOICES.generator, 'Data set'));
      if (s.n !== null) data.append(number('n', s.n, 'Examples', { min: 4, max: limits.maxSamples ?? 5000, step: 1 }));
      data.append(number('noise', s.noise ?? 0, 'Noise', { min: 0, step: 'any' }));
      if (s.features) {
        const fs = h('fieldset', { class: 'features' }, h('legend', { text: 'Features fed to the network' }));
        for (const f of CHOICES.features) {
          const id = `set-f-${uid++}`;
          const cb = h('input', { type: 'checkbox', id, checked: s.features.includes(f) });
          cb.addEventListener('change', () => {
            const set = new Set(s.features);
            cb.checked ? set.add(f) : set.delete(f);
            s.features = CHOICES.features.filter((x) => set.has(x));
          });
          fs.append(h('label', { for: id, class: 'check' }, cb, ` ${f}`));
        }
        data.append(fs);
      }
      frag.append(data);
    }

    const apply = h('button', { type: 'submit', class: 'btn primary', text: 'Apply and restart' });
    const revert = h('button', { type: 'button', class: 'btn', text: 'Undo changes' });
    revert.addEventListener('click', () => {
      s = settingsOf(lesson);
      draw();
    });
    frag.append(h('div', { class: 'settings-actions' }, apply, revert, h('p', { class: 'muted small', text: 'Applying starts the lesson again with these settings.' })));
    form.replaceChildren(frag);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!lesson || !s) return;
    if (s.features && s.features.length === 0) {
      s.features = ['x1', 'x2'];
    }
    opts.onApply(buildLesson(lesson, s));
  });

  return {
    /** @param {any} l the lesson as loaded */
    setLesson(l) {
      if (l === lesson) return;
      lesson = l;
      s = settingsOf(l);
      draw();
    },
  };
}
