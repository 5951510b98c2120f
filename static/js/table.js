// table.js: every value of the network as tables, the diagram's text
// alternative. Drawn only while its <details> is open.

import { fmt } from './format.js';
import { shortName } from './narrate.js';
import { sampleGradient, findUpdate } from './state.js';

const MAX_WEIGHT_ROWS = 300;

/**
 * neuronRows lists one row per neuron, inputs first. Pure.
 * @param {import('./state.js').Model} m
 * @returns {string[][]}
 */
export function neuronRows(m) {
  const net = m.network;
  const rows = net.inputs.map((name, j) => [name, 'input', fmt(m.sample?.x?.[j]), '', '', '', '']);
  net.layers.forEach((layer, l) => {
    for (let j = 0; j < layer.size; j++) {
      const v = m.values;
      rows.push([shortName(net, l, j), l === net.layers.length - 1 ? 'output' : `hidden ${l + 1}`, fmt(v?.a?.[l]?.[j]), fmt(v?.z?.[l]?.[j]), fmt(v?.dA?.[l]?.[j]), fmt(v?.dZ?.[l]?.[j]), fmt(net.biases[l][j])]);
    }
  });
  return rows;
}

/**
 * weightRows lists one row per weight, at most MAX_WEIGHT_ROWS. Pure.
 * @param {import('./state.js').Model} m
 * @returns {string[][]}
 */
export function weightRows(m) {
  const net = m.network;
  const rows = [];
  net.weights.forEach((layer, l) =>
    layer.forEach((row, j) =>
      row.forEach((w, i) => {
        if (rows.length >= MAX_WEIGHT_ROWS) return;
        const u = findUpdate(m, l, j, i);
        rows.push([shortName(net, l - 1, i), shortName(net, l, j), fmt(w, 4), fmt(sampleGradient(m, l, j, i), 4), u ? `${fmt(u.old, 4)} → ${fmt(u.new, 4)}` : '–']);
      }),
    ),
  );
  return rows;
}

function table(caption, head, rows) {
  const t = document.createElement('table');
  t.className = 'values';
  const c = document.createElement('caption');
  c.textContent = caption;
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const x of head) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = x;
    tr.append(th);
  }
  thead.append(tr);
  const tbody = document.createElement('tbody');
  for (const r of rows) {
    const row = document.createElement('tr');
    r.forEach((x, k) => {
      const cell = document.createElement(k === 0 ? 'th' : 'td');
      if (k === 0) cell.scope = 'row';
      cell.textContent = x;
      row.append(cell);
    });
    tbody.append(row);
  }
  t.append(c, thead, tbody);
  return t;
}

/**
 * createTable draws into el while box is open.
 * @param {HTMLElement} el
 * @param {HTMLDetailsElement} box
 */
export function createTable(el, box) {
  let last = null;
  const draw = (m) => {
    last = m;
    if (!box.open || !m.network) return;
    const total = m.network.weights.reduce((s, l) => s + l.length * (l[0]?.length ?? 0), 0);
    el.replaceChildren(
      table('Neurons for the current example', ['neuron', 'layer', 'a (value)', 'z (sum)', '∂L/∂a', '∂L/∂z', 'bias'], neuronRows(m)),
      table(total > MAX_WEIGHT_ROWS ? `Weights (the first ${MAX_WEIGHT_ROWS} of ${total})` : 'Weights', ['from', 'to', 'weight', '∂L/∂w (this example)', 'last update'], weightRows(m)),
    );
  };
  box.addEventListener('toggle', () => last && draw(last));
  return { render: draw };
}
