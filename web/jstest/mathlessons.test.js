// Every built-in lesson, replayed micro-step by micro-step from the
// engine's own trace: for every neuron (inputs too), weight, bias and the
// loss, every line of the math panel that computes something gives, with
// the numbers exactly as shown, the result as shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formulas, sig } from '../../static/js/math.js';
import { lessonTraces, replay } from './lessontrace.test.js';

/** selections lists everything a learner can select in the model's network. */
function selections(m, weights) {
  const out = [{ kind: 'loss' }];
  m.network.inputs.forEach((_, j) => out.push({ kind: 'neuron', layer: -1, neuron: j }));
  m.network.layers.forEach((layer, l) => {
    for (let j = 0; j < layer.size; j++) {
      out.push({ kind: 'neuron', layer: l, neuron: j });
      if (!weights) continue;
      out.push({ kind: 'weight', layer: l, to: j, from: null });
      m.network.weights[l][j].forEach((_, i) => out.push({ kind: 'weight', layer: l, to: j, from: i }));
    }
  });
  return out;
}

for (const t of lessonTraces()) {
  test(`${t.name}: every product on screen matches its factors on screen`, () => {
    let lines = 0;
    replay(t, (_before, events, m, kind) => {
      if (kind !== 'micro') return true;
      const weights = events.some((e) => e.type === 'backward' || e.type === 'update');
      for (const sel of selections(m, weights)) {
        for (const f of formulas(m, sel)) {
          assert.equal(typeof f.tex, 'string');
          for (const c of f.checks ?? []) {
            lines++;
            const got = Function(`"use strict"; return (${c.js});`)();
            assert.equal(Number(sig(got, c.digits)), Number(c.shown), `${t.name} ${JSON.stringify(sel)}: ${c.js} = ${got}, shown as ${c.shown} (${c.digits} digits)\n${f.tex}`);
            assert.ok(f.tex.includes(c.shown.split('e')[0]), `${t.name}: the result ${c.shown} is in the TeX ${f.tex}`);
          }
        }
      }
    });
    assert.ok(lines > 20, `${t.name}: only ${lines} lines checked`);
  });
}
