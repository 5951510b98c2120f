import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomURLs, roomCredentials, tokenFromHash, followersText, endedText, CHANGES, openClass } from '../../static/js/room.js';

test('roomURLs: no secret in any URL; the token only in the presenter credentials', () => {
  const presenter = { code: 'K7M2QX', role: 'presenter', token: 'Qm9-_x', seat: 'x' };
  const p = roomURLs('wss://h/ws', presenter);
  assert.equal(p.live, 'wss://h/ws?room=K7M2QX');
  assert.equal(p.fork, 'wss://h/ws?fork=K7M2QX');
  assert.deepEqual(roomCredentials(presenter), { token: 'Qm9-_x' });
  const follower = { code: 'K7M2QX', role: 'follower', token: 'ignored', seat: 'abc_9' };
  assert.equal(roomURLs('ws://h/ws?x=1', follower).live, 'ws://h/ws?room=K7M2QX');
  assert.deepEqual(roomCredentials(follower), { seat: 'abc_9' });
  assert.deepEqual(roomCredentials({ code: 'K7M2QX', role: 'follower' }), {});
});

test('tokenFromHash', () => {
  assert.equal(tokenFromHash('#token=Qm9-_x'), 'Qm9-_x');
  assert.equal(tokenFromHash(''), '');
  assert.equal(tokenFromHash('#other=1'), '');
});

test('followersText and endedText', () => {
  assert.equal(followersText(0), 'No students yet');
  assert.equal(followersText(1), '1 student following');
  assert.equal(followersText(31), '31 students following');
  assert.match(endedText('follower', 'the presenter ended the room'), /teacher ended/);
  assert.match(endedText('presenter', ''), /class has ended/);
});

test('CHANGES: what a follower may not send', () => {
  for (const c of ['step', 'back', 'load', 'set', 'view', 'endRoom']) assert.ok(CHANGES.has(c), c);
  assert.ok(!CHANGES.has('state'));
});

test('openClass: the lesson as it is now, else the original, said plainly', async () => {
  const sent = [];
  const answer = (status, body) => ({ ok: status < 300, status, json: async () => body });
  const ok = answer(201, { code: 'K7M2QX', presenterUrl: 'http://h/present/K7M2QX#token=t' });
  let out = await openClass(async (url, init) => (sent.push(JSON.parse(init.body)), ok), { title: 'now' }, 'xor');
  assert.deepEqual(sent, [{ lesson: { title: 'now' } }]);
  assert.equal(out.note, '');
  assert.equal(out.code, 'K7M2QX');

  sent.length = 0;
  const refused = answer(400, { error: 'lesson.network.weights[0][0][0]: want a number from -1000 to 1000' });
  out = await openClass(async (url, init) => (sent.push(JSON.parse(init.body)), sent.length === 1 ? refused : ok), { title: 'now' }, { title: 'mine' });
  assert.deepEqual(sent, [{ lesson: { title: 'now' } }, { lesson: { title: 'mine' } }]);
  assert.match(out.note, /from the lesson's beginning.*weights\[0\]\[0\]\[0\]/);

  await assert.rejects(openClass(async () => answer(503, { error: 'netstep is full' }), { title: 'now' }, 'xor'), /netstep is full/);
  sent.length = 0;
  await openClass(async (url, init) => (sent.push(JSON.parse(init.body)), ok), null, 'xor');
  assert.deepEqual(sent, [{ lesson: 'xor' }]);
});
