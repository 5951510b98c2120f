import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percent, spread, answeredText, questionOf, labelsFor, choiceOf, movesOn } from '../../static/js/vote.js';
import { roomCredentials, CHANGES } from '../../static/js/room.js';

const model = { network: { outputs: ['cat', 'dog'] }, training: { loss: 'half_squared_error' }, lesson: {} };

test('percent and spread: counts and whole percentages, the right answer marked', () => {
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(0, 0), 0);
  assert.deepEqual(spread([17, 7], ['Up', 'Down'], 0), [
    { label: 'Up', count: 17, percent: 71, right: true },
    { label: 'Down', count: 7, percent: 29, right: false },
  ]);
  assert.deepEqual(spread([0, 0], ['Up'], null).map((r) => [r.label, r.percent, r.right]), [['Up', 0, false], ['Choice 2', 0, false]]);
});

test('answeredText', () => {
  assert.equal(answeredText(24, 31), '24 of 31 students answered');
  assert.equal(answeredText(0, 1), '0 of 1 student answered');
});

test('questionOf, labelsFor and choiceOf follow the server order of choices', () => {
  const weight = { type: 'question', question: 3, at: 'update', kind: 'weight', ask: 'Up?', layer: 1, to: 0, bias: true, choices: 2 };
  assert.deepEqual(questionOf(weight), { at: 'update', kind: 'weight', ask: 'Up?', layer: 1, to: 0, from: 0, bias: true });
  assert.deepEqual(labelsFor(weight, model), ['It will go up', 'It will go down']);
  assert.equal(choiceOf(weight, model, 'down'), 1);
  assert.equal(choiceOf(weight, model, null), null);
  const winner = { type: 'question', question: 4, at: 'loss', kind: 'winner', ask: 'Which?', choices: 2 };
  assert.deepEqual(labelsFor(winner, model), ['cat', 'dog']);
  assert.equal(choiceOf(winner, model, '1'), 1);
  assert.deepEqual(questionOf(winner), { at: 'loss', kind: 'winner', ask: 'Which?' });
});

test('a follower reconnects with its seat; ask and reveal are the presenter’s', () => {
  assert.deepEqual(roomCredentials({ code: 'K7M2QX', role: 'follower', seat: 'abc_9' }), { seat: 'abc_9' });
  assert.deepEqual(roomCredentials({ code: 'K7M2QX', role: 'presenter', token: 't', seat: 'x' }), { token: 't' });
  assert.ok(CHANGES.has('ask') && CHANGES.has('reveal') && !CHANGES.has('answer'));
});

test('loopbackWarning: only loopback addresses, whose links phones cannot reach', async () => {
  const { loopbackWarning } = await import('../../static/js/room.js');
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) assert.match(loopbackWarning(h), /phones cannot reach/, h);
  for (const h of ['192.168.1.20', 'netstep.example.org', '10.0.0.5', '[fe80::1]']) assert.equal(loopbackWarning(h), '', h);
});

test('the loopback warning never shows an address that is not the machine\'s', async () => {
  const { loopbackWarning, addressAdvice } = await import('../../static/js/room.js');
  const said = [loopbackWarning('localhost'), addressAdvice(true, '41234'), addressAdvice(false, '41234'), addressAdvice(true, '')];
  // 0.0.0.0 is the flag's "every interface", not an address to open.
  for (const text of said) assert.doesNotMatch(text.replaceAll('0.0.0.0', ''), /\d+\.\d+\.\d+\.\d+/, text);
  assert.match(addressAdvice(true, '41234'), /--addr 0\.0\.0\.0:41234\b/, 'listen on every interface, at this page\'s port');
  assert.match(addressAdvice(false, '41234'), /prints it at start/, 'where to find the address');
});

test('movesOn: a step, a run, Back, Reset, a new lesson or an edit moves the class on; asking again does not', () => {
  for (const f of [
    { type: 'events', events: [{ type: 'forward' }] },
    { type: 'progress', position: {} },
    { type: 'state', reason: 'step' },
    { type: 'state', reason: 'back' },
    { type: 'state', reason: 'reset' },
    { type: 'state', reason: 'load' },
    { type: 'state', reason: 'setWeight' },
  ]) assert.equal(movesOn(f), true, JSON.stringify(f));
  for (const f of [
    { type: 'events', events: [] },
    { type: 'state', reason: 'state' },
    { type: 'state', reason: 'resync' },
    { type: 'state', reason: 'pause' },
    { type: 'done' },
    { type: 'view', say: 'x' },
    { type: 'tally', question: 1 },
    { type: 'reveal', question: 1 },
    { type: 'room' },
    null,
  ]) assert.equal(movesOn(f), false, JSON.stringify(f));
});
