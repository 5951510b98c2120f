import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutNetwork, edgePath, pointOnEdge, layerSizes, placeEdgeLabels, edgeNear, curveAt, crossingBoxes } from '../../static/js/layout.js';

test('layers run left to right and stay inside the box', () => {
  for (const width of [1280, 800, 390, 320]) {
    const lay = layoutNetwork([3, 4, 4, 1], { width });
    assert.equal(lay.width, width);
    assert.equal(lay.nodes.length, 4);
    for (let l = 1; l < lay.nodes.length; l++) {
      assert.ok(lay.nodes[l][0].x > lay.nodes[l - 1][0].x, `layer ${l} is right of ${l - 1}`);
    }
    for (const layer of lay.nodes) {
      for (const n of layer) {
        assert.ok(n.x - n.r >= 0 && n.x + n.r <= lay.width, `x ${n.x} inside ${width}`);
        assert.ok(n.y - n.r >= 0 && n.y + n.r <= lay.height, `y ${n.y} inside ${lay.height}`);
      }
    }
  }
});

test('neurons in a layer do not overlap and are centred', () => {
  const lay = layoutNetwork([2, 8, 1], { width: 600 });
  const hidden = lay.nodes[1];
  for (let j = 1; j < hidden.length; j++) {
    assert.ok(hidden[j].y - hidden[j - 1].y >= 2 * hidden[j].r, 'no overlap');
  }
  const mid = (hidden[0].y + hidden[hidden.length - 1].y) / 2;
  assert.ok(Math.abs(lay.nodes[2][0].y - mid) < 0.5, 'single output is centred');
});

test('a height cap squeezes big layers instead of growing', () => {
  const lay = layoutNetwork([2, 64, 1], { width: 800, maxHeight: 600 });
  assert.ok(lay.height <= 600, `height ${lay.height}`);
  assert.ok(lay.radius >= 2.5);
});

test('a gently squeezed layer keeps a line between its rows for the blames, a dense one does not try', () => {
  // house-prices' 4 hidden neurons drawn for a projector (1.8× larger,
  // 333 units of height): the neurons shrink a little rather than lose the
  // line under them where each blame is written (draw.js crowded: rows
  // less than 2r + 20 apart).
  const lay = layoutNetwork([3, 4, 1], { width: 775, maxHeight: 333 });
  const col = lay.nodes[1];
  assert.ok(lay.height <= 333, `height ${lay.height}`);
  assert.ok(col[1].y - col[0].y >= 2 * col[0].r + 20, `rows ${col[1].y - col[0].y} apart, radius ${col[0].r}`);
  assert.ok(col[0].r >= 16, `radius ${col[0].r}`);
  // 64 neurons in 600: dots, as close as they must be.
  const dense = layoutNetwork([2, 64, 1], { width: 800, maxHeight: 600 });
  assert.ok(dense.nodes[1][1].y - dense.nodes[1][0].y < 2 * dense.radius + 20);
});

test('a side with long names takes what the other side leaves, up to 60% of the width between them', () => {
  // which-size on a phone: "body weight" wants 130 px, S, M and L 48.
  const lay = layoutNetwork([2, 4, 3], { width: 370, leftWidth: 130, rightWidth: 48 });
  assert.equal(lay.labelLeft, 130);
  assert.ok(lay.width - lay.labelRight <= 60, `right side ${lay.width - lay.labelRight}`);
  // Both sides long: each keeps its 30%.
  const both = layoutNetwork([2, 4, 3], { width: 370, leftWidth: 200, rightWidth: 200 });
  assert.equal(both.labelLeft, 111);
  assert.equal(both.width - both.labelRight, 111);
});

test('a small layer beside a squeezed one keeps its neurons as far apart as an unsqueezed layer would', () => {
  const lay = layoutNetwork([2, 64, 64, 1], { width: 1000, maxHeight: 480 });
  const gap = (l) => lay.nodes[l][1].y - lay.nodes[l][0].y;
  assert.ok(gap(1) < 8, `the 64 squeezed: ${gap(1)}`);
  const roomy = layoutNetwork([2, 2], { width: 1000 });
  assert.equal(gap(0), roomy.nodes[0][1].y - roomy.nodes[0][0].y, 'two inputs as far apart as in a small network');
  assert.ok(Math.abs((lay.nodes[0][0].y + lay.nodes[0][1].y) / 2 - lay.height / 2) < 1, 'centred');
  // A layer that cannot spread that far in the height spreads over it.
  const mid = layoutNetwork([12, 64, 1], { width: 1000, maxHeight: 480 });
  const col = mid.nodes[0];
  assert.ok(col[0].y - col[0].r >= 0 && col[11].y + col[11].r <= mid.height, 'inside the drawing');
  assert.ok(col[1].y - col[0].y > gap(1), 'wider than the squeezed layer');
});

test('phones get the compact layout', () => {
  assert.equal(layoutNetwork([2, 2], { width: 390 }).compact, true);
  assert.equal(layoutNetwork([2, 2], { width: 1000 }).compact, false);
});

test('edges start and end at the rim of the neurons', () => {
  const a = { x: 10, y: 10, r: 5 };
  const b = { x: 110, y: 50, r: 5 };
  assert.match(edgePath(a, b), /^M15 10 C.* 105 50$/);
  const s = pointOnEdge(a, b, 0);
  const e = pointOnEdge(a, b, 1);
  assert.deepEqual([s.x, s.y], [15, 10]);
  assert.deepEqual([e.x, e.y], [105, 50]);
});

test('layerSizes puts the inputs first', () => {
  assert.deepEqual(layerSizes({ inputs: ['size', 'bedrooms', 'age'], layers: [{ size: 4 }, { size: 1 }] }), [3, 4, 1]);
});

// labelsFor lists every edge of a layout with an update label and its
// short form, as the diagram asks after an update step.
function labelsFor(lay) {
  const out = [];
  for (let l = 1; l < lay.nodes.length; l++) {
    for (const b of lay.nodes[l]) for (const a of lay.nodes[l - 1]) out.push({ a, b, texts: ['0.20→0.20', '0.20'] });
  }
  return out;
}

function overlap(r, o) {
  return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1;
}

test('edge labels never collide with each other or with neurons', () => {
  // The diagram's width on a 1280×720 projector and on a 390×844 phone.
  const charPx = 6.6;
  const linePx = 11;
  for (const [name, sizes] of Object.entries({ 'worked-example': [2, 2, 2], xor: [2, 2, 1], 'cat-or-dog': [2, 1], 'house-prices': [3, 4, 1] })) {
    for (const width of [840, 600, 358]) {
      const lay = layoutNetwork(sizes, { width, maxHeight: 360 });
      const labels = labelsFor(lay);
      const placed = placeEdgeLabels(labels, { width: lay.width, height: lay.height, charPx, linePx });
      const boxes = placed.map((p) => p && { x0: p.x - (p.text.length * charPx + 4) / 2, x1: p.x + (p.text.length * charPx + 4) / 2, y0: p.y - (linePx + 2) / 2, y1: p.y + (linePx + 2) / 2 });
      for (let i = 0; i < boxes.length; i++) {
        if (!boxes[i]) continue;
        for (let k = i + 1; k < boxes.length; k++) {
          if (boxes[k]) assert.ok(!overlap(boxes[i], boxes[k]), `${name} at ${width}: labels ${i} and ${k} overlap`);
        }
        for (const layer of lay.nodes) {
          for (const n of layer) assert.ok(!overlap(boxes[i], { x0: n.x - n.r, x1: n.x + n.r, y0: n.y - n.r, y1: n.y + n.r }), `${name} at ${width}: label ${i} covers a neuron`);
        }
      }
      // Small networks keep a number on every edge, at least the new value.
      if (labels.length <= 9) assert.ok(placed.every(Boolean), `${name} at ${width}: ${placed.filter((p) => !p).length} labels found no room`);
      if (width >= 600 && labels.length <= 9) assert.ok(placed.every((p) => p.text.includes('→')), `${name} at ${width}: the whole update fits`);
    }
  }
});

test('edge labels keep clear of obstacles', () => {
  const lay = layoutNetwork([1, 1], { width: 400 });
  const [a] = lay.nodes[0];
  const [b] = lay.nodes[1];
  const mid = pointOnEdge(a, b, 0.5);
  const [p] = placeEdgeLabels([{ a, b, texts: ['0.5'] }], { width: lay.width, height: lay.height, charPx: 6.6, linePx: 11, obstacles: [{ x0: mid.x - 5, x1: mid.x + 5, y0: mid.y - 5, y1: mid.y + 5 }] });
  assert.ok(p, 'placed');
  assert.ok(Math.abs(p.x - mid.x) > 5 || Math.abs(p.y - mid.y) > 5, 'moved off the obstacle');
});

test('each side gets the room its labels ask for, within 60% of the width for both', () => {
  const even = layoutNetwork([2, 1], { width: 360 });
  assert.equal(even.labelLeft, 92);
  const asked = layoutNetwork([2, 1], { width: 360, leftWidth: 100, rightWidth: 300 });
  assert.equal(asked.labelLeft, 100);
  assert.equal(asked.width - asked.labelRight, 116, 'what the left side leaves of 60% of 360');
  assert.equal(asked.nodes[0][0].x, 100);
  assert.equal(asked.nodes[1][0].x, 360 - 116);
});

test('edgeNear finds the edge under a point on its curve, and nothing far from every edge', () => {
  const lay = layoutNetwork([2, 64, 64, 1], { width: 900, maxHeight: 500 });
  for (const [l, j, i] of [[0, 5, 1], [1, 63, 0], [1, 0, 63], [1, 31, 32], [2, 0, 17]]) {
    const a = lay.nodes[l][i];
    const b = lay.nodes[l + 1][j];
    for (const t of [0.2, 0.5, 0.8]) {
      const p = pointOnEdge(a, b, t);
      const got = edgeNear(lay, p.x, p.y, 0.5);
      // Where edges cross (the middle of a symmetric layer) any of them
      // is right: the one found passes through the point too.
      const ga = lay.nodes[got.layer][got.from];
      const gb = lay.nodes[got.layer + 1][got.to];
      const { s } = curveAt(p.x, ga.x + ga.r, gb.x - gb.r);
      assert.ok(Math.abs(ga.y + (gb.y - ga.y) * s - p.y) < 0.5, `edge ${l}/${j}/${i} at t=${t}: found ${JSON.stringify(got)}`);
      if (t !== 0.5) assert.deepEqual(got, { layer: l, to: j, from: i }, `edge ${l}/${j}/${i} at t=${t}`);
    }
  }
  // Above the drawing, and left of the inputs, no edge is near.
  assert.equal(edgeNear(lay, 450, -40, 5), null);
  assert.equal(edgeNear(lay, 2, lay.height / 2, 5), null);
});

test('edgeNear measures across a steep edge, not straight down', () => {
  const lay = layoutNetwork([2, 1], { width: 400 });
  const a = lay.nodes[0][0];
  const b = lay.nodes[1][0];
  const mid = pointOnEdge(a, b, 0.5);
  // Half a pixel off the curve in x is at most half a pixel away.
  assert.notEqual(edgeNear(lay, mid.x + 0.5, mid.y, 0.6), null);
  const { s, ds } = curveAt(mid.x, a.x + a.r, b.x - b.r);
  assert.ok(Math.abs(a.y + (b.y - a.y) * s - mid.y) < 1e-6);
  assert.ok(ds > 0);
});

test('no weight label covers a point where two edges cross', () => {
  // The worked example's 2-2 columns on a phone: i1→h2 and i2→h1 cross.
  for (const width of [358, 846]) {
    const lay = layoutNetwork([2, 2, 2], { width, leftWidth: 56, rightWidth: 56 });
    const labels = [];
    for (let l = 0; l < 2; l++) for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) labels.push({ a: lay.nodes[l][i], b: lay.nodes[l + 1][j], texts: ['0.2000→0.1996', '0.1996'] });
    const cross = crossingBoxes(labels, 11);
    assert.equal(cross.length, 2, 'one crossing between each pair of columns');
    for (const c of cross) {
      // The crossing lies on both crossing edges, half way down.
      const cy = (c.y0 + c.y1) / 2;
      assert.ok(Math.abs(cy - (lay.nodes[0][0].y + lay.nodes[0][1].y) / 2) < 0.5, `crossing at y ${cy}`);
    }
    const spots = placeEdgeLabels(labels, { width: lay.width, height: lay.height, charPx: 6.6, linePx: 11 });
    assert.ok(spots.every(Boolean), `${width}: every label placed`);
    spots.forEach((p, q) => {
      const w = p.text.length * 6.6 + 4;
      for (const c of cross) {
        const cx = (c.x0 + c.x1) / 2;
        const cy = (c.y0 + c.y1) / 2;
        assert.ok(!(Math.abs(p.x - cx) < w / 2 && Math.abs(p.y - cy) < 6.5), `${width}: label ${q} "${p.text}" at ${p.x},${p.y} covers the crossing at ${cx},${cy}`);
      }
    });
  }
  // Edges that do not cross (parallel, or sharing an end) give none.
  const lay = layoutNetwork([2, 2], { width: 400 });
  const [a0, a1] = lay.nodes[0];
  const [b0, b1] = lay.nodes[1];
  assert.deepEqual(crossingBoxes([{ a: a0, b: b0, texts: [] }, { a: a1, b: b1, texts: [] }], 11), []);
  assert.deepEqual(crossingBoxes([{ a: a0, b: b0, texts: [] }, { a: a0, b: b1, texts: [] }], 11), []);
});

test('a phone gives the network the width short names leave, and rows room to cross', () => {
  const lay = layoutNetwork([2, 2, 2], { width: 358, leftWidth: 56, rightWidth: 56 });
  assert.equal(lay.labelLeft, 56, 'short names: no 92 px default');
  const colGap = lay.nodes[1][0].x - lay.nodes[0][0].x;
  const rowGap = lay.nodes[0][1].y - lay.nodes[0][0].y;
  assert.ok(rowGap >= 0.8 * colGap - 0.5 || rowGap >= 110, `rows ${rowGap} apart for columns ${colGap} apart`);
  // Long names still get the room they ask for, and a wide screen keeps its default.
  assert.equal(layoutNetwork([2, 1], { width: 358, leftWidth: 100 }).labelLeft, 100);
  assert.equal(layoutNetwork([2, 1], { width: 900, leftWidth: 56 }).labelLeft, 140);
});
