// Every built-in lesson, replayed micro-step by micro-step from the
// engine's own trace: where the narration and the inspector write a
// neuron's blame as a product (∂L/∂a times the slope), the two factors as
// written multiply to the blame as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { narrate } from '../../static/js/narrate.js';
import { inspect } from '../../static/js/inspector.js';
import { MINUS } from '../../static/js/format.js';
import { lessonTraces, replay } from './lessontrace.test.js';

const value = (s) => Number(s.replace(MINUS, '-').replace(/,/g, ''));

/** agrees reports whether a × b, rounded as c is written, is c. */
function agrees(a, b, c) {
  const decimals = c.includes('.') ? c.split('.')[1].length : 0;
  return value((value(a) * value(b)).toFixed(decimals).replace('-', MINUS)) === value(c);
}

const number = String.raw`(−?[\d,]+(?:\.\d+)?)`;
const sentences = [
  new RegExp(`∂L/∂a = ${number}, times the activation's slope ${number}, gives ∂L/∂z = ${number}`),
  new RegExp(`${number} on its output, times how steeply its activation responds \\(${number}\\), gives a blame of ${number}`),
];

for (const t of lessonTraces()) {
  test(`${t.name}: every blame written as a product in words matches its factors`, () => {
    let checked = 0;
    replay(t, (_before, events, m, kind) => {
      if (kind !== 'micro' || !events.some((e) => e.type === 'backward')) return false;
      for (const math of [true, false]) {
        const text = narrate(m, { math }).text;
        for (const re of sentences) {
          const got = re.exec(text);
          if (!got) continue;
          checked++;
          assert.ok(agrees(got[1], got[2], got[3]), `${t.name}, math ${math}: ${got[0]}`);
        }
      }
      for (const e of events.filter((x) => x.type === 'backward')) {
        const rows = Object.fromEntries(inspect(m, { kind: 'neuron', layer: e.layer, neuron: e.neuron }).rows);
        const [a, b, c] = [rows['∂L/∂a'], rows['∂a/∂z (slope)'], rows['∂L/∂z (blame)']];
        if ([a, b, c].some((s) => !Number.isFinite(value(s)))) continue;
        checked++;
        assert.ok(agrees(a, b, c), `${t.name}: the inspector's ${a} × ${b} = ${c}`);
      }
      return false;
    });
    assert.ok(checked > 5, `${t.name}: only ${checked} products checked`);
  });
}
