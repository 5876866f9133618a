// Tests of bench/lib/rng.ts against numpy 2.4.6 outputs (printed by `np.random.SeedSequence(12345).generate_state(8)`,
// `np.random.default_rng(12345).permutation(...)` and `np.random.default_rng(7).random(3)`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numpyPermutation, Pcg64, seedSequenceState } from '../../../bench/lib/rng.js';

test('SeedSequence(12345).generate_state(8) matches numpy', () => {
  assert.deepEqual(Array.from(seedSequenceState(12345, 8)),
    [2688385916, 3048105090, 4196366895, 3152189807, 924159892, 1692637855, 2685664627, 1052446614]);
});

test('default_rng(12345).permutation(20) matches numpy', () => {
  assert.deepEqual(Array.from(numpyPermutation(12345, 20)), [17, 0, 6, 18, 10, 11, 15, 9, 5, 12, 4, 1, 7, 3, 8, 19, 14, 16, 2, 13]);
});

test('default_rng(12345).permutation(341479) (the GloVe split) matches numpy at both ends and is a permutation', () => {
  const p = numpyPermutation(12345, 341479);
  assert.deepEqual(Array.from(p.subarray(0, 10)), [325149, 207331, 134126, 27602, 54038, 279554, 185819, 70152, 151923, 292580]);
  assert.deepEqual(Array.from(p.subarray(-5)), [228109, 9346, 323545, 312542, 176525]);
  const seen = new Uint8Array(p.length);
  for (const v of p) seen[v]++;
  assert.ok(seen.every((c) => c === 1));
});

test('Generator.random() doubles match numpy', () => {
  const r = new Pcg64(7);
  assert.deepEqual([r.nextDouble(), r.nextDouble(), r.nextDouble()], [0.625095466604667, 0.8972138009695755, 0.7756856902451935]);
});

test('interval(max) stays within [0, max] and rejects max >= 2^32', () => {
  const r = new Pcg64(1);
  for (const max of [0, 1, 5, 1000, 2 ** 31]) for (let i = 0; i < 200; i++) { const v = r.interval(max); assert.ok(v >= 0 && v <= max); }
  assert.throws(() => r.interval(2 ** 32), RangeError);
});
