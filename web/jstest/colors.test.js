import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PALETTES, contrast, dashFor, edgeWidth, heatColor, signColor, luminance, nodeTint } from '../../static/js/colors.js';

test('edge colours keep 3:1 contrast on their theme background and surface', () => {
  for (const [name, p] of Object.entries(PALETTES)) {
    for (const role of ['positive', 'negative', 'backward', 'forward', 'neutral']) {
      for (const bg of ['background', 'surface']) {
        const c = contrast(p[role], p[bg]);
        assert.ok(c >= 3, `${name}: ${role} ${p[role]} on ${bg} ${p[bg]} has contrast ${c.toFixed(2)}`);
      }
    }
  }
});

test('text keeps 4.5:1 contrast', () => {
  for (const [name, p] of Object.entries(PALETTES)) {
    for (const role of ['text', 'muted']) {
      const c = contrast(p[role], p.background);
      assert.ok(c >= 4.5, `${name}: ${role} has contrast ${c.toFixed(2)}`);
    }
  }
});

test('projector theme is high contrast', () => {
  const p = PALETTES.projector;
  assert.ok(contrast(p.text, p.background) >= 15);
  assert.ok(contrast(p.positive, p.background) >= 7);
  assert.ok(contrast(p.negative, p.background) >= 5);
});

test('positive and negative differ in lightness too, not only hue', () => {
  // A grey-scale printout or full colour blindness still leaves the dash; this
  // only checks that the two are not the same colour.
  for (const p of Object.values(PALETTES)) {
    assert.notEqual(p.positive, p.negative);
  }
});

test('contrast is the WCAG ratio', () => {
  assert.equal(Math.round(contrast('#000000', '#ffffff')), 21);
  assert.equal(contrast('#777777', '#777777'), 1);
  assert.equal(luminance('#ffffff'), 1);
});

test('sign is shown by dash as well as colour', () => {
  assert.equal(dashFor(0.5), 'none');
  assert.notEqual(dashFor(-0.5), 'none');
  assert.notEqual(dashFor(0), dashFor(-1));
  const p = PALETTES.light;
  assert.equal(signColor(1, p), p.positive);
  assert.equal(signColor(-1, p), p.negative);
  assert.equal(signColor(0, p), p.neutral);
});

test('edge width grows with magnitude and is bounded', () => {
  assert.ok(edgeWidth(0, 1) >= 1);
  assert.ok(edgeWidth(0.1, 1) < edgeWidth(0.5, 1));
  assert.equal(edgeWidth(-2, 2), edgeWidth(2, 2));
  assert.ok(edgeWidth(100, 1) <= 7);
  assert.ok(edgeWidth(1, 0) <= 7);
});

test('heatColor runs from negative through surface to positive', () => {
  const p = PALETTES.light;
  assert.deepEqual(heatColor(0.5, p), [255, 255, 255]);
  const lo = heatColor(0, p);
  const hi = heatColor(1, p);
  assert.ok(lo[0] > lo[2], 'low end is orange (more red than blue)');
  assert.ok(hi[2] > hi[0], 'high end is blue');
  assert.deepEqual(heatColor(-3, p), heatColor(0, p));
});

test('nodeTint is the colour of the sign over the neuron fill, up to 28%, and that fill is the style sheet one', () => {
  const p = PALETTES.light;
  assert.equal(nodeTint(0.0001, p), '#ffffff', 'nothing of the colour at a value near 0');
  // 28% of #1f63a8 over white: 255 + (31 − 255)·0.28 = 192.3, 211.3, 230.6.
  assert.equal(nodeTint(3, p), '#c0d3e7');
  assert.equal(nodeTint(-1, p), nodeTint(-7, p), 'no stronger past 1');
  assert.notEqual(nodeTint(-0.5, p), nodeTint(0.5, p));
  assert.equal(nodeTint(0.5, p), nodeTint(0.5, p));
  const css = readFileSync(new URL('../../static/css/netstep.css', import.meta.url), 'utf8');
  for (const theme of ['light', 'dark', 'projector']) {
    const block = css.match(new RegExp(`\\[data-theme="${theme}"\\][^{]*\\{([^}]*)\\}`))?.[1] ?? '';
    assert.equal(block.match(/--node-fill:\s*(#[0-9a-f]{6})/)?.[1], PALETTES[theme].nodeFill, theme);
  }
});
