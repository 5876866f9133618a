// Tests of bench/lib/metrics.ts: recall@k, QPS-at-recall interpolation (hand-derived values), spread query rows
// (numpy linspace(0, 9999, 2000).round() values), and bench/lib/exact.ts against a naive sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qpsAt, recallAtK, spreadRows, summarize } from '../../../bench/lib/metrics.js';
import { exactTopK } from '../../../bench/lib/exact.js';

test('recallAtK counts the intersection with the first k ground-truth ids', () => {
  const gt = Int32Array.from([1, 2, 3, 9, 4, 5, 6, 9]); // 2 queries, gtD 4
  const ids = Int32Array.from([3, 2, 7, 6, 5, 1]); // k 3
  assert.equal(recallAtK(ids, gt, 4, 2, 3), (2 + 2) / 6);
  assert.equal(recallAtK(Int32Array.from([4, 5, 6]), gt, 4, 1, 3, [1]), 1);
  assert.throws(() => recallAtK(ids, gt, 2, 2, 3), RangeError);
});

test('qpsAt interpolates log-linearly on the Pareto frontier', () => {
  const pts = [{ recall: 0.8, qps: 1000 }, { recall: 1.0, qps: 10 }, { recall: 0.85, qps: 500 }, { recall: 0.84, qps: 100 }];
  // frontier: 0.8 -> 1000, 0.84 -> 500 (dominated point lifted), 0.85 -> 500, 1.0 -> 10
  assert.equal(qpsAt(pts, 0.8), 1000);
  assert.ok(Math.abs(qpsAt(pts, 0.82)! - Math.sqrt(1000 * 500)) < 1e-9);
  assert.ok(Math.abs(qpsAt(pts, 0.925)! - Math.sqrt(500 * 10)) < 1e-9);
  assert.equal(qpsAt(pts, 0.7), 1000);
  assert.equal(qpsAt([{ recall: 0.5, qps: 9 }], 0.9), null);
  const s = summarize([{ param: 1, recall: 0.9, qps: 200, qps_batch: 400 }, { param: 2, recall: 0.99, qps: 20, qps_batch: null }]);
  assert.equal(s.qps_r090, 200);
  assert.equal(s.qps_batch_r090, 400);
  assert.equal(s.qps_batch_r099, null);
  assert.equal(s.qps_r095, Math.round(Math.exp(Math.log(200) + (0.05 / 0.09) * Math.log(0.1)) * 10) / 10);
});

test('spreadRows matches numpy linspace(0, nq-1, n).round()', () => {
  assert.deepEqual(Array.from(spreadRows(10, 4)), [0, 3, 6, 9]); // 0, 3, 6, 9 exactly
  assert.deepEqual(Array.from(spreadRows(6, 5)), [0, 1, 2, 4, 5]); // 0, 1.25, 2.5 -> 2 (half to even), 3.75, 5
  const r = spreadRows(10000, 2000);
  assert.equal(r.length, 2000);
  assert.deepEqual([r[0], r[1], r[2], r[1999]], [0, 5, 10, 9999]); // 5.0015, 10.003
  assert.deepEqual(Array.from(spreadRows(3, 10)), [0, 1, 2]);
});

test('exactTopK equals a naive sort of all inner products', () => {
  const n = 700, d = 13, nq = 11, k = 7;
  let s = 1;
  const rnd = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5; };
  const base = Float32Array.from({ length: n * d }, rnd), Q = Float32Array.from({ length: nq * d }, rnd);
  for (const qb of [1, 4, 8]) {
    const r = exactTopK(base, n, d, Q, nq, k, undefined, qb);
    for (let q = 0; q < nq; q++) {
      const sc = Array.from({ length: n }, (_, i) => { let t = 0; for (let j = 0; j < d; j++) t += base[i * d + j] * Q[q * d + j]; return [t, i]; });
      sc.sort((a, b) => b[0] - a[0]);
      assert.deepEqual(Array.from(r.ids.subarray(q * k, (q + 1) * k)), sc.slice(0, k).map((x) => x[1]));
    }
  }
  assert.throws(() => exactTopK(base, n, d, Q, nq, 0), RangeError);
});
