import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStepLog, csvField, CSV_COLUMNS } from '../../static/js/steplog.js';

const step1 = [
  { type: 'sample', epoch: 0, index: 3, x: [1, 0], y: [1] },
  { type: 'forward', layer: 0, neuron: 0, z: 0.35, a: 0.5866 },
  { type: 'loss', index: 3, value: 0.08, prediction: [0.5866], target: [1] },
];
const step2 = [{ type: 'update', layer: 0, to: 0, bias: true, old: 0.1, grad: -0.2, new: 0.12, batch: 1 }];

test('JSON lines are the events as received', () => {
  const log = createStepLog();
  log.add(step1);
  log.add([]);
  log.add(step2);
  const lines = log.toJSONLines().trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [...step1, ...step2]);
  log.clear();
  assert.equal(log.toJSONLines(), '');
});

test('CSV: a header, one row per event, step numbers, arrays as JSON', () => {
  const log = createStepLog();
  log.add(step1);
  log.add(step2);
  const rows = log.toCSV().trimEnd().split('\r\n');
  assert.equal(rows[0], CSV_COLUMNS.join(','));
  assert.equal(rows.length, 5);
  const col = (row, name) => row.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)[CSV_COLUMNS.indexOf(name)];
  assert.equal(col(rows[1], 'step'), '1');
  assert.equal(col(rows[1], 'x'), '"[1,0]"');
  assert.equal(col(rows[2], 'a'), '0.5866');
  assert.equal(col(rows[4], 'step'), '2');
  assert.equal(col(rows[4], 'bias'), 'true');
  assert.equal(col(rows[4], 'from'), '');
});

test('csv fields', () => {
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(-0.5), '-0.5');
  assert.equal(csvField('a "b", c'), '"a ""b"", c"');
  assert.equal(csvField('x\ny'), '"x\ny"');
});

test('the log is bounded', () => {
  const log = createStepLog(3);
  log.add(step1);
  log.add(step2);
  assert.equal(log.size(), 3);
  assert.equal(JSON.parse(log.toJSONLines().split('\n')[0]).type, 'forward');
});
