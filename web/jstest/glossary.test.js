import test from 'node:test';
import assert from 'node:assert/strict';
import { splitTerms } from '../../static/js/glossary.js';

const glossary = [
  { term: 'weight', meaning: 'how strongly one neuron listens to another' },
  { term: 'forward pass', meaning: 'inputs flowing left to right to a guess' },
  { term: 'pass', meaning: 'should lose to forward pass' },
  { term: 'loss', meaning: 'how wrong the guess was' },
];

test('terms become segments at their first appearance only', () => {
  const segs = splitTerms('Every weight moves; each weight takes a step.', glossary);
  assert.deepEqual(segs.map((s) => [s.text, s.term?.term ?? null]), [
    ['Every ', null], ['weight', 'weight'], [' moves; each weight takes a step.', null],
  ]);
});

test('plurals, capitals and longer terms first', () => {
  const segs = splitTerms('Weights change after the Forward pass. The losses fall.', glossary);
  assert.deepEqual(segs.filter((s) => s.term).map((s) => [s.text, s.term.term]), [
    ['Weights', 'weight'], ['Forward pass', 'forward pass'], ['losses', 'loss'],
  ]);
  assert.equal(segs.map((s) => s.text).join(''), 'Weights change after the Forward pass. The losses fall.');
});

test('whole words only, and no glossary means plain text', () => {
  assert.deepEqual(splitTerms('lossless weighty', glossary), [{ text: 'lossless weighty' }]);
  assert.deepEqual(splitTerms('a weight', []), [{ text: 'a weight' }]);
  assert.deepEqual(splitTerms('', glossary), []);
  assert.deepEqual(splitTerms('a (weight) [x]', [{ term: 'x]', meaning: 'odd' }, ...glossary]).filter((s) => s.term).length, 1);
});

test('glue keeps a term together with the characters touching it, and the text whole', async () => {
  const { glue } = await import('../../static/js/glossary.js');
  const words = [{ term: 'sigmoid', meaning: 'a smooth step' }, { term: 'weight', meaning: 'a number on an edge' }];
  const text = "At an output, the sigmoid's slope is a(1 − a) (times the weights).";
  const items = glue(splitTerms(text, words));
  const flat = items.flatMap((x) => ('group' in x ? x.group : [x]));
  assert.equal(flat.map((x) => x.text).join(''), text, 'no character lost or added');
  const groups = items.filter((x) => 'group' in x).map((x) => x.group.map((seg) => seg.text));
  assert.deepEqual(groups, [['sigmoid', "'s"], ['weights', ').']]);
  assert.deepEqual(glue(splitTerms('a (weight) here', words)).filter((x) => 'group' in x).map((x) => x.group.map((seg) => seg.text)), [['(', 'weight', ')']]);
  // A term between spaces needs no group.
  const lone = glue(splitTerms('one weight here', words));
  assert.deepEqual(lone.map((x) => ('group' in x ? 'group' : x.text)), ['one ', 'weight', ' here']);
});
