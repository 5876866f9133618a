/**
 * Anisotropic vector quantisation (Guo et al. 2020, "Accelerating Large-Scale Inference with Anisotropic Vector
 * Quantization", §3, Theorem 3.3): product quantisation of partition residuals with 16 centres per 2-dim block,
 * trained and encoded under the score-aware loss
 *     loss_i = ||e_i||^2 + (eta_i - 1) (u_i . e_i)^2,   e_i = r_i - q(r_i),  u_i = x_i / ||x_i||,
 * which weights the error parallel to the datapoint eta times the orthogonal error. For threshold T (ScaNN's
 * `anisotropic_quantization_threshold`, default 0.2 for unit-norm data), as in ScaNN:
 *     eta(x) = (dim - 1) * (T^2 / ||x||^2) / (1 - T^2 / ||x||^2).
 * Training alternates exact block-coordinate steps (assignment sweeps, then 2x2 least-squares codebook updates),
 * so the objective is non-increasing; threshold null gives plain PQ (eta = 1, i.e. k-means per block).
 * Runs the native kernels (native/src/index_train.cc) when available, else the TypeScript below (same algorithm).
 */
import type { IndexAddon } from './native.js';
import { CENTRES } from './lut16.js';
import { Rng } from './kmeans.js';

/** ScaNN's ratio eta = h_parallel / h_orthogonal for a point of squared norm sqNorm in `dim` dimensions. */
export function parallelCostMultiplier(threshold: number, sqNorm: number, dim: number): number {
  if (!(sqNorm > 0) || dim < 2) return 1;
  const r = Math.min((threshold * threshold) / sqNorm, 0.999);
  return ((dim - 1) * r) / (1 - r);
}

/** Training / encoding inputs: padded residuals T and unit directions U [n, 2M], loss weights W = eta - 1 [n]. */
export interface ApqInputs {
  T: Float32Array;
  U: Float32Array;
  W: Float32Array;
  n: number;
  M: number;
}

/**
 * Builds ApqInputs from datapoints x [n, d] and their residuals r [n, d] (r = x - leaf centre); M = sub-quantisers
 * (2M >= d, extra dimensions are zero). threshold null -> plain PQ weights (all zero).
 */
export function apqInputs(
  x: Float32Array, r: Float32Array, n: number, d: number, M: number, threshold: number | null, reuse?: ApqInputs,
): ApqInputs {
  const dp = 2 * M;
  // `reuse`: buffers of an earlier call with room for n points (a build encodes in chunks; reusing them keeps the
  // malloc heap from growing with garbage chunks between collections). Padding dimensions stay zero.
  const fits = reuse !== undefined && reuse.M === M && reuse.W.length >= n;
  const T = fits ? reuse.T.subarray(0, n * dp) : new Float32Array(n * dp);
  const U = fits ? reuse.U.subarray(0, n * dp) : new Float32Array(n * dp);
  const W = fits ? reuse.W.subarray(0, n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! * x[i * d + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) {
      T[i * dp + j] = r[i * d + j]!;
      U[i * dp + j] = x[i * d + j]! * inv;
    }
    W[i] = threshold === null ? 0 : parallelCostMultiplier(threshold, s, d) - 1;
  }
  return { T, U, W, n, M };
}

function nearestCodes(a: ApqInputs, i: number, cb: Float32Array, codes: Uint8Array): void {
  const dp = 2 * a.M;
  for (let b = 0; b < a.M; b++) {
    const t0 = a.T[i * dp + 2 * b]!, t1 = a.T[i * dp + 2 * b + 1]!;
    let best = Infinity, bi = 0;
    for (let k = 0; k < CENTRES; k++) {
      const dx = Math.fround(t0 - cb[(b * CENTRES + k) * 2]!), dy = Math.fround(t1 - cb[(b * CENTRES + k) * 2 + 1]!);
      const l = Math.fround(Math.fround(dx * dx) + Math.fround(dy * dy));
      if (l < best) {
        best = l;
        bi = k;
      }
    }
    codes[i * a.M + b] = bi;
  }
}

function sweepPoint(a: ApqInputs, i: number, cb: Float32Array, codes: Uint8Array): void {
  const dp = 2 * a.M, M = a.M, w = a.W[i]!, o = i * dp;
  let P = 0;
  for (let b = 0; b < M; b++) {
    const c = (b * CENTRES + codes[i * M + b]!) * 2;
    P += a.U[o + 2 * b]! * (a.T[o + 2 * b]! - cb[c]!) + a.U[o + 2 * b + 1]! * (a.T[o + 2 * b + 1]! - cb[c + 1]!);
  }
  for (let b = 0; b < M; b++) {
    const t0 = a.T[o + 2 * b]!, t1 = a.T[o + 2 * b + 1]!, u0 = a.U[o + 2 * b]!, u1 = a.U[o + 2 * b + 1]!;
    const cbo = b * CENTRES * 2, old = codes[i * M + b]!;
    const g = P - (u0 * (t0 - cb[cbo + 2 * old]!) + u1 * (t1 - cb[cbo + 2 * old + 1]!));
    const lossAt = (k: number): number => {
      const e0 = t0 - cb[cbo + 2 * k]!, e1 = t1 - cb[cbo + 2 * k + 1]!;
      const p = g + u0 * e0 + u1 * e1;
      return e0 * e0 + e1 * e1 + w * p * p;
    };
    let best = lossAt(old), bi = old;
    for (let k = 0; k < CENTRES; k++) {
      const l = lossAt(k);
      if (l < best) {
        best = l;
        bi = k;
      }
    }
    codes[i * M + b] = bi;
    P = g + u0 * (t0 - cb[cbo + 2 * bi]!) + u1 * (t1 - cb[cbo + 2 * bi + 1]!);
  }
}

/** The anisotropic objective sum_i ||e_i||^2 + w_i (u_i . e_i)^2 for the given codebooks and codes. */
export function apqLoss(a: ApqInputs, cb: Float32Array, codes: Uint8Array): number {
  const dp = 2 * a.M;
  let total = 0;
  for (let i = 0; i < a.n; i++) {
    let e2 = 0, P = 0;
    for (let b = 0; b < a.M; b++) {
      const c = (b * CENTRES + codes[i * a.M + b]!) * 2;
      const e0 = a.T[i * dp + 2 * b]! - cb[c]!, e1 = a.T[i * dp + 2 * b + 1]! - cb[c + 1]!;
      e2 += e0 * e0 + e1 * e1;
      P += a.U[i * dp + 2 * b]! * e0 + a.U[i * dp + 2 * b + 1]! * e1;
    }
    total += e2 + a.W[i]! * P * P;
  }
  return total;
}

function codebookStep(a: ApqInputs, cb: Float32Array, codes: Uint8Array): void {
  const { n, M } = a, dp = 2 * M;
  const P = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let b = 0; b < M; b++) {
      const c = (b * CENTRES + codes[i * M + b]!) * 2;
      p += a.U[i * dp + 2 * b]! * (a.T[i * dp + 2 * b]! - cb[c]!) + a.U[i * dp + 2 * b + 1]! * (a.T[i * dp + 2 * b + 1]! - cb[c + 1]!);
    }
    P[i] = p;
  }
  const A = new Float64Array(CENTRES * 3), rhs = new Float64Array(CENTRES * 2), fresh = new Float32Array(CENTRES * 2);
  for (let b = 0; b < M; b++) {
    A.fill(0);
    rhs.fill(0);
    const cbo = b * CENTRES * 2;
    for (let i = 0; i < n; i++) {
      const k = codes[i * M + b]!;
      const t0 = a.T[i * dp + 2 * b]!, t1 = a.T[i * dp + 2 * b + 1]!, u0 = a.U[i * dp + 2 * b]!, u1 = a.U[i * dp + 2 * b + 1]!;
      const w = a.W[i]!;
      const av = P[i]! - (u0 * (t0 - cb[cbo + 2 * k]!) + u1 * (t1 - cb[cbo + 2 * k + 1]!)) + u0 * t0 + u1 * t1;
      A[3 * k] += 1 + w * u0 * u0;
      A[3 * k + 1] += w * u0 * u1;
      A[3 * k + 2] += 1 + w * u1 * u1;
      rhs[2 * k] += t0 + w * av * u0;
      rhs[2 * k + 1] += t1 + w * av * u1;
    }
    for (let k = 0; k < CENTRES; k++) {
      const det = A[3 * k]! * A[3 * k + 2]! - A[3 * k + 1]! * A[3 * k + 1]!;
      if (!(det > 1e-12)) {
        fresh[2 * k] = cb[cbo + 2 * k]!;
        fresh[2 * k + 1] = cb[cbo + 2 * k + 1]!;
        continue;
      }
      fresh[2 * k] = (A[3 * k + 2]! * rhs[2 * k]! - A[3 * k + 1]! * rhs[2 * k + 1]!) / det;
      fresh[2 * k + 1] = (A[3 * k]! * rhs[2 * k + 1]! - A[3 * k + 1]! * rhs[2 * k]!) / det;
    }
    for (let i = 0; i < n; i++) {
      const k = codes[i * M + b]!;
      P[i] += a.U[i * dp + 2 * b]! * (cb[cbo + 2 * k]! - fresh[2 * k]!) + a.U[i * dp + 2 * b + 1]! * (cb[cbo + 2 * k + 1]! - fresh[2 * k + 1]!);
    }
    cb.set(fresh, cbo);
  }
}

/** Trained codebooks [M, 16, 2], the training points' codes [n, M], and the objective after init and each iteration. */
export interface ApqModel {
  codebooks: Float32Array;
  codes: Uint8Array;
  losses: number[];
}

/** Trains the codebooks on inputs `a` (centres initialised from 16 distinct random points, seeded). */
export function trainApq(a: ApqInputs, iterations: number, seed: number, addon: IndexAddon | null): ApqModel {
  const { n, M } = a, dp = 2 * M;
  const cb = new Float32Array(M * CENTRES * 2);
  const rng = new Rng(seed);
  const picks = rng.sample(n, Math.min(n, CENTRES));
  for (let b = 0; b < M; b++) {
    for (let k = 0; k < CENTRES; k++) {
      const i = picks[k % picks.length]!;
      // Repeated picks (n < 16) get a tiny deterministic offset so centres stay distinct.
      const jitter = k < picks.length ? 0 : 1e-3 * (k + 1);
      cb[(b * CENTRES + k) * 2] = a.T[i * dp + 2 * b]! + jitter;
      cb[(b * CENTRES + k) * 2 + 1] = a.T[i * dp + 2 * b + 1]! - jitter;
    }
  }
  const codes = new Uint8Array(n * M);
  if (addon) {
    const losses = addon.indexApqTrain(a.T, a.U, a.W, n, M, cb, codes, iterations, true);
    return { codebooks: cb, codes, losses: Array.from(losses) };
  }
  for (let i = 0; i < n; i++) nearestCodes(a, i, cb, codes);
  const losses = [apqLoss(a, cb, codes)];
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) sweepPoint(a, i, cb, codes);
    codebookStep(a, cb, codes);
    losses.push(apqLoss(a, cb, codes));
  }
  return { codebooks: cb, codes, losses };
}

/** Encodes inputs with fixed codebooks: nearest centres, then `sweeps` anisotropic coordinate-descent sweeps. */
export function encodeApq(a: ApqInputs, codebooks: Float32Array, sweeps: number, addon: IndexAddon | null): Uint8Array {
  const codes = new Uint8Array(a.n * a.M);
  if (addon) {
    addon.indexApqEncode(a.T, a.U, a.W, a.n, a.M, codebooks, codes, sweeps);
    return codes;
  }
  for (let i = 0; i < a.n; i++) {
    nearestCodes(a, i, codebooks, codes);
    if (a.W[i] !== 0) for (let s = 0; s < sweeps; s++) sweepPoint(a, i, codebooks, codes);
  }
  return codes;
}
