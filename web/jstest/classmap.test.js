import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundaryLabel, CLASS_COLORS, FAINTEST, STRONGEST, certainty, classColors, classLetters, classMapRGBA, classNames, classOf, mapLabel, mapPanels, regionShares, textOn } from '../../static/js/classmap.js';
import { addedText } from '../../static/js/addpoints.js';
import { PALETTES, contrast, hexToRgb, mix } from '../../static/js/colors.js';

// Colour-blindness simulation (Machado, Oliveira and Fernandes 2009, full
// severity) on linear RGB, and the CIE76 distance in CIELAB.
const CVD = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protan: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deutan: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritan: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
};
const linear = (c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
function lab([r, g, b]) {
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
function seenAs(rgb, kind) {
  const l = rgb.map(linear);
  return CVD[kind].map((row) => Math.min(1, Math.max(0, row[0] * l[0] + row[1] * l[1] + row[2] * l[2])));
}
const distance = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));

test('the three class colours of every theme stay apart for normal vision and the three colour blindnesses', () => {
  for (const [theme, colors] of Object.entries(CLASS_COLORS)) {
    assert.equal(new Set(colors).size, 3, theme);
    for (const kind of Object.keys(CVD)) {
      for (let i = 0; i < 3; i++) {
        for (let j = i + 1; j < 3; j++) {
          // Full colours (the marks) and the regions' strongest tint.
          for (const [what, f] of [['mark', (c) => hexToRgb(c)], ['region', (c) => mix(PALETTES[theme].surface, c, STRONGEST)]]) {
            const d = distance(lab(seenAs(f(colors[i]), kind)), lab(seenAs(f(colors[j]), kind)));
            assert.ok(d >= 20, `${theme} ${kind} ${what}: ${colors[i]} and ${colors[j]} are only ${d.toFixed(1)} apart`);
          }
        }
      }
    }
  }
});

test('classColors follows the palette and repeats beyond three classes', () => {
  assert.deepEqual(classColors(PALETTES.dark, 3), CLASS_COLORS.dark);
  assert.deepEqual(classColors(PALETTES.projector, 2), CLASS_COLORS.projector.slice(0, 2));
  assert.equal(classColors(PALETTES.light, 5)[3], CLASS_COLORS.light[0]);
});

test('a letter on a class colour reads: text or surface, whichever contrasts more', () => {
  for (const [theme, colors] of Object.entries(CLASS_COLORS)) {
    for (const c of colors) assert.ok(contrast(c, textOn(c, PALETTES[theme])) >= 3, `${theme} ${c}`);
  }
});

test('classMapRGBA colours each cell by its winner, fainter where the network is less sure', () => {
  const colors = CLASS_COLORS.light;
  const surface = PALETTES.light.surface;
  // Cells: S sure, M sure, L sure, S at an even three-way split, M half sure.
  const winner = new Uint8Array([0, 1, 2, 0, 1]);
  const share = new Uint8Array([255, 255, 255, 85, 170]);
  const px = classMapRGBA(winner, share, colors, surface);
  const cell = (i) => [...px.slice(i * 4, i * 4 + 3)];
  for (let i = 0; i < 3; i++) assert.deepEqual(cell(i), mix(surface, colors[i], STRONGEST), `class ${i} when sure`);
  assert.deepEqual(cell(3), mix(surface, colors[0], FAINTEST), 'an even split is the faintest');
  const far = (c) => distance(c, hexToRgb(surface));
  assert.ok(far(cell(4)) < far(cell(1)) && far(cell(4)) > far(mix(surface, colors[1], FAINTEST)), 'half sure is in between');
  assert.equal(px[3], 255);
});

test('certainty runs from an even split (0) to a sure pick (1)', () => {
  assert.equal(certainty(255, 3), 1);
  assert.equal(certainty(0, 3), 0);
  assert.ok(Math.abs(certainty(85, 3)) < 0.01);
  assert.ok(Math.abs(certainty(128, 2) - 0.0039) < 0.001);
});

test('classLetters: short output names, else first letters, else numbers', () => {
  assert.deepEqual(classLetters(['S', 'M', 'L'], ['size S', 'size M', 'size L']), ['S', 'M', 'L']);
  assert.deepEqual(classLetters(['first', 'second'], ['cat', 'dog']), ['C', 'D']);
  assert.deepEqual(classLetters(['a1', 'a2'], ['small', 'smaller']), ['a1', 'a2']);
  assert.deepEqual(classLetters(['one', 'two', 'three'], ['small', 'smaller', 'big']), ['1', '2', '3']);
});

const whichSize = {
  network: { inputs: ['height', 'weight'], outputs: ['S', 'M', 'L'], layers: [{ size: 4, activation: 'tanh' }, { size: 3, activation: 'softmax' }] },
  lesson: { display: { outputs: [{ classes: ['size S', 'size M', 'size L'] }, {}, {}] } },
};

test('classNames are the lesson\'s classes when it names one per output', () => {
  assert.deepEqual(classNames(whichSize), ['size S', 'size M', 'size L']);
  assert.deepEqual(classNames({ network: { outputs: ['a', 'b'] }, lesson: { display: { outputs: [{ classes: ['x'] }] } } }), ['a', 'b']);
});

test('classOf, regionShares and mapLabel say what the map shows', () => {
  assert.equal(classOf([0, 0, 1]), 2);
  assert.equal(classOf([1, 0, 0]), 0);
  assert.equal(classOf(1), 1);
  assert.deepEqual(regionShares(new Uint8Array([0, 2, 2, 1]), 3), [0.25, 0.25, 0.5]);
  const label = mapLabel(['size S', 'size M', 'size L'], [0.25, 0.25, 0.5], [13, 8, 9], [-2, 3]);
  assert.match(label, /picks size S on 25%, size M on 25%, size L on 50% of it/);
  assert.match(label, /Training examples: 13 size S, 8 size M, 9 size L\./);
});

test('mapPanels: a class map names the classes, a two-class lesson its two, others keep the defaults', () => {
  const many = mapPanels(whichSize);
  assert.match(many.caption, /class the network picks at each point/);
  assert.match(many.caption, /Across: height; up: weight\./);
  assert.deepEqual(many.choices, [
    { value: '0', label: 'size S (S)' },
    { value: '1', label: 'size M (M)' },
    { value: '2', label: 'size L (L)' },
  ]);
  const two = mapPanels({
    network: { inputs: ['ear pointiness', 'snout length'], outputs: ['dog?'], layers: [{ size: 1, activation: 'sigmoid' }] },
    lesson: { display: { outputs: [{ classes: ['cat', 'dog'] }] } },
  });
  assert.match(two.caption, /blue for dog, orange for cat\. Circles: dog; squares: cat/);
  assert.deepEqual(two.choices.map((c) => c.label), ['dog (circle)', 'cat (square)']);
  assert.equal(mapPanels({ network: { inputs: ['x1', 'x2'], outputs: ['y'], layers: [{ size: 1, activation: 'sigmoid' }] }, lesson: {} }), null);
});

test('addedText counts the added points by class', () => {
  const names = { 0: 'size S (S)', 1: 'size M (M)', 2: 'size L (L)' };
  assert.equal(addedText([], (v) => names[v]), '');
  assert.equal(addedText([{ x1: 0, x2: 0, label: 2 }], (v) => names[v]), 'Added 1 size L (L) point, drawn with a ring. Train to use them.');
  const three = [2, 0, 2].map((label) => ({ x1: 0, x2: 0, label }));
  assert.equal(addedText(three, (v) => names[v]), 'Added 2 size L (L) and 1 size S (S) points, drawn with a ring. Train to use them.');
});

test('boundaryLabel names a two-class lesson\'s classes and axes', () => {
  const dogs = { network: { inputs: ['ear pointiness', 'snout length'] }, lesson: { display: { outputs: [{ classes: ['cat', 'dog'] }] } } };
  assert.equal(boundaryLabel(dogs, [-3, 3], 7, 9), 'Decision boundary over the plane from -3 to 3 (across: ear pointiness; up: snout length), with 7 dog points and 9 cat points.');
  assert.equal(boundaryLabel({ network: { inputs: ['x1', 'x2'] } }, [-6, 6], 2, 3), 'Decision boundary over the plane from -6 to 6 (across: x1; up: x2), with 2 points of class 1 and 3 of class 0.');
});
