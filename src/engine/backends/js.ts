/**
 * Pure-TypeScript reference implementation of the `Backend` kernel contract (see ../backend.ts).
 *
 * Always available and deliberately simple: every reduction that matters numerically (gemm inner products,
 * softmax sums, layernorm statistics, AdamW moments) is accumulated in float64, so this backend is the ground truth
 * the native backend is compared against in tests. Single-threaded; `setThreads` is accepted and ignored.
 */
import type { Backend } from '../backend.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * Complementary error function, fractional error < 1.2e-7 everywhere (Chebyshev fit, Numerical Recipes `erfcc`).
 * Used via Phi(x) = erfc(-x / sqrt 2) / 2 so the far negative tail keeps its relative accuracy.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const ans = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
      + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? ans : 2 - ans;
}

/** Standard normal CDF. */
function phiCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/**
 * The dropout hash of element i under seeds (s0, s1): murmur3's fmix32 of i * golden + s0 with s1 mixed in mid-way,
 * as uint32. The native kernel (native/src/kernels_fused.cc) computes the same bits, so both backends drop the same
 * elements; element i is kept when dropHash(i) >= dropThreshold(p).
 */
export function dropHash(i: number, s0: number, s1: number): number {
  let h = (Math.imul(i, 0x9e3779b1) + s0) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= s1;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** ceil(p * 2^32), clamped to 2^32 - 1: the keep threshold of dropHash for drop probability p. */
export function dropThreshold(p: number): number {
  return Math.min(Math.ceil(p * 4294967296), 4294967295);
}

function checkLen(name: string, arr: ArrayLike<number>, need: number): void {
  if (arr.length < need) throw new RangeError(`jsBackend.${name}: buffer of length ${arr.length} < required ${need}`);
}

/** op(X) as a contiguous row-major [rows, cols] array: op(X)[r][c] = trans ? X[c * ld + r] : X[r * ld + c]. */
function packRows(X: Float32Array, ld: number, rows: number, cols: number, trans: boolean): Float32Array {
  const out = new Float32Array(rows * cols);
  if (!trans) {
    for (let r = 0; r < rows; r++) out.set(X.subarray(r * ld, r * ld + cols), r * cols);
  } else {
    for (let c = 0; c < cols; c++) {
      const o = c * ld;
      for (let r = 0; r < rows; r++) out[r * cols + c] = X[o + r];
    }
  }
  return out;
}

function storeC(C: Float32Array, p: number, s: number, alpha: number, beta: number): void {
  C[p] = beta === 0 ? alpha * s : alpha * s + beta * C[p];
}

/**
 * Single sgemm on row-major storage; see Backend.sgemm. Packs op(A) as [M, K] rows and op(B)^T as [N, K] rows
 * (no copy when already in that layout), then computes 4x4 tiles of dot products with float64 accumulators.
 */
function sgemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number,
  beta: number, C: Float32Array, ldc: number,
): void {
  if (M === 0 || N === 0) return;
  const Ap = !transA && lda === K ? A : packRows(A, lda, M, K, transA);
  const Bp = transB && ldb === K ? B : packRows(B, ldb, N, K, !transB); // Bp[j, k] = op(B)[k, j]
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = j * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0; // eslint-disable-line one-var
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0; // eslint-disable-line one-var
      for (let k = 0; k < K; k++) {
        const x0 = Ap[a0 + k];
        const x1 = Ap[a1 + k];
        const x2 = Ap[a2 + k];
        const x3 = Ap[a3 + k];
        const y0 = Bp[b0 + k];
        const y1 = Bp[b1 + k];
        const y2 = Bp[b2 + k];
        const y3 = Bp[b3 + k];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const p0 = i * ldc + j;
      const p1 = p0 + ldc;
      const p2 = p1 + ldc;
      const p3 = p2 + ldc;
      storeC(C, p0, c00, alpha, beta); storeC(C, p0 + 1, c01, alpha, beta);
      storeC(C, p0 + 2, c02, alpha, beta); storeC(C, p0 + 3, c03, alpha, beta);
      storeC(C, p1, c10, alpha, beta); storeC(C, p1 + 1, c11, alpha, beta);
      storeC(C, p1 + 2, c12, alpha, beta); storeC(C, p1 + 3, c13, alpha, beta);
      storeC(C, p2, c20, alpha, beta); storeC(C, p2 + 1, c21, alpha, beta);
      storeC(C, p2 + 2, c22, alpha, beta); storeC(C, p2 + 3, c23, alpha, beta);
      storeC(C, p3, c30, alpha, beta); storeC(C, p3 + 1, c31, alpha, beta);
      storeC(C, p3 + 2, c32, alpha, beta); storeC(C, p3 + 3, c33, alpha, beta);
    }
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) storeC(C, (i + r) * ldc + j, dot(Ap, (i + r) * K, Bp, j * K, K), alpha, beta);
    }
  }
  for (; i < M; i++) {
    for (let j = 0; j < N; j++) storeC(C, i * ldc + j, dot(Ap, i * K, Bp, j * K, K), alpha, beta);
  }
}

function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += x[xo + k] * y[yo + k];
  return s;
}

/** "a is worse than b" in top-k order: lower value, or equal value and higher index. NaN counts as -Infinity. */
function worse(va: number, ia: number, vb: number, ib: number): boolean {
  return va < vb || (va === vb && ia > ib);
}

/** Top-k of one row via a size-k min-heap of the current best (root = worst kept), O(cols log k). */
function topkHeap(row: Float32Array, cols: number, k: number, idx: Int32Array, val: Float32Array, base: number): void {
  const hv = new Float64Array(k);
  const hi = new Int32Array(k);
  const siftDown = (p: number): void => {
    for (;;) {
      const l = 2 * p + 1;
      if (l >= k) return;
      let c = l;
      if (l + 1 < k && worse(hv[l + 1], hi[l + 1], hv[l], hi[l])) c = l + 1;
      if (!worse(hv[c], hi[c], hv[p], hi[p])) return;
      const tv = hv[p];
      const ti = hi[p];
      hv[p] = hv[c];
      hi[p] = hi[c];
      hv[c] = tv;
      hi[c] = ti;
      p = c;
    }
  };
  for (let j = 0; j < k; j++) {
    hv[j] = Number.isNaN(row[j]) ? -Infinity : row[j];
    hi[j] = j;
  }
  for (let p = (k >> 1) - 1; p >= 0; p--) siftDown(p);
  for (let j = k; j < cols; j++) {
    const x = Number.isNaN(row[j]) ? -Infinity : row[j];
    if (x > hv[0]) {
      hv[0] = x;
      hi[0] = j;
      siftDown(0);
    }
  }
  const order = Array.from({ length: k }, (_, t) => t).sort((a, b) => (worse(hv[a], hi[a], hv[b], hi[b]) ? 1 : -1));
  for (let t = 0; t < k; t++) {
    idx[base + t] = hi[order[t]];
    val[base + t] = row[hi[order[t]]];
  }
}

/** Insertion into the running top-k of one row (values desc, ties by lower index first). */
function topkRow(row: Float32Array, cols: number, k: number, idx: Int32Array, val: Float32Array, base: number): void {
  if (k > 32) {
    topkHeap(row, cols, k, idx, val, base);
    return;
  }
  let count = 0;
  for (let j = 0; j < cols; j++) {
    const x = Number.isNaN(row[j]) ? -Infinity : row[j];
    if (count === k && !(x > val[base + k - 1])) continue;
    let p = count < k ? count++ : k - 1;
    while (p > 0 && x > val[base + p - 1]) {
      val[base + p] = val[base + p - 1];
      idx[base + p] = idx[base + p - 1];
      p--;
    }
    val[base + p] = x;
    idx[base + p] = j;
  }
  for (let t = 0; t < k; t++) val[base + t] = row[idx[base + t]];
}

/** The pure-TypeScript reference backend. */
export const jsBackend: Backend = {
  name: 'js',

  getThreads(): number {
    return 1;
  },

  setThreads(_n: number): void {
    // single-threaded reference: nothing to configure
  },

  sgemm,

  sgemmBatched(batch, transA, transB, M, N, K, alpha, A, strideA, B, strideB, beta, C, strideC, lda0, ldb0, ldc0): void {
    const lda = lda0 ?? (transA ? M : K);
    const ldb = ldb0 ?? (transB ? K : N);
    const ldc = ldc0 ?? N;
    if (batch > 1 && M > 0 && N > 0 && strideC < (M - 1) * ldc + N && !(strideC >= N && (batch - 1) * strideC + N <= ldc)) {
      throw new RangeError(`sgemmBatched: strideC (${strideC}) must be >= (M - 1) * ldc + N, or >= N with (batch - 1) * strideC + N <= ldc, so outputs do not overlap`);
    }
    for (let b = 0; b < batch; b++) {
      sgemm(
        transA, transB, M, N, K, alpha,
        A.subarray(b * strideA), lda, B.subarray(b * strideB), ldb,
        beta, C.subarray(b * strideC), ldc,
      );
    }
  },

  softmaxRows(x, out, rows, cols): void {
    checkLen('softmaxRows', x, rows * cols);
    checkLen('softmaxRows', out, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      if (mx === -Infinity) mx = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[o + j] - mx);
        out[o + j] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let j = 0; j < cols; j++) out[o + j] *= inv;
    }
  },

  logSoftmaxRows(x, out, rows, cols): void {
    checkLen('logSoftmaxRows', x, rows * cols);
    checkLen('logSoftmaxRows', out, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      if (mx === -Infinity) mx = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[o + j] - mx);
      const lse = mx + Math.log(s);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - lse;
    }
  },

  softmaxBackward(y, dy, dx, rows, cols): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let d = 0;
      for (let j = 0; j < cols; j++) d += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - d);
    }
  },

  layerNormForward(x, gamma, beta, out, mean, rstd, rows, cols, eps): void {
    checkLen('layerNormForward', x, rows * cols);
    checkLen('layerNormForward', gamma, cols);
    checkLen('layerNormForward', beta, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[o + j];
      const mu = s / cols;
      let v = 0;
      for (let j = 0; j < cols; j++) {
        const d = x[o + j] - mu;
        v += d * d;
      }
      const rs = 1 / Math.sqrt(v / cols + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mu) * rs * gamma[j] + beta[j];
    }
  },

  layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols): void {
    const dg = new Float64Array(cols);
    const db = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r];
      const rs = rstd[r];
      let sumG = 0;
      let sumGX = 0;
      for (let j = 0; j < cols; j++) {
        const xh = (x[o + j] - mu) * rs;
        const g = dy[o + j] * gamma[j];
        sumG += g;
        sumGX += g * xh;
        dg[j] += dy[o + j] * xh;
        db[j] += dy[o + j];
      }
      const mG = sumG / cols;
      const mGX = sumGX / cols;
      for (let j = 0; j < cols; j++) {
        const xh = (x[o + j] - mu) * rs;
        dx[o + j] = rs * (dy[o + j] * gamma[j] - mG - xh * mGX);
      }
    }
    for (let j = 0; j < cols; j++) {
      dgamma[j] += dg[j];
      dbeta[j] += db[j];
    }
  },

  gelu(x, out, n, tanhApprox): void {
    if (tanhApprox) {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v)));
      }
    } else {
      for (let i = 0; i < n; i++) out[i] = x[i] * phiCdf(x[i]);
    }
  },

  geluBackward(x, dy, dx, n, tanhApprox): void {
    if (tanhApprox) {
      for (let i = 0; i < n; i++) {
        const v = Math.min(20, Math.max(-20, x[i])); // the derivative is exactly 1 / 0 beyond; no inf * 0 at ±inf
        const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
        const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);
        dx[i] = dy[i] * d;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        dx[i] = dy[i] * (phiCdf(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
    }
  },

  gatherRows(table, idx, out, cols): void {
    const nRows = Math.floor(table.length / cols);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (r < 0 || r >= nRows) throw new RangeError(`gatherRows: index ${r} at position ${i} out of range [0, ${nRows})`);
      out.set(table.subarray(r * cols, r * cols + cols), i * cols);
    }
  },

  scatterAddRows(grad, idx, tableGrad, cols): void {
    const nRows = Math.floor(tableGrad.length / cols);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (r < 0 || r >= nRows) throw new RangeError(`scatterAddRows: index ${r} at position ${i} out of range [0, ${nRows})`);
      const to = r * cols;
      const go = i * cols;
      for (let j = 0; j < cols; j++) tableGrad[to + j] += grad[go + j];
    }
  },

  adamwStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2): void {
    const n = param.length;
    const decay = 1 - lr * weightDecay;
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = param[i] * decay - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    }
  },

  dropoutApply(x, out, n, p, seed0, seed1): void {
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropoutApply: p must be in [0, 1), got ${p}`);
    checkLen('dropoutApply', x, n);
    checkLen('dropoutApply', out, n);
    const thr = dropThreshold(p);
    const s = Math.fround(1 / (1 - p));
    for (let i = 0; i < n; i++) out[i] = dropHash(i, seed0, seed1) >= thr ? x[i] * s : 0;
  },

  softmaxRowsBias(x, bias, out, rows, cols, rowsPerBias): void {
    checkLen('softmaxRowsBias', bias, Math.ceil(rows / rowsPerBias) * cols);
    const tmp = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const bo = Math.floor(r / rowsPerBias) * cols;
      let m = -Infinity;
      for (let j = 0; j < cols; j++) {
        tmp[j] = x[o + j] + bias[bo + j];
        if (tmp[j] > m) m = tmp[j];
      }
      if (m === -Infinity) m = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        tmp[j] = Math.exp(tmp[j] - m);
        s += tmp[j];
      }
      for (let j = 0; j < cols; j++) out[o + j] = tmp[j] / s;
    }
  },

  linearForward(x, w, bias, pre, out, rows, nIn, nOut, act): void {
    if (act !== 0 && act !== 1 && act !== 2) throw new RangeError(`linearForward: act must be 0, 1 or 2, got ${String(act)}`);
    if (act !== 0 && out === null) throw new RangeError('linearForward: out is required when act is not 0');
    checkLen('linearForward', pre, rows * nOut);
    this.sgemm(false, true, rows, nOut, nIn, 1, x, Math.max(1, nIn), w, Math.max(1, nIn), 0, pre, Math.max(1, nOut));
    if (bias) this.addRowBias(pre, bias, rows, nOut);
    if (act !== 0) this.gelu(pre, out as Float32Array, rows * nOut, act === 2);
  },

  geluBackwardColSums(x, dy, dx, rows, cols, tanhApprox, colSums): void {
    checkLen('geluBackwardColSums', x, rows * cols);
    this.geluBackward(x, dy, dx, rows * cols, tanhApprox);
    if (colSums) this.colSums(dx, rows, cols, colSums);
  },

  softmaxCrossEntropy(logits, targets, rows, cols, ignoreIndex, scale, grad, loss): void {
    checkLen('softmaxCrossEntropy', logits, rows * cols);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t !== ignoreIndex && !(t >= 0 && t < cols)) throw new RangeError(`softmaxCrossEntropy: target ${t} at row ${r} out of range [0, ${cols})`);
    }
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const t = targets[r];
      if (t === ignoreIndex) {
        loss[r] = 0;
        if (grad) grad.fill(0, o, o + cols);
        continue;
      }
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (logits[o + j] > mx) mx = logits[o + j];
      const m = mx === -Infinity ? 0 : mx;
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(logits[o + j] - m);
      loss[r] = Math.log(s) - (logits[o + t] - m);
      if (grad) {
        for (let j = 0; j < cols; j++) grad[o + j] = (scale * Math.exp(logits[o + j] - m)) / s;
        grad[o + t] -= scale;
      }
    }
  },

  addRowBias(x, bias, rows, cols): void {
    checkLen('addRowBias', x, rows * cols);
    checkLen('addRowBias', bias, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) x[o + j] += bias[j];
    }
  },

  colSums(x, rows, cols, out): void {
    checkLen('colSums', x, rows * cols);
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) acc[j] += x[o + j];
    }
    for (let j = 0; j < cols; j++) out[j] = acc[j];
  },

  axpby(alpha, x, beta, y, out, n): void {
    if (beta === 0) for (let i = 0; i < n; i++) out[i] = alpha * x[i];
    else for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta * y[i];
  },

  topk(scores, rows, cols, k, outIdx, outVal): void {
    if (!(k >= 1 && k <= cols)) throw new RangeError(`topk: k=${k} must be in [1, ${cols}]`);
    for (let r = 0; r < rows; r++) {
      topkRow(scores.subarray(r * cols, r * cols + cols), cols, k, outIdx, outVal, r * k);
    }
  },
};
