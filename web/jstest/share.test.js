import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareURL, embedSnippet, settingsQuery, shareableLesson } from '../../static/js/share.js';
import { decodeLesson } from '../../static/js/lessoncodec.js';

const lesson = { name: 'xor', title: 'XOR "2"', network: { layers: [{ size: 1, activation: 'sigmoid' }] }, training: { learningRate: 0.1 } };

test('built-in lessons by name, with settings', () => {
  assert.equal(shareURL('https://n.example', { name: 'xor', custom: false, lesson }, {}), 'https://n.example/lesson/xor');
  assert.equal(shareURL('https://n.example', { name: 'xor', custom: false, lesson }, { math: true, granularity: 'micro', theme: 'dark' }), 'https://n.example/lesson/xor?math=on&granularity=micro&theme=dark');
  assert.equal(settingsQuery({ theme: 'auto', math: false }), '?math=off');
});

test('own lessons inline', () => {
  const u = shareURL('https://n.example', { name: null, custom: true, lesson }, { math: true });
  assert.match(u, /^https:\/\/n\.example\/\?math=on#lesson=[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeLesson(u.split('#lesson=')[1]), lesson);
});

test('embed snippet', () => {
  const s = embedSnippet('https://n.example', { name: 'xor', custom: false, lesson, title: 'XOR "2"' }, { math: true });
  assert.match(s, /^<iframe src="https:\/\/n\.example\/embed\?lesson=xor&amp;math=on" data-netstep /);
  assert.match(s, /title="XOR &quot;2&quot; · netstep"/);
  assert.match(s, /<script src="https:\/\/n\.example\/embed\.js" async><\/script>$/);
  const own = embedSnippet('https://n.example', { name: null, custom: true, lesson, title: 'x' }, {});
  assert.match(own, /src="https:\/\/n\.example\/embed#lesson=[A-Za-z0-9_-]+"/);
});

test('shareable lesson carries the current settings', () => {
  const s = shareableLesson(lesson, { learningRate: 0.5, batchSize: 4 });
  assert.deepEqual(s.training, { learningRate: 0.5, batchSize: 4 });
  assert.equal(s.name, undefined);
  assert.equal(lesson.training.learningRate, 0.1, 'the original is unchanged');
});
