// inspector.js: every number of the selected neuron or weight, and the
// weight editor (type a value, or drag the slider), which sends `setWeight`.

import { h } from './dom.js';
import { fmt, displayValue, changeDecimals, hasUnits, productWords } from './format.js';
import { neuronName, shortName, direction } from './narrate.js';
import { sampleGradient, findUpdate } from './state.js';

/**
 * rows lists the inspector's label/value pairs for a selection. Pure.
 * @param {import('./state.js').Model} m
 * @param {import('./draw.js').Selection} sel
 * @returns {{title: string, rows: [string, string][], edit: {layer: number, to: number, from: number|null, value: number}|null}}
 */
export function inspect(m, sel) {
  const net = m.network;
  const v = m.values;
  if (sel.kind === 'neuron') {
    const { layer: l, neuron: j } = sel;
    if (l < 0) {
      const x = m.sample?.x?.[j];
      const spec = m.lesson?.display?.inputs?.[j];
      /** @type {[string, string][]} */
      const rows = [['value', x === undefined ? '– (no example yet)' : fmt(x)]];
      if (spec && x !== undefined) rows.push(['in real units', displayValue(x, spec)]);
      return { title: `Input: ${net.inputs[j] ?? `x${j + 1}`}`, rows, edit: null };
    }
    // ∂L/∂a times the slope is the blame: written so that it checks.
    const [dA, slope, dZ] = productWords(v?.dA?.[l]?.[j], v?.slope?.[l]?.[j], v?.dZ?.[l]?.[j]);
    /** @type {[string, string][]} */
    const rows = [
      ['activation', net.layers[l].activation],
      ['z (weighted sum)', fmt(v?.z?.[l]?.[j])],
      ['a (output)', fmt(v?.a?.[l]?.[j])],
      ['∂L/∂a', dA],
      ['∂a/∂z (slope)', slope],
      ['∂L/∂z (blame)', dZ],
      ['bias', fmt(net.biases[l][j])],
    ];
    if (l === net.layers.length - 1) {
      // An output in real units: the guess and the target in those units,
      // with the number the network sees beside the target.
      const spec = m.lesson?.display?.outputs?.[j];
      const a = v?.a?.[l]?.[j];
      const y = m.sample?.y?.[j];
      if (hasUnits(spec) && typeof a === 'number') rows.splice(3, 0, ['the guess in real units', displayValue(a, spec)]);
      if (typeof y === 'number') rows.push(['target', hasUnits(spec) ? `${displayValue(y, spec)} (the network sees ${fmt(y)})` : fmt(y)]);
    }
    const u = findUpdate(m, l, j, null);
    if (u) {
      // Enough decimals to show the change (0.35 → 0.35 says nothing).
      const n = changeDecimals(u.old, u.new);
      rows.push(['last bias update', `${fmt(u.old, n)} → ${fmt(u.new, n)}`]);
    }
    return { title: cap(neuronName(net, l, j)), rows, edit: { layer: l, to: j, from: null, value: net.biases[l][j] } };
  }
  const { layer: l, to: j, from: i } = sel;
  const w = i === null ? net.biases[l][j] : net.weights[l][j][i];
  const g = sampleGradient(m, l, j, i);
  const bg = i === null ? m.grads?.biases?.[l]?.[j] : m.grads?.weights?.[l]?.[j]?.[i];
  const u = findUpdate(m, l, j, i);
  /** @type {[string, string][]} */
  const rows = [
    ['weight', fmt(w, 4)],
    ['∂L/∂w, this example', fmt(g, 4)],
  ];
  if (bg !== undefined && bg !== null) rows.push(['gradient, batch so far', fmt(bg, 4)]);
  if (u) {
    const n = Math.max(4, changeDecimals(u.old, u.new));
    rows.push(['last update', `${fmt(u.old, n)} → ${fmt(u.new, n)}`]);
    rows.push(['gradient used', fmt(u.grad, 4)]);
    rows.push(['so', `it ${direction(u, i === null ? 'bias' : 'weight')}`]);
  }
  const title = i === null ? `Bias of ${neuronName(net, l, j)}` : `Weight ${shortName(net, l - 1, i)} → ${shortName(net, l, j)}`;
  return { title, rows, edit: { layer: l, to: j, from: i, value: w } };
}

/**
 * createInspector shows the selection in el.
 * @param {HTMLElement} el
 * @param {{onSetWeight: (cmd: any) => void}} opts
 */
export function createInspector(el, opts) {
  let key = '';
  let dl = null;
  let title = null;
  let num = null;
  let range = null;
  let editing = null;

  function build(info) {
    title = h('h3', { class: 'inspect-title', text: info.title });
    dl = h('dl', { class: 'inspect' });
    /** @type {HTMLElement[]} */
    const kids = [title, dl];
    if (info.edit) {
      const what = info.edit.from === null ? 'bias' : 'weight';
      const id = `edit-${Math.random().toString(36).slice(2, 8)}`;
      num = h('input', { id, type: 'number', step: '0.01', inputmode: 'decimal', class: 'edit-num' });
      range = h('input', { type: 'range', min: -4, max: 4, step: 0.01, 'aria-label': `Drag to set the ${what}`, class: 'edit-range' });
      const set = h('button', { type: 'submit', class: 'btn small', text: `Set ${what}` });
      const form = h('form', { class: 'edit' }, h('label', { for: id, text: `Change the ${what}` }), h('div', { class: 'edit-row' }, num, set), range);
      const send = (value) => {
        if (!Number.isFinite(value) || !editing) return;
        const cmd = { cmd: 'setWeight', layer: editing.layer, to: editing.to, value };
        if (editing.from === null) cmd.bias = true;
        else cmd.from = editing.from;
        opts.onSetWeight(cmd);
      };
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        send(Number(num.value));
      });
      range.addEventListener('input', () => {
        num.value = range.value;
      });
      range.addEventListener('change', () => send(Number(range.value)));
      kids.push(form);
    } else {
      num = range = null;
    }
    el.replaceChildren(...kids);
  }

  return {
    /**
     * @param {import('./state.js').Model} m
     * @param {import('./draw.js').Selection|null} sel
     */
    render(m, sel) {
      if (!sel || !m.network) return;
      let info;
      try {
        info = inspect(m, sel);
      } catch {
        return; // the selection does not exist in a new network
      }
      const k = JSON.stringify(sel) + '|' + m.network.layers.map((l) => l.size).join(',');
      if (k !== key) {
        key = k;
        build(info);
      }
      title.textContent = info.title;
      dl.replaceChildren(...info.rows.flatMap(([a, b]) => [h('dt', { text: a }), h('dd', { text: b })]));
      editing = info.edit;
      if (info.edit && num && document.activeElement !== num && document.activeElement !== range) {
        num.value = String(Math.round(info.edit.value * 10000) / 10000);
        const span = Math.max(4, Math.ceil(Math.abs(info.edit.value) * 2));
        range.min = String(-span);
        range.max = String(span);
        range.value = String(info.edit.value);
        range.setAttribute('aria-valuetext', fmt(info.edit.value));
      }
    },
  };
}

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
