import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketEdges, lookOf, looks, lookOrder, widthOrder, mixedOrder, widthSteps, curveTable, rasterEdge, edgeRuns, fillRuns, transpose, rgba32, createRaster, CHANGED, BLAME, BIG_EDGES } from '../../static/js/edges.js';

test('widths are told apart to a tenth of a pixel, or a half past BIG_EDGES edges', () => {
  assert.equal(widthSteps(145), 10);
  assert.equal(widthSteps(BIG_EDGES + 1), 2);
  assert.notEqual(lookOf(0.5, 2.1, 10), lookOf(0.5, 2.2, 10));
  assert.equal(lookOf(0.5, 2.1, 2), lookOf(0.5, 2.2, 2));
  // Sign is part of the look; widths outside 1..7 are clamped, never out of range.
  assert.notEqual(lookOf(0.5, 3, 10), lookOf(-0.5, 3, 10));
  assert.notEqual(lookOf(0, 3, 10), lookOf(-0.5, 3, 10));
  assert.equal(lookOf(1, 99, 10), lookOf(1, 7, 10));
  assert.ok(lookOf(-1, -5, 2) >= 0 && lookOf(0, 99, 2) < looks(2));
  // Ordered by width whatever the sign: thin edges are drawn under thick ones.
  assert.ok(lookOf(-0.5, 2, 10) < lookOf(0.5, 3, 10));
  assert.ok(lookOf(0.5, 2, 10) < lookOf(-0.5, 3, 10));
});

test('bucketEdges orders the edges by look, each edge once, reusing its arrays', () => {
  const steps = 10;
  const weights = [0.3, -0.2, 0.3, 0, -0.9, 0.31, 0.3];
  const widths = [2, 1.5, 2, 1, 6.5, 2.1, 2];
  const look = new Uint16Array(weights.map((w, e) => lookOf(w, widths[e], steps)));
  const starts = new Uint32Array(looks(steps) + 1);
  const next = new Uint32Array(looks(steps));
  const order = new Uint32Array(weights.length);
  for (let round = 0; round < 2; round++) {
    bucketEdges(look, weights.length, starts, next, order);
    assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4, 5, 6]);
    for (let q = 1; q < order.length; q++) assert.ok(look[order[q - 1]] <= look[order[q]], 'sorted by look');
    // The three edges of weight 0.3 and width 2 are one bucket.
    const k = look[0];
    assert.deepEqual([...order.subarray(starts[k], starts[k + 1])], [0, 2, 6]);
    assert.equal(starts[starts.length - 1], weights.length);
  }
});

test('curveTable follows the curve from its start to its end', () => {
  const { s, ds } = curveTable(100, 300);
  assert.equal(s.length, 200);
  assert.ok(s[0] < 0.01 && s[199] > 0.99, 'from one neuron to the other');
  assert.ok(Math.abs(s[100] - 0.5) < 0.02, 'half way down half way across');
  for (let x = 1; x < s.length; x++) assert.ok(s[x] >= s[x - 1], 'never back up');
  assert.ok(ds[100] > ds[5], 'steepest in the middle');
});

test('rasterEdge draws an edge as thick as asked, with gaps when dashed, inside the pixels', () => {
  const w = 60;
  const h = 40;
  const px = new Uint32Array(w * h);
  const table = curveTable(10, 50);
  rasterEdge(px, w, h, 10, 20, 20, table, 3, 7, 1, 0);
  // A flat edge: columns 10 to 49 of rows 19..21 (3 pixels), nothing else.
  // Pixels are stored a column after the other.
  const lit = (x) => [...Array(h).keys()].filter((y) => px[x * h + y] === 7);
  assert.deepEqual(lit(30), [19, 20, 21]);
  assert.deepEqual(lit(9), []);
  assert.deepEqual(lit(50), []);
  px.fill(0);
  rasterEdge(px, w, h, 10, 20, 20, table, 1, 7, 7, 4);
  assert.equal(lit(10 + 3).length, 1, 'in a dash');
  // Dashes are counted in pairs of columns: 7 pairs on, 4 off.
  assert.equal(lit(10 + 2 * 8).length, 0, 'in a gap');
  assert.equal(lit(10 + 2 * 11).length, 1, 'in the next dash');
  // Off the canvas: clipped, never written out of bounds.
  px.fill(0);
  rasterEdge(px, w, h, -20, -50, 90, curveTable(-20, 80), 5, 7, 1, 0);
  assert.equal(px.length, w * h);
  assert.ok(px.some((v) => v === 7));
  // Above the canvas altogether: nothing written on its top row.
  px.fill(0);
  rasterEdge(px, w, h, 10, -30, -30, table, 3, 7, 1, 0);
  assert.ok(px.every((v) => v === 0));
});

test('rasterEdge works the curve out every other column: each pair of columns one run, every column lit', () => {
  const w = 60;
  const h = 40;
  const px = new Uint32Array(w * h);
  const table = curveTable(10, 51);
  rasterEdge(px, w, h, 10, 5, 35, table, 2, 7, 1, 0);
  const col = (x) => [...Array(h).keys()].filter((y) => px[x * h + y] === 7);
  for (let x = 10; x < 51; x++) {
    assert.ok(col(x).length > 0, `column ${x} lit`);
    if ((x - 10) % 2 === 1) assert.deepEqual(col(x), col(x - 1), `column ${x} is its pair's`);
  }
  // The runs go down with the curve, and the steep middle's runs are taller.
  assert.ok(col(10)[0] < col(30)[0] && col(30)[0] < col(50)[0]);
  assert.ok(col(30).length > col(10).length);
  assert.ok(px.slice(51 * h).every((v) => v === 0), 'nothing past the end');
});

test('runs kept from edgeRuns draw what rasterEdge draws, dashes and clipping too', () => {
  const w = 60;
  const h = 40;
  const table = curveTable(-6, 70);
  const want = new Uint32Array(w * h);
  rasterEdge(want, w, h, -6, 2, 39, table, 3, 9, 3, 2, 5);
  const runs = new Uint16Array(4 + 2 * Math.ceil(table.s.length / 2));
  edgeRuns(runs, 4, 2, 39, table, 3, h);
  const got = new Uint32Array(w * h);
  fillRuns(got, w, h, -6, table.s.length, runs, 4, 9, 3, 2, 5);
  assert.deepEqual(got, want);
  assert.ok(got.some((v) => v === 9));
  // A run never leaves the canvas's rows.
  for (let q = 4; q < runs.length; q += 2) assert.ok(runs[q] <= runs[q + 1] && runs[q + 1] <= h);
});

test('transpose turns columns into rows', () => {
  const w = 70;
  const h = 45;
  const cols = new Uint32Array(w * h);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) cols[x * h + y] = x * 1000 + y;
  const rows = new Uint32Array(w * h);
  transpose(cols, rows, w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) assert.equal(rows[y * w + x], x * 1000 + y);
});

test('rgba32 puts red in the low byte and full alpha in the top one', () => {
  assert.equal(rgba32([0x11, 0x22, 0x33]), 0xff332211);
});

test('createRaster draws thin under thick, glows under their look, bands under all, and keeps runs only while widths stay', () => {
  // Two edges crossing in the middle of an 80 × 60 canvas, a third apart.
  const ends = new Float32Array([10, 10, 70, 50, 10, 50, 70, 10, 10, 30, 70, 30]);
  const steps = widthSteps(3);
  const colors = { blame: 1, selected: 2, glow: 3, kinds: [10, 11, 12] };
  const look = new Uint16Array([lookOf(1, 4, steps), lookOf(1, 1, steps), lookOf(0, 1, steps)]);
  const flags = new Uint8Array(3);
  const r = createRaster(ends);
  r.size(80, 60, 1);
  const at = (px, x, y) => px[y * 80 + x];
  let px = r.draw(look, flags, colors).slice();
  // The crossing (40, 30): the wide edge 0 is drawn last, over the thin one
  // and the zero-weight edge 2 (dotted, drawn before both).
  assert.equal(at(px, 40, 30), 10);
  assert.ok(px.includes(12), 'the zero edge is drawn');
  // Edge 1 made the widest: now it lies on top of edge 0 where they
  // cross (dashed: in its dashes), and its old runs are gone.
  const near = (p, c) => {
    let k = 0;
    for (let y = 24; y <= 36; y++) for (let x = 34; x <= 46; x++) if (at(p, x, y) === c) k++;
    return k;
  };
  const thin = px;
  look[1] = lookOf(-1, 7, steps);
  px = r.draw(look, flags, colors).slice();
  assert.ok(near(px, 11) > near(thin, 11), 'edge 1 wider');
  assert.ok(near(px, 10) < near(thin, 10), 'over edge 0');
  const fresh = createRaster(ends);
  fresh.size(80, 60, 1);
  assert.deepEqual(px, fresh.draw(look, flags, colors), 'kept runs draw what fresh ones draw');
  // A glow shows around its edge; a blame band under everything.
  flags[2] = CHANGED | BLAME;
  px = r.draw(look, flags, colors).slice();
  assert.ok(px.includes(3), 'the glow');
  assert.ok(px.includes(1), 'the band');
  assert.notEqual(at(px, 40, 30), 1, 'the band under the edges');
});

test('neither sign is always drawn on top: the raster mixes the signs of one width, the strokes take them in turn', () => {
  // Two edges on the same line, as wide as each other: the one drawn last
  // is the one seen. Drawing every negative weight after every positive
  // one of its width made a big network's hidden layers look all negative.
  const ends = new Float32Array([10, 30, 70, 30, 10, 30, 70, 30]);
  const steps = widthSteps(2);
  const colors = { blame: 1, selected: 2, glow: 3, kinds: [10, 11, 12] };
  const flags = new Uint8Array(2);
  const r = createRaster(ends);
  r.size(80, 60, 1);
  // How many pixels of each sign's colour show (a negative edge is dashed).
  const shown = (look) => {
    const px = r.draw(look, flags, colors);
    return [10, 11].map((c) => px.filter((p) => p === c).length);
  };
  const [posUnder, negOver] = shown(new Uint16Array([lookOf(1, 3, steps), lookOf(-1, 3, steps)]));
  assert.ok(negOver > posUnder && posUnder > 0, `negative last: ${negOver} negative pixels over ${posUnder} positive ones in its gaps`);
  assert.deepEqual(shown(new Uint16Array([lookOf(-1, 3, steps), lookOf(1, 3, steps)]))[1], 0, 'positive last: no negative pixel shows');
  // Still thin under thick, whatever the signs.
  assert.deepEqual(shown(new Uint16Array([lookOf(1, 5, steps), lookOf(-1, 3, steps)]))[1], 0, 'the wider positive on top');

  const order = widthOrder(4, steps);
  const seen = [];
  order.each(new Uint16Array([lookOf(1, 2, steps), lookOf(-1, 2, steps), lookOf(1, 2, steps), lookOf(-1, 1, steps)]), (px, a, b) => seen.push([px, ...order.order.subarray(a, b)]));
  assert.deepEqual([...mixedOrder(4)], [0, 3, 2, 1]);
  assert.deepEqual(seen, [[1, 3], [2, 0, 2, 1]], 'by width, then in the mixed order');
  for (const n of [1, 2, 145, 8384]) {
    const m = mixedOrder(n);
    assert.equal(new Set(m).size, n, `mixedOrder(${n}) has every edge once`);
    if (n > 100) assert.ok(Math.abs(m[1] - m[0]) > n / 4, 'hops across the network');
  }

  // Strokes: a path a look, so a width's signs in turn, alternating.
  const strokes = lookOrder(4, 10);
  const kinds = [];
  strokes.each(new Uint16Array([lookOf(1, 2, 10), lookOf(-1, 2, 10), lookOf(1, 2.1, 10), lookOf(-1, 2.1, 10)]), (kind, px) => kinds.push([kind, px]));
  assert.deepEqual(kinds, [[0, 2], [1, 2], [1, 2.1], [0, 2.1]], 'thin first; the next width starts with the other sign');
});
