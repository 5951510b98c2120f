import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortcut, speedText, SPEEDS, positionText, pacedByPage, runCommand } from '../../static/js/controls.js';

const key = (k, tagName = 'BODY', extra = {}) => ({ key: k, target: { tagName, getAttribute: () => null }, ...extra });

test('shortcuts', () => {
  assert.equal(shortcut(key('ArrowRight')), 'step');
  assert.equal(shortcut(key(' ')), 'step');
  assert.equal(shortcut(key('ArrowLeft')), 'back');
  assert.equal(shortcut(key('p')), 'play');
  assert.equal(shortcut(key('R')), 'reset');
  assert.equal(shortcut(key('m')), 'math');
  assert.equal(shortcut(key('?')), 'help');
  assert.equal(shortcut(key('1')), 'granularity:micro');
  assert.equal(shortcut(key('5')), 'granularity:epoch');
  assert.equal(shortcut(key('x')), null);
});

test('shortcuts leave form fields and buttons alone', () => {
  assert.equal(shortcut(key('ArrowRight', 'INPUT')), null);
  assert.equal(shortcut(key('p', 'SELECT')), null);
  assert.equal(shortcut(key(' ', 'BUTTON')), null);
  assert.equal(shortcut(key('ArrowRight', 'BUTTON')), 'step');
  assert.equal(shortcut(key('r', 'BODY', { ctrlKey: true })), null);
});

test('speeds are described in words', () => {
  assert.equal(speedText(0), 'as fast as possible');
  assert.equal(speedText(1), '1 step a second');
  assert.equal(speedText(5), '5 steps a second');
  assert.equal(SPEEDS[SPEEDS.length - 1], 0);
});

test('positionText says where training is, plainly', () => {
  const p = (o) => ({ t: 1, epoch: 0, sample: 0, phase: 'forward', layer: 0, neuron: 0, batchCount: 0, updates: 0, ...o });
  assert.equal(positionText(p({ t: 0 }), 30), 'epoch 1 · example 1 of 30 next · 0 updates');
  assert.equal(positionText(p({ sample: 2, updates: 2 }), 30), 'epoch 1 · example 3 of 30 next · 2 updates');
  assert.equal(positionText(p({ sample: 2, phase: 'loss', layer: 1, updates: 1 }), 30), 'epoch 1 · example 3 of 30 · 1 update');
  assert.equal(positionText(p({ epoch: 1, updates: 30 }), 30), 'epoch 2 · example 1 of 30 next · 30 updates');
  assert.equal(positionText(p({ epoch: 83443, sample: 1200, updates: 2503295 }), 3000), 'epoch 83,444 · example 1,201 of 3,000 next · 2,503,295 updates');
  assert.equal(positionText(null, 30), '');
});

test('Play is paced by the page only when slow enough to watch each step', () => {
  assert.equal(pacedByPage(0.5, 'sample'), true);
  assert.equal(pacedByPage(2, 'phase'), true);
  assert.equal(pacedByPage(2, 'epoch'), false, 'an epoch a step is too big to animate');
  assert.equal(pacedByPage(5, 'sample'), false);
  assert.equal(pacedByPage(0, 'sample'), false, '0 is as fast as possible');
  assert.deepEqual(runCommand(30, 'phase'), { cmd: 'run', stepsPerSecond: 30, granularity: 'sample' });
  assert.deepEqual(runCommand(0, 'batch'), { cmd: 'run', stepsPerSecond: 0, granularity: 'batch' });
});
