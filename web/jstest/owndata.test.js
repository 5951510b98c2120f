import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCSV, tableSamples as checkTable, guessRoles, lessonFromSamples, lessonFromPoints, scaling, isClassification, lessonLimits } from '../../static/js/owndata.js';

// The limits of hello as the server sends them (docs/protocol.md).
const hello = { maxSamples: 5000, maxInputs: 64, maxOutputs: 16, maxNameChars: 60, maxValue: 1e6, maxLayers: 8 };
const tableSamples = (t, roles) => checkTable(t, roles, lessonLimits(hello));

const houses = 'size,bedrooms,price\r\n1200,2,250000\r\n\r\n2000,3,"310,000"\n1500,2,260000\n';

test('parse: header, rows with their line numbers, quotes, blank lines', () => {
  const t = parseCSV(houses);
  assert.deepEqual(t.header, ['size', 'bedrooms', 'price']);
  assert.deepEqual(t.rows.map((r) => r.line), [2, 4, 5]);
  assert.deepEqual(t.rows[1].cells, ['2000', '3', '310,000']);
  assert.deepEqual(parseCSV('a,"say ""hi""\nthere"\n1,2').rows[0], { line: 3, cells: ['1', '2'] });
  assert.throws(() => parseCSV('a,b\n1,"2\n'), /line 2: a quoted field is not closed/);
  assert.throws(() => parseCSV('\n\n'), /the CSV is empty/);
});

test('roles: the last column is the output', () => {
  assert.deepEqual(guessRoles(['a', 'b', 'c']), { inputs: ['a', 'b'], outputs: ['c'] });
});

test('validation names the line and the column', () => {
  const text = 'size,bedrooms,price\n1200,2,250000\n1300,2,260000\n1400,3,270000\n1500,3,280000\n1600,4,290000\nbig,3,300000\n1700\n1800,3,\n1900,3,1e9';
  const { samples, errors } = tableSamples(parseCSV(text), guessRoles(['size', 'bedrooms', 'price']));
  assert.deepEqual(samples, []);
  assert.deepEqual(errors, [
    'line 7: want a number in column "size", got "big"',
    'line 8: want 3 columns, got 1',
    'line 9: want a number in column "price", got ""',
    'line 10: column "price" is 1e9, beyond ±1,000,000',
  ]);
});

test('validation of the roles and header', () => {
  const t = parseCSV('a,a,\n1,2,3');
  assert.deepEqual(tableSamples(t, { inputs: [], outputs: ['b'] }).errors, [
    'line 1: two columns are called "a"',
    'line 1: column 3 has no name',
    'choose at least one input column',
    'there is no column "b"',
  ]);
  const u = parseCSV('a,b\n1,2');
  assert.deepEqual(tableSamples(u, { inputs: ['a'], outputs: ['a'] }).errors, ['column "a" cannot be an input and an output']);
  assert.deepEqual(tableSamples(parseCSV('a,b'), { inputs: ['a'], outputs: ['b'] }).errors, ['want at least one example after the header line']);
});

test('a good table becomes a lesson in real units', () => {
  const t = parseCSV('size,price\n1000,200000\n2000,300000\n3000,400000');
  const { samples, errors } = tableSamples(t, { inputs: ['size'], outputs: ['price'] });
  assert.deepEqual(errors, []);
  assert.deepEqual(samples[0], { x: [1000], y: [200000] });
  const lesson = lessonFromSamples(samples, { inputs: ['size'], outputs: ['price'] });
  assert.equal(lesson.training.loss, 'half_squared_error');
  assert.equal(lesson.network.layers[1].activation, 'linear');
  assert.deepEqual(lesson.network.inputs, ['size']);
  const sc = lesson.display.inputs[0];
  assert.equal(sc.offset, 2000);
  // Real value = network value × scale + offset, back to 1000.
  assert.ok(Math.abs(lesson.data.samples[0].x[0] * sc.scale + sc.offset - 1000) < 0.01);
  assert.ok(Math.abs(lesson.data.samples[1].x[0]) < 1e-12);
});

test('0/1 targets make a classifier', () => {
  const samples = [{ x: [1, 2], y: [0] }, { x: [3, 4], y: [1] }];
  assert.equal(isClassification(samples), true);
  const lesson = lessonFromSamples(samples, { inputs: ['a', 'b'], outputs: ['yes'], title: 'Mine' });
  assert.equal(lesson.title, 'Mine');
  assert.equal(lesson.training.loss, 'cross_entropy');
  assert.deepEqual(lesson.data.samples.map((s) => s.y), [[0], [1]]);
  assert.deepEqual(scaling([[5, 5]]), [{ offset: 5, scale: 1 }]);
});

test('clicked points', () => {
  const lesson = lessonFromPoints([{ x1: 1.23456789, x2: -2, label: 1 }, { x1: 0, x2: 0, label: 0 }]);
  assert.deepEqual(lesson.data.samples, [{ x: [1.23457, -2], y: [1] }, { x: [0, 0], y: [0] }]);
  assert.equal(lesson.network.layers[1].activation, 'sigmoid');
  assert.equal(lesson.training.batchSize, 2);
});

test('the limits are the server\'s, from hello', () => {
  const t = parseCSV('a,b,c\n1,2,3\n4,5,60');
  const small = lessonLimits({ maxSamples: 1, maxInputs: 1, maxOutputs: 1, maxNameChars: 60, maxValue: 50 });
  assert.deepEqual(checkTable(t, { inputs: ['a', 'b'], outputs: ['c'] }, small).errors, ['at most 1 input columns, got 2', 'at most 1 examples, got 2']);
  assert.deepEqual(checkTable(t, { inputs: ['a'], outputs: ['c'] }, { ...small, samples: 5 }).errors, ['line 3: column "c" is 60, beyond ±50']);
  // Before hello nothing is checked here; the server checks the lesson.
  assert.deepEqual(checkTable(t, { inputs: ['a', 'b'], outputs: ['c'] }, lessonLimits(null)).errors, []);
});
