import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortcut, speedText, SPEEDS } from './controls.js';

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
