/**
 * Partitioning stage of ScannIndex (ScaNN's tree / faiss IVF coarse quantiser): k-means over a seeded sample of
 * the datapoints into `leaves` partitions. Assignment is argmax_c x . c - |c|^2 / 2 (Euclidean k-means), or with
 * `spherical` argmax_c x . c / |c| (spherical k-means: the MIPS-aware choice for unit-norm data); centres are the
 * member means either way, which minimises the residuals that the quantiser then encodes. Empty leaves are
 * re-seeded from random sample points. Assignment runs on the native exact top-1 kernel when available.
 */
import type { IndexAddon } from './native.js';
import { flatSearchJs } from './topk.js';

/** Small seeded PRNG (mulberry32) for reproducible sampling. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** `m` distinct indices from [0, n), in random order. */
  sample(n: number, m: number): Int32Array {
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    return perm.slice(0, m);
  }
}

/** Options of the partitioning stage. */
export interface PartitionOptions {
  /** Number of leaves (partitions); default round(sqrt(N)). */
  leaves?: number;
  /** Lloyd iterations; default 10. */
  iterations?: number;
  /** Points sampled for training; default min(N, 40 * leaves). */
  sampleSize?: number;
  /** Spherical (cosine) assignment instead of Euclidean; default false (as ScaNN's tree). */
  spherical?: boolean;
  /** Seed of the sampling; default 1. */
  seed?: number;
}

/** Assignment scorer for centres [L, d]: the vectors and per-centre bias that make it an argmax of x . c' + b. */
export function assignmentTable(centroids: Float32Array, L: number, d: number, spherical: boolean): { table: Float32Array; bias: Float32Array | null } {
  if (spherical) {
    const table = new Float32Array(L * d);
    for (let l = 0; l < L; l++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centroids[l * d + j]! * centroids[l * d + j]!;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < d; j++) table[l * d + j] = centroids[l * d + j]! * inv;
    }
    return { table, bias: null };
  }
  const bias = new Float32Array(L);
  for (let l = 0; l < L; l++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += centroids[l * d + j]! * centroids[l * d + j]!;
    bias[l] = -0.5 * s;
  }
  return { table: centroids, bias };
}

/** Leaf of each of the n vectors [n, d] (exact argmax of the assignment score). */
export function assignLeaves(
  vectors: Float32Array, n: number, d: number, centroids: Float32Array, L: number, spherical: boolean, addon: IndexAddon | null,
): Int32Array {
  const { table, bias } = assignmentTable(centroids, L, d, spherical);
  const idx = new Int32Array(n), sc = new Float32Array(n);
  if (addon) addon.indexFlatSearch(table, L, d, bias, vectors, n, 1, idx, sc);
  else flatSearchJs(table, L, d, bias, vectors, n, 1, idx, sc);
  return idx;
}

/** Trains `leaves` centres [leaves, d] on a sample of vectors [n, d]. */
export function trainPartition(vectors: Float32Array, n: number, d: number, opts: PartitionOptions, addon: IndexAddon | null): Float32Array {
  const L = Math.max(1, Math.min(n, opts.leaves ?? Math.round(Math.sqrt(n))));
  const iterations = opts.iterations ?? 10;
  const rng = new Rng(opts.seed ?? 1);
  const m = Math.max(L, Math.min(n, opts.sampleSize ?? 40 * L));
  const pick = rng.sample(n, m);
  const sample = new Float32Array(m * d);
  for (let i = 0; i < m; i++) sample.set(vectors.subarray(pick[i]! * d, pick[i]! * d + d), i * d);
  const cent = sample.slice(0, L * d);
  const sums = new Float64Array(L * d), counts = new Int32Array(L);
  for (let it = 0; it < iterations; it++) {
    const a = assignLeaves(sample, m, d, cent, L, opts.spherical ?? false, addon);
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < m; i++) {
      const l = a[i]!;
      counts[l]!++;
      for (let j = 0; j < d; j++) sums[l * d + j] += sample[i * d + j]!;
    }
    for (let l = 0; l < L; l++) {
      if (counts[l] === 0) {
        const i = Math.floor(rng.next() * m);
        cent.set(sample.subarray(i * d, i * d + d), l * d);
        continue;
      }
      for (let j = 0; j < d; j++) cent[l * d + j] = sums[l * d + j]! / counts[l]!;
    }
  }
  return cent;
}
