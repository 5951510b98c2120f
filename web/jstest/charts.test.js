import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeatmap, toPixel, heatmapRGBA, lossSeries, outputHeatmap, redrawWait, HEAT_EVERY_MS } from '../../static/js/charts.js';
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

test('heatmapRGBA fills the array it is given, the same as a new one', () => {
  const bytes = new Uint8Array([0, 100, 255, 7]);
  const out = new Uint8ClampedArray(16).fill(9);
  const got = heatmapRGBA(bytes, PALETTES.light, out);
  assert.equal(got, out, 'no new array');
  assert.deepEqual([...out], [...heatmapRGBA(bytes, PALETTES.light)]);
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

test('the loss axis turns logarithmic when the losses span more than 100 times', async () => {
  const { wantsLog, hasTest } = await import('../../static/js/charts.js');
  const pts = (vs) => vs.map((v, i) => ({ epoch: i, trainLoss: v, testLoss: null }));
  assert.equal(wantsLog(pts([0.5, 0.1, 0.02])), false);
  assert.equal(wantsLog(pts([0.5, 0.1, 0.004])), true);
  assert.equal(wantsLog(pts([0.3, 40])), true, 'a divergence climbs on a log axis');
  assert.equal(wantsLog(pts([0.5, NaN, Infinity, 0])), false, 'only finite positive losses count');
  assert.equal(hasTest(pts([0.5, 0.4])), false);
  assert.equal(hasTest([{ epoch: 0, trainLoss: 1, testLoss: 1.2 }]), true);
});

test('tick labels tell neighbouring ticks apart and epochs are whole', async () => {
  const { lossTicks, epochTicks, axisWidth, EPOCH_STEPS } = await import('../../static/js/charts.js');
  assert.deepEqual(lossTicks([0.2775, 0.278, 0.2785], 0.0005, false), ['0.2775', '0.2780', '0.2785']);
  assert.deepEqual(lossTicks([0, 0.5, 1, 1.5], 0.5, false), ['0.0', '0.5', '1.0', '1.5']);
  assert.deepEqual(lossTicks([0.001, 0.01, 0.1, 1], undefined, true), ['0.001', '0.01', '0.1', '1']);
  assert.deepEqual(epochTicks([0, 1, 1.5, 2000]), ['0', '1', '', '2,000']);
  assert.ok(EPOCH_STEPS.every(Number.isInteger));
  assert.ok(axisWidth(['0.00800']) >= 7 * 7, 'room for every digit of 0.00800');
});

test('redrawWait: during Play a chart waits its turn; paused or first, it draws now', () => {
  assert.equal(redrawWait(1000, 1100, HEAT_EVERY_MS, true), HEAT_EVERY_MS - 100);
  assert.equal(redrawWait(1000, 1000 + HEAT_EVERY_MS, HEAT_EVERY_MS, true), 0);
  assert.equal(redrawWait(1000, 5000, HEAT_EVERY_MS, true), 0, 'long ago');
  assert.equal(redrawWait(1000, 1100, HEAT_EVERY_MS, false), 0, 'a step or a pause draws at once');
  assert.equal(redrawWait(0, 50, HEAT_EVERY_MS, true), 0, 'never drawn');
});
