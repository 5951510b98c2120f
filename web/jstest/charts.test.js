import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeatmap, toPixel, heatmapRGBA, lossSeries, outputHeatmap } from '../../static/js/charts.js';
import { PALETTES } from '../../static/js/colors.js';

test('decodeHeatmap reads standard base64', () => {
  assert.deepEqual([...decodeHeatmap('AH//')], [0, 127, 255]);
});

test('toPixel puts +x2 at the top', () => {
  assert.deepEqual(toPixel([-6, 6], [-6, 6], 240), { x: 0, y: 0 });
  assert.deepEqual(toPixel([6, -6], [-6, 6], 240), { x: 240, y: 240 });
  assert.deepEqual(toPixel([0, 0], [-6, 6], 240), { x: 120, y: 120 });
});

test('heatmapRGBA is opaque and diverging', () => {
  const px = heatmapRGBA(new Uint8Array([0, 255]), PALETTES.light);
  assert.equal(px.length, 8);
  assert.equal(px[3], 255);
  assert.ok(px[0] > px[2], 'low is orange');
  assert.ok(px[6] > px[4], 'high is blue');
});

test('lossSeries keeps gaps for non-finite values', () => {
  assert.deepEqual(lossSeries([{ epoch: 1, trainLoss: 0.5, testLoss: Infinity }]), [[1], [0.5], [null]]);
});

test('heatmaps come as strings or as {range, data}', () => {
  assert.equal(outputHeatmap({ output: 'AAA=' }), 'AAA=');
  assert.equal(outputHeatmap({ output: [{ range: [0, 1], data: 'BBB=' }] }), 'BBB=');
  assert.equal(outputHeatmap({}), null);
  assert.equal(outputHeatmap(null), null);
});
