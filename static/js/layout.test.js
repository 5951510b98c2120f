import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutNetwork, edgePath, pointOnEdge, layerSizes } from './layout.js';

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
