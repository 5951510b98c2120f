import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEmbedOptions, commandFromMessage, accepts, targetOrigins, readyMessage, resizeMessage, replyMessage, COMMANDS } from '../../static/js/bridge.js';

test('embed options: defaults', () => {
  const o = parseEmbedOptions('?lesson=xor');
  assert.equal(o.lesson, 'xor');
  assert.equal(o.controls, null);
  assert.equal(o.math, undefined);
  assert.equal(o.autoplay, false);
  assert.equal(o.theme, 'auto');
  assert.equal(o.granularity, undefined);
  assert.equal(o.questions, true);
  assert.equal(parseEmbedOptions('?questions=off').questions, false);
});

test('embed options: given', () => {
  const o = parseEmbedOptions('?controls=step, Back,bogus,reset&math=on&autoplay=1&theme=projector&granularity=micro');
  assert.deepEqual([...o.controls], ['step', 'back', 'reset']);
  assert.equal(o.math, true);
  assert.equal(o.autoplay, true);
  assert.equal(o.theme, 'projector');
  assert.equal(o.granularity, 'micro');
  assert.equal(parseEmbedOptions('?math=off').math, false);
  assert.equal(parseEmbedOptions('?theme=neon').theme, 'auto');
  assert.equal(parseEmbedOptions('?granularity=huge').granularity, undefined);
  assert.deepEqual([...parseEmbedOptions('?controls=').controls], [], 'controls= hides every control');
});

test('commands from the host', () => {
  assert.equal(commandFromMessage(null), null);
  assert.equal(commandFromMessage('hello'), null);
  assert.equal(commandFromMessage({ type: 'other' }), null);
  assert.deepEqual(commandFromMessage({ type: 'netstep:command', cmd: { cmd: 'step', granularity: 'micro' } }), { cmd: 'step', granularity: 'micro' });
  assert.throws(() => commandFromMessage({ type: 'netstep:command' }), /needs a cmd object/);
  assert.throws(() => commandFromMessage({ type: 'netstep:command', cmd: { cmd: 'explode' } }), /want one of step/);
  for (const c of ['step', 'back', 'run', 'pause', 'reset', 'load', 'set']) assert.ok(COMMANDS.includes(c), c);
});

test('only the parent commands', () => {
  const parent = {};
  assert.equal(accepts({ source: parent, origin: 'https://a.example' }, parent, []), true);
  assert.equal(accepts({ source: {}, origin: 'https://a.example' }, parent, []), false);
  assert.equal(accepts({ source: null, origin: 'null' }, null, []), false);
  assert.equal(accepts({ source: parent, origin: 'https://b.example' }, parent, ['https://a.example']), false);
  assert.equal(accepts({ source: parent, origin: 'https://a.example' }, parent, ['https://a.example']), true);
});

test('messages', () => {
  assert.deepEqual(targetOrigins([]), ['*']);
  assert.deepEqual(targetOrigins(['https://a.example']), ['https://a.example']);
  const r = readyMessage('XOR');
  assert.equal(r.type, 'netstep:ready');
  assert.equal(r.version, 1);
  assert.ok(r.commands.includes('step'));
  assert.deepEqual(resizeMessage(400.2), { type: 'netstep:resize', height: 401 });
  assert.deepEqual(replyMessage({ type: 'done', id: 'h1' }, 7), { type: 'netstep:done', id: 7 });
  assert.deepEqual(replyMessage({ type: 'error', id: 'h1', code: 'at_start', message: 'x' }, undefined), { type: 'netstep:error', id: null, code: 'at_start', message: 'x' });
});
