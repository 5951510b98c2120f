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

test('openClass: the session, else the lesson as it is now, else the original, said plainly', async () => {
  const sent = [];
  const answer = (status, body) => ({ ok: status < 300, status, json: async () => body });
  const ok = answer(201, { code: 'K7M2QX', presenterUrl: 'http://h/present/K7M2QX#token=t' });
  const refused = (error) => answer(400, { error });
  const server = (...answers) => async (url, init) => (sent.push(JSON.parse(init.body)), answers[sent.length - 1]);

  let out = await openClass(server(ok), { session: 'R', current: { title: 'now' }, original: 'xor' });
  assert.deepEqual(sent, [{ session: 'R' }]);
  assert.equal(out.note, '');
  assert.equal(out.code, 'K7M2QX');

  sent.length = 0;
  out = await openClass(server(refused('session: no live session'), ok), { session: 'R', current: { title: 'now' }, original: 'xor' });
  assert.deepEqual(sent, [{ session: 'R' }, { lesson: { title: 'now' } }]);
  assert.match(out.note, /first example.*no live session/);

  sent.length = 0;
  out = await openClass(server(refused('lesson.network.weights[0][0][0]: want a number from -1000 to 1000'), ok), { current: { title: 'now' }, original: { title: 'mine' } });
  assert.deepEqual(sent, [{ lesson: { title: 'now' } }, { lesson: { title: 'mine' } }]);
  assert.match(out.note, /from the lesson's beginning.*weights\[0\]\[0\]\[0\]/);

  sent.length = 0;
  await assert.rejects(openClass(server(answer(503, { error: 'netstep is full' })), { session: 'R', current: { title: 'now' }, original: 'xor' }), /netstep is full/);
  assert.equal(sent.length, 1, 'a full server is not asked again');
  sent.length = 0;
  await openClass(server(ok), { original: 'xor' });
  assert.deepEqual(sent, [{ lesson: 'xor' }]);
});
