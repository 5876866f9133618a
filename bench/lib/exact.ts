// Exact maximum-inner-product top-k in plain JavaScript (the fallback ground-truth engine of the MIPS benchmarks
// and their "exact JS" baseline): scores in float64 from float32 inputs, blocked over queries x base rows so that a
// base block stays in cache while a block of queries is scored against it, with a per-query sorted top-k buffer.

/** Exact top-k result: [nq, k] ids and scores, each row sorted by descending score. */
export interface TopK {
  /** [nq, k] base row ids */
  ids: Int32Array;
  /** [nq, k] inner products */
  scores: Float32Array;
}

/**
 * Exact top-k by inner product of queries [nq, d] against base [n, d] (row-major). Rows are scored in blocks of
 * `qBlock` queries x 512 base rows. `onProgress(done)` is called after each query block.
 */
export function exactTopK(
  base: Float32Array, n: number, d: number, queries: Float32Array, nq: number, k: number,
  onProgress?: (done: number) => void, qBlock = 8,
): TopK {
  if (base.length !== n * d) throw new RangeError(`exactTopK: base length ${base.length} != n ${n} x d ${d}`);
  if (queries.length < nq * d) throw new RangeError(`exactTopK: queries length ${queries.length} < nq ${nq} x d ${d}`);
  if (k < 1 || k > n) throw new RangeError(`exactTopK: k = ${k} must be in [1, n = ${n}]`);
  const ids = new Int32Array(nq * k).fill(-1);
  const scores = new Float32Array(nq * k).fill(-Infinity);
  const topS = new Float64Array(qBlock * k);
  const topI = new Int32Array(qBlock * k);
  const thr = new Float64Array(qBlock);
  const NB = 512;
  const sc = new Float64Array(qBlock * NB);
  for (let q0 = 0; q0 < nq; q0 += qBlock) {
    const B = Math.min(qBlock, nq - q0);
    topS.fill(-Infinity); topI.fill(-1); thr.fill(-Infinity);
    for (let r0 = 0; r0 < n; r0 += NB) {
      const R = Math.min(NB, n - r0);
      for (let b = 0; b < B; b++) {
        const qo = (q0 + b) * d;
        for (let r = 0; r < R; r++) {
          const o = (r0 + r) * d;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
          for (; j + 3 < d; j += 4) {
            s0 += base[o + j] * queries[qo + j];
            s1 += base[o + j + 1] * queries[qo + j + 1];
            s2 += base[o + j + 2] * queries[qo + j + 2];
            s3 += base[o + j + 3] * queries[qo + j + 3];
          }
          for (; j < d; j++) s0 += base[o + j] * queries[qo + j];
          sc[b * NB + r] = s0 + s1 + s2 + s3;
        }
      }
      for (let b = 0; b < B; b++) {
        const off = b * k;
        for (let r = 0; r < R; r++) {
          const s = sc[b * NB + r];
          if (s <= thr[b]) continue;
          let p = k - 1;
          while (p > 0 && topS[off + p - 1] < s) { topS[off + p] = topS[off + p - 1]; topI[off + p] = topI[off + p - 1]; p--; }
          topS[off + p] = s; topI[off + p] = r0 + r;
          thr[b] = topS[off + k - 1];
        }
      }
    }
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < k; j++) { ids[(q0 + b) * k + j] = topI[b * k + j]; scores[(q0 + b) * k + j] = topS[b * k + j]; }
    }
    onProgress?.(q0 + B);
  }
  return { ids, scores };
}
