// Tests of bench/lib/synthetic.ts: deterministic, nested (prefix) streams, distinct query stream, clustered
// structure (a point's best centre by distance is much closer than the average centre).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredVectors } from '../../../bench/lib/synthetic.js';

const o = { d: 16, clusters: 8, noise: 0.3, normSpread: 0.25, seed: 5 };

test('clusteredVectors is deterministic and nested across sizes', () => {
  const a = clusteredVectors(50, 0, o), b = clusteredVectors(120, 0, o);
  assert.deepEqual(Array.from(a), Array.from(b.subarray(0, 50 * o.d)));
  assert.deepEqual(Array.from(clusteredVectors(50, 0, o)), Array.from(a));
  assert.notDeepEqual(Array.from(clusteredVectors(50, 1, o).subarray(0, o.d)), Array.from(a.subarray(0, o.d)));
  assert.ok(a.every(Number.isFinite));
});

test('points are clustered: nearest-point distance far below the mean pairwise distance', () => {
  const n = 400, d = o.d, x = clusteredVectors(n, 0, o);
  const dist = (i: number, j: number): number => { let s = 0; for (let c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) ** 2; return Math.sqrt(s); };
  let nn = 0, mean = 0;
  for (let i = 0; i < 50; i++) {
    let best = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) { const e = dist(i, j); best = Math.min(best, e); mean += e / (n - 1); }
    nn += best;
  }
  assert.ok(nn / 50 < 0.5 * (mean / 50), `nn ${nn / 50} vs mean ${mean / 50}`);
});
