// edgeworker.js: a worker that writes a big network's edges into pixels
// (edges.js createRaster) off the page's thread, and hands each drawing
// back as a bitmap.
//
// Messages in: {ends} once (edges.js createEdgeLayer), then {width, height,
// scale, look, flags, colors} for each drawing (edges.js pixelPainter).
// Out: {bitmap, ms}, the drawing and how long writing it took.

import { createRaster } from './edges.js';

/** @type {ReturnType<typeof createRaster>|null} */
let raster = null;

self.onmessage = async (ev) => {
  const m = ev.data;
  if (m.ends) {
    raster = createRaster(m.ends);
    return;
  }
  if (!raster) return;
  const t0 = performance.now();
  raster.size(m.width, m.height, m.scale);
  const px = raster.draw(m.look, m.flags, m.colors);
  const image = new ImageData(new Uint8ClampedArray(/** @type {ArrayBuffer} */ (px.buffer), px.byteOffset, px.byteLength), m.width, m.height);
  const bitmap = await createImageBitmap(image);
  self.postMessage({ bitmap, ms: performance.now() - t0 }, { transfer: [bitmap] });
};
