import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, fmtSigned, changeDecimals, displayValue, displayAmount, percent, ordinal, MINUS } from '../../static/js/format.js';

test('fmt', () => {
  const cases = [
    [0.74, '0.74'],
    [0.0812, '0.08'],
    [-0.5, MINUS + '0.50'],
    [0, '0.00'],
    [0.0012, '0.00120'],
    [0.00999, '0.00999'],
    [0.004, '0.00400'],
    [-0.00000123, MINUS + '1.23×10⁻⁶'],
    [0.0000456, '4.56×10⁻⁵'],
    [123.456, '123.46'],
    [25000, '25,000'],
    [null, '–'],
    [NaN, '–'],
    [Infinity, '∞'],
  ];
  for (const [v, want] of cases) assert.equal(fmt(v), want, `fmt(${v})`);
  assert.equal(fmt(0.12345, 3), '0.123');
  assert.equal(fmt(-0.001, 2), MINUS + '0.00100');
  assert.equal(fmt(0.00005, 4), '5.00×10⁻⁵');
});

test('a number that is not zero never reads as zero', () => {
  for (const v of [1e-12, 3e-7, 0.000049, 0.0049, 0.005, 0.0099, -0.004]) {
    for (const d of [2, 3, 4]) assert.ok(/[1-9]/.test(fmt(v, d)), `fmt(${v}, ${d}) = ${fmt(v, d)}`);
  }
  assert.ok(/[1-9]/.test(displayAmount(0.004, { prefix: '$', decimals: 0 })), displayAmount(0.004, { prefix: '$', decimals: 0 }));
});

test('changeDecimals shows a small change', () => {
  assert.equal(changeDecimals(0.5, 0.4), 2);
  assert.equal(changeDecimals(0.2134, 0.2138), 3);
  assert.equal(changeDecimals(0.21341, 0.21344), 5);
  assert.equal(changeDecimals(0.3, 0.3), 2);
  assert.equal(fmt(0.2134, changeDecimals(0.2134, 0.2138)), '0.213');
});

test('fmtSigned shows the direction of a change', () => {
  assert.equal(fmtSigned(0.02), '+0.02');
  assert.equal(fmtSigned(-0.02), MINUS + '0.02');
  assert.equal(fmtSigned(0), '0.00');
  assert.equal(fmtSigned(0.001), '+0.00100');
});

test('displayValue uses the lesson units', () => {
  const dollars = { prefix: '$', unit: '', scale: 100000, offset: 0, decimals: 0 };
  assert.equal(displayValue(2.5, dollars), '$250,000');
  assert.equal(displayValue(-0.5, dollars), MINUS + '$50,000');
  assert.equal(displayValue(1.2, { unit: 'm²', scale: 100, decimals: 0 }), '120 m²');
  assert.equal(displayValue(3, { unit: 'bedrooms', scale: 1, decimals: 0 }), '3 bedrooms');
  assert.equal(displayValue(0.5, { unit: '°C', scale: 10, offset: 20, decimals: 1 }), '25.0°C');
  assert.equal(displayValue(0.123, undefined), '0.12');
  assert.equal(displayValue(0.123, {}), '0.12');
  assert.equal(displayAmount(50000, dollars), '$50,000');
});

test('percent', () => {
  assert.equal(percent(0.6), '60%');
  assert.equal(percent(0.999), 'over 99%');
  assert.equal(percent(0.001), 'under 1%');
  assert.equal(percent(1), '100%');
});

test('ordinal', () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal), ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st']);
});

test('huge numbers are written short, so a diverging network stays readable', () => {
  assert.equal(fmt(1.6433212169149882e34), '1.64×10³⁴');
  assert.equal(fmt(-2.5e12), '\u22122.50×10¹²');
  assert.equal(fmt(123456789), '123,456,789');
  assert.equal(displayAmount(1.6433e16, { prefix: '$', decimals: 0 }), '$1.64×10¹⁶');
  assert.equal(displayAmount(250000, { prefix: '$', decimals: 0 }), '$250,000');
});

test('real amounts fit a neuron, plain values keep their power of ten apart', async () => {
  const { shortAmount, fitValue, hasUnits, scaleSentence } = await import('../../static/js/format.js');
  const price = { prefix: '$', scale: 100000, offset: 300000, decimals: 0 };
  assert.equal(shortAmount(230728, price), '$231k');
  assert.equal(shortAmount(1234, price), '$1.2k');
  assert.equal(shortAmount(1.5e6, price), '$1.5M');
  assert.equal(shortAmount(-54413, price), '\u2212$54k');
  assert.equal(shortAmount(2.5, { unit: 'out of 10', decimals: 1 }), '2.5');
  assert.deepEqual(fitValue(-0.69, 5), { inside: '\u22120.69', outside: '' });
  assert.deepEqual(fitValue(0.000106, 5), { inside: '1.06', outside: '×10⁻⁴' });
  assert.deepEqual(fitValue(2.9e154, 5), { inside: '2.90', outside: '×10¹⁵⁴' });
  assert.deepEqual(fitValue(-4.37e-6, 4), { inside: '\u22124.4', outside: '×10⁻⁶' });
  // Small everyday values stay plain numbers rather than powers of ten.
  assert.deepEqual(fitValue(-0.1712, 4), { inside: '\u22120.17', outside: '' });
  assert.deepEqual(fitValue(-0.0634, 4), { inside: '\u22120.06', outside: '' });
  assert.deepEqual(fitValue(1234.5, 3), { inside: '1200', outside: '' });
  assert.equal(hasUnits(price), true);
  assert.equal(hasUnits({ decimals: 2, classes: ['cat', 'dog'] }), false);
  assert.equal(hasUnits({ scale: 1, offset: 0, decimals: 2 }), false);
  assert.equal(
    scaleSentence({ inputs: [{ unit: 'bedrooms', scale: 1, offset: 3, decimals: 0 }], outputs: [price] }, ['bedrooms'], ['price']),
    'Numbers are shown in real units. The network itself sees each one rescaled: price in units of $100,000 around $300,000; bedrooms as the difference from 3 bedrooms. The table and the inspector show both.',
  );
  assert.equal(scaleSentence(undefined, ['x1'], ['y']), '');
  // A scale that is not whole keeps its decimals (1.2 bedrooms, never "1 bedrooms").
  assert.match(scaleSentence({ inputs: [{ unit: 'bedrooms', scale: 1.2, offset: 3, decimals: 0 }], outputs: [] }, ['bedrooms'], []), /units of 1\.2 bedrooms around 3 bedrooms/);
});

test('productWords writes two factors and their product so that they check', async () => {
  const { productWords } = await import('../../static/js/format.js');
  // Two decimals when they already agree (the usual case keeps its words).
  assert.deepEqual(productWords(0.741365, 0.186816, 0.138499), ['0.74', '0.19', '0.14']);
  // cat-or-dog's first blame: 12.59 × 0.07 would read as 0.88.
  assert.deepEqual(productWords(12.588, 0.07312, 0.92046), ['12.6', '0.0731', '0.92']);
  const [a, b, c] = productWords(-0.05027, 0.8863, -0.04456);
  const num = (s) => Number(s.replace(MINUS, '-').replace(/,/g, ''));
  const dec = c.split('.')[1]?.length ?? 0;
  assert.equal((num(a) * num(b)).toFixed(dec), num(c).toFixed(dec), `${a} × ${b} = ${c}`);
  assert.ok(a.startsWith(MINUS) && c.startsWith(MINUS), 'negatives take the minus sign');
  // Big numbers keep grouped digits, never 7.89e+3.
  assert.deepEqual(productWords(7886.73, 0.2459277, 1939.5666), ['7,887', '0.246', '1,940']);
  assert.deepEqual(productWords(undefined, 0.5, 1), ['–', '0.50', '1.00'], 'a missing number stays a dash');
});
