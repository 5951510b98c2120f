import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomURLs, tokenFromHash, followersText, endedText, CHANGES } from '../../static/js/room.js';

test('roomURLs: the token only in the presenter URL, never in the fork URL', () => {
  const p = roomURLs('wss://h/ws', { code: 'K7M2QX', role: 'presenter', token: 'a+b/c' });
  assert.equal(p.live, 'wss://h/ws?room=K7M2QX&token=a%2Bb%2Fc');
  assert.equal(p.fork, 'wss://h/ws?fork=K7M2QX');
  const f = roomURLs('ws://h/ws?x=1', { code: 'K7M2QX', role: 'follower', token: 'ignored' });
  assert.equal(f.live, 'ws://h/ws?room=K7M2QX');
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
