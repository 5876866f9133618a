/**
 * Deterministic synthetic data for the index tests: unit-norm vectors around random cluster centres (Gaussian
 * noise via Box-Muller from a seeded PRNG), the clustered regime where partitioning and quantisation matter.
 */
import { Rng } from '../../src/index/kmeans.js';

/** n unit vectors [n, d] in `clusters` clusters; `spread` is the noise scale relative to the centre norm. */
export function clustered(n: number, d: number, clusters: number, seed: number, spread = 0.6): Float32Array {
  const rng = new Rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const centres = new Float32Array(clusters * d);
  for (let i = 0; i < centres.length; i++) centres[i] = gauss();
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng.next() * clusters);
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = centres[c * d + j]! + spread * gauss();
      out[i * d + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! * inv;
  }
  return out;
}

/** Ids 0..n-1 scaled by a stride so ids differ from row numbers. */
export function idsFor(n: number, stride = 7, offset = 3): Uint32Array {
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = offset + i * stride;
  return ids;
}

/** Mean fraction of the true top-k ids found in the returned top-k. */
export function recallAtK(truth: Uint32Array, got: Uint32Array, nq: number, k: number): number {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const t = new Set(truth.subarray(q * k, q * k + k));
    for (let i = 0; i < k; i++) if (t.has(got[q * k + i]!)) hit++;
  }
  return hit / (nq * k);
}
