import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phasePlan } from '../../static/js/draw.js';

// One example of a [2, 2, 1] network: forward, loss, backward, update.
const sample = [
  { type: 'sample' },
  { type: 'forward', layer: 0, neuron: 0 },
  { type: 'forward', layer: 0, neuron: 1 },
  { type: 'forward', layer: 1, neuron: 0 },
  { type: 'loss' },
  { type: 'backward', layer: 1, neuron: 0 },
  { type: 'backward', layer: 0, neuron: 0 },
  { type: 'backward', layer: 0, neuron: 1 },
  { type: 'update', layer: 0, to: 0, from: 0 },
  { type: 'update', layer: 0, to: 0, bias: true },
];

test('a step moves through its phases in order: forward, the mistake, blame backward, update', () => {
  const { plan, total } = phasePlan(sample, null);
  assert.deepEqual(plan.map((p) => p.kind + (p.layer >= 0 ? p.layer : '')), ['fwd0', 'fwd1', 'loss', 'bwd1', 'bwd0', 'upd']);
  for (let k = 1; k < plan.length; k++) assert.equal(plan[k].start, plan[k - 1].start + plan[k - 1].dur, 'one after the other');
  const last = plan[plan.length - 1];
  assert.equal(total, last.start + last.dur);
});

test('paced Play fills most of the time until the next step, slow or fast', () => {
  for (const budget of [2000, 1000, 500]) {
    const { plan, total } = phasePlan(sample, budget);
    assert.ok(Math.abs(total - budget * 0.85) < 1e-9, `${budget} ms: ${total}`);
    assert.equal(plan.length, 6, 'every phase is shown');
  }
  assert.equal(phasePlan(sample, null).total, phasePlan(sample, 0).total, 'no budget: the natural pace');
});

test('one neuron at a time animates that neuron only', () => {
  const { plan } = phasePlan([{ type: 'forward', layer: 1, neuron: 3 }], 1000);
  assert.deepEqual(plan.map((p) => [p.kind, p.layer, p.neuron]), [['fwd', 1, 3]]);
  assert.deepEqual(phasePlan([{ type: 'loss' }], null).plan.map((p) => p.kind), ['loss']);
  assert.deepEqual(phasePlan([], 1000).plan, []);
});
