import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLesson, decodeLesson, lessonFromHash, readLessonHash } from '../../static/js/lessoncodec.js';

const lesson = {
  title: 'Café ∂L/∂w — 🐱 or 🐶?',
  network: { layers: [{ size: 1, activation: 'sigmoid' }] },
  data: { samples: [{ x: [0, 1], y: [1] }] },
};

test('round trip, with non-ASCII text', () => {
  const s = encodeLesson(lesson);
  assert.match(s, /^[A-Za-z0-9_-]+$/, 'base64url alphabet, no padding');
  assert.deepEqual(decodeLesson(s), lesson);
});

test('no padding, url-safe alphabet', () => {
  // "??>" encodes to "Pz8+" in standard base64.
  const s = encodeLesson({ a: '??>' });
  assert.ok(!s.includes('=') && !s.includes('+') && !s.includes('/'));
});

test('accepts padding and the standard alphabet', () => {
  const std = Buffer.from(JSON.stringify({ a: '??>' })).toString('base64');
  assert.deepEqual(decodeLesson(std), { a: '??>' });
});

test('from the fragment', () => {
  assert.equal(lessonFromHash(''), null);
  assert.equal(lessonFromHash('#other=1'), null);
  assert.deepEqual(lessonFromHash('#lesson=' + encodeLesson(lesson) + '&x=1'), lesson);
});

test('clear errors', () => {
  for (const [input, want] of [
    ['!!!', /not base64url/],
    ['a', /not base64url/],
    [Buffer.from('not json').toString('base64url'), /not JSON/],
    [Buffer.from('[1,2]').toString('base64url'), /not a JSON object/],
    [Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url'), /not UTF-8/],
  ]) {
    assert.throws(() => decodeLesson(input), want, input);
  }
});

test('readLessonHash says what was wrong instead of throwing', () => {
  assert.deepEqual(readLessonHash(''), { lesson: null, problem: null });
  assert.deepEqual(readLessonHash('#lesson=' + encodeLesson({ title: 'x' })), { lesson: { title: 'x' }, problem: null });
  const bad = readLessonHash('#lesson=%%%');
  assert.equal(bad.lesson, null);
  assert.ok(bad.problem instanceof Error && bad.problem.message.length > 0);
});
