/**
 * Backend kernel tests: every `Backend` function on every available backend (js always, native when it loads)
 * against naive float64 references written independently here (triple-loop gemm, direct softmax/layernorm, a
 * series/continued-fraction erf, finite differences for the backward kernels, full sort for top-k).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, availableBackends } from '../../src/engine/index.js';
import { assertClose, erfRef, geluRef, randArr } from './reference-math.js';



function layerNormRef(x: Float64Array | Float32Array, g: Float32Array, b: Float32Array, cols: number, eps: number): Float64Array {
  const rows = x.length / cols;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < cols; j++) mu += x[r * cols + j];
    mu /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[r * cols + j] - mu) ** 2;
    v /= cols;
    for (let j = 0; j < cols; j++) out[r * cols + j] = ((x[r * cols + j] - mu) / Math.sqrt(v + eps)) * g[j] + b[j];
  }
  return out;
}

for (const be of availableBackends()) {
  const tag = `[${be.name}]`;

  test(`${tag} sgemm: all transpose flags, padded strides, alpha/beta, NaN ignored when beta = 0`, () => {
    const rng = new Rng(1);
    for (const [M, N, K] of [[1, 1, 1], [3, 5, 7], [17, 9, 33], [64, 48, 40]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const beta of [0, 0.5]) {
            const lda = (tA ? M : K) + 3;
            const ldb = (tB ? K : N) + 2;
            const ldc = N + 1;
            const A = randArr(rng, (tA ? K : M) * lda);
            const B = randArr(rng, (tB ? N : K) * ldb);
            const C = randArr(rng, M * ldc);
            if (beta === 0) C.fill(NaN);
            const C0 = C.slice();
            const alpha = 1.5;
            be.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            const exp = C0.slice();
            const expF = new Float64Array(exp.length);
            for (let i = 0; i < exp.length; i++) expF[i] = exp[i];
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                let s = 0;
                for (let k = 0; k < K; k++) s += (tA ? A[k * lda + i] : A[i * lda + k]) * (tB ? B[j * ldb + k] : B[k * ldb + j]);
                expF[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C0[i * ldc + j]);
              }
            }
            // padding columns of C must be untouched
            for (let i = 0; i < M; i++) expF[i * ldc + N] = C0[i * ldc + N];
            const got = Array.from(C, (x, i) => (i % ldc === N && Number.isNaN(x) && Number.isNaN(expF[i]) ? 0 : x));
            const want = Array.from(expF, (x, i) => (i % ldc === N && Number.isNaN(x) && Number.isNaN(C[i]) ? 0 : x));
            assertClose(got, want, 1e-4, 1e-4 * Math.sqrt(K), `sgemm M${M} N${N} K${K} tA${tA} tB${tB} beta${beta}`);
          }
        }
      }
    }
  });

  test(`${tag} sgemmBatched: strides including broadcast A (stride 0)`, () => {
    const rng = new Rng(2);
    const [batch, M, N, K] = [3, 4, 5, 6];
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        for (const sharedA of [false, true]) {
          const A = randArr(rng, (sharedA ? 1 : batch) * M * K);
          const B = randArr(rng, batch * K * N);
          const C = new Float32Array(batch * M * N).fill(NaN);
          be.sgemmBatched(batch, tA, tB, M, N, K, 1, A, sharedA ? 0 : M * K, B, K * N, 0, C, M * N);
          const want = new Float64Array(C.length);
          for (let b = 0; b < batch; b++) {
            const ao = sharedA ? 0 : b * M * K;
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                let s = 0;
                for (let k = 0; k < K; k++) {
                  s += (tA ? A[ao + k * M + i] : A[ao + i * K + k]) * (tB ? B[b * K * N + j * K + k] : B[b * K * N + k * N + j]);
                }
                want[b * M * N + i * N + j] = s;
              }
            }
          }
          assertClose(C, want, 1e-4, 1e-5, `sgemmBatched tA${tA} tB${tB} shared${sharedA}`);
        }
      }
    }
  });

  test(`${tag} sgemmBatched: strided blocks in place (lda/ldb/ldc), beta accumulates, other columns untouched`, () => {
    const rng = new Rng(3);
    // Attention layout: batch b's [T, d] block of a [batch*T, H] tensor at row b*T, column c0 (row stride H).
    const [batch, T, d, H, c0] = [3, 5, 4, 11, 3];
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        // op(A) [T, T] from a contiguous [T, T] per batch (stride T*T + 2); op(B) [T, d] read in place from X.
        const sA = T * T + 2;
        const A = randArr(rng, batch * sA);
        const X = randArr(rng, batch * T * H);
        const C = randArr(rng, batch * T * H);
        const C0 = C.slice();
        // Stored B: [T, d] at stride H (tB=false) or [d, T]: use the transposed view of a [d, T] block with ldb = H.
        be.sgemmBatched(batch, tA, tB, T, d, T, 0.5, A, sA, X.subarray(c0), T * H, 0.25, C.subarray(c0), T * H, T, H, H);
        const want = Float64Array.from(C0);
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < T; i++) {
            for (let j = 0; j < d; j++) {
              let s = 0;
              for (let k = 0; k < T; k++) {
                const a = tA ? A[b * sA + k * T + i] : A[b * sA + i * T + k];
                const x = tB ? X[b * T * H + j * H + c0 + k] : X[b * T * H + k * H + c0 + j];
                s += a * x;
              }
              const o = b * T * H + i * H + c0 + j;
              want[o] = 0.5 * s + 0.25 * C0[o];
            }
          }
        }
        assertClose(C, want, 1e-4, 1e-5, `strided sgemmBatched tA${tA} tB${tB}`);
      }
    }
    assert.throws(() => be.sgemmBatched(2, false, false, 2, 2, 2, 1, new Float32Array(8), 4, new Float32Array(8), 4, 0,
      new Float32Array(16), 3, 2, 2, 4), /strideC/);
  });

  test(`${tag} sgemmBatched: outputs side by side in the same rows (the heads of one sequence), overlap still refused`, () => {
    const rng = new Rng(4);
    // nh problems: A_h [T, K] at column h*K of a [T, nh*K] matrix, B_h [K, d] at column h*d of [K, nh*d + 1], C_h [T, d]
    // at column h*d of a [T, nh*d + 1] matrix (stride d between problems, ldc = nh*d + 1; the last column untouched).
    const [nh, T, K, d] = [4, 7, 5, 3];
    const lda = nh * K, ldb = nh * d + 1, ldc = nh * d + 1;
    const A = randArr(rng, T * lda);
    const B = randArr(rng, K * ldb);
    const C = randArr(rng, T * ldc);
    const C0 = C.slice();
    be.sgemmBatched(nh, false, false, T, d, K, 1, A, K, B, d, 0.5, C, d, lda, ldb, ldc);
    const want = Float64Array.from(C0);
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[i * lda + h * K + k] * B[k * ldb + h * d + j];
          want[i * ldc + h * d + j] = s + 0.5 * C0[i * ldc + h * d + j];
        }
    assertClose(C, want, 1e-4, 1e-5, 'side-by-side sgemmBatched');
    // strideC < N (blocks overlapping in columns) and a last block past ldc are refused
    assert.throws(() => be.sgemmBatched(nh, false, false, T, d, K, 1, A, K, B, d, 0, C, d - 1, lda, ldb, ldc), /strideC/);
    assert.throws(() => be.sgemmBatched(nh, false, false, T, d, K, 1, A, K, B, d, 0, C, d + 1, lda, ldb, ldc), /strideC/);
  });

  test(`${tag} softmaxRows / logSoftmaxRows (also in place) and softmaxBackward`, () => {
    const rng = new Rng(3);
    const [rows, cols] = [5, 37];
    const x = randArr(rng, rows * cols, 4);
    x[3] = 80; // large logit: must not overflow
    const wantSm = new Float64Array(x.length);
    const wantLsm = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
      for (let j = 0; j < cols; j++) {
        wantSm[r * cols + j] = Math.exp(x[r * cols + j] - m) / s;
        wantLsm[r * cols + j] = x[r * cols + j] - m - Math.log(s);
      }
    }
    const sm = new Float32Array(x.length);
    be.softmaxRows(x, sm, rows, cols);
    assertClose(sm, wantSm, 1e-5, 1e-7, 'softmaxRows');
    const lsm = new Float32Array(x.length);
    be.logSoftmaxRows(x, lsm, rows, cols);
    assertClose(lsm, wantLsm, 1e-5, 1e-5, 'logSoftmaxRows');
    const inPlace = x.slice();
    be.softmaxRows(inPlace, inPlace, rows, cols);
    assertClose(inPlace, wantSm, 1e-5, 1e-7, 'softmaxRows in place');
    const inPlace2 = x.slice();
    be.logSoftmaxRows(inPlace2, inPlace2, rows, cols);
    assertClose(inPlace2, wantLsm, 1e-5, 1e-5, 'logSoftmaxRows in place');
    // backward vs the explicit Jacobian J = diag(y) - y y^T
    const dy = randArr(rng, x.length);
    const dx = new Float32Array(x.length);
    be.softmaxBackward(sm, dy, dx, rows, cols);
    const want = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        let s = 0;
        for (let j = 0; j < cols; j++) {
          const yi = sm[r * cols + i];
          const yj = sm[r * cols + j];
          s += dy[r * cols + j] * ((i === j ? yi : 0) - yi * yj);
        }
        want[r * cols + i] = s;
      }
    }
    assertClose(dx, want, 1e-4, 1e-6, 'softmaxBackward');
  });

  test(`${tag} layerNormForward/Backward vs float64 reference and finite differences`, () => {
    const rng = new Rng(4);
    const [rows, cols, eps] = [4, 24, 1e-5];
    const x = randArr(rng, rows * cols, 2);
    for (let j = 0; j < cols; j++) x[j] += 100; // large mean: needs a stable variance
    const g = rng.fillUniform(new Float32Array(cols), 0.5, 1.5);
    const b = randArr(rng, cols);
    const out = new Float32Array(x.length);
    const mean = new Float32Array(rows);
    const rstd = new Float32Array(rows);
    be.layerNormForward(x, g, b, out, mean, rstd, rows, cols, eps);
    assertClose(out, layerNormRef(x, g, b, cols, eps), 1e-4, 1e-4, 'layerNormForward');
    const dy = randArr(rng, x.length);
    const dx = new Float32Array(x.length);
    const dg = new Float32Array(cols).fill(0.25); // must accumulate onto existing values
    const db = new Float32Array(cols).fill(-0.5);
    be.layerNormBackward(dy, x, g, mean, rstd, dx, dg, db, rows, cols);
    const L = (xx: Float64Array, gg: Float32Array, bb: Float32Array): number => {
      const o = layerNormRef(xx, gg, bb, cols, eps);
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i] * dy[i];
      return s;
    };
    const x64 = Float64Array.from(x);
    const h = 1e-6;
    const wantDx = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const p = x64.slice();
      p[i] += h;
      const m = x64.slice();
      m[i] -= h;
      wantDx[i] = (L(p, g, b) - L(m, g, b)) / (2 * h);
    }
    assertClose(dx, wantDx, 2e-3, 2e-3, 'layerNormBackward dx');
    const wantDg = new Float64Array(cols);
    const wantDb = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        wantDg[j] += dy[r * cols + j] * (x[r * cols + j] - mean[r]) * rstd[r];
        wantDb[j] += dy[r * cols + j];
      }
    }
    for (let j = 0; j < cols; j++) {
      wantDg[j] += 0.25;
      wantDb[j] -= 0.5;
    }
    assertClose(dg, wantDg, 1e-3, 1e-4, 'layerNormBackward dgamma (accumulated)');
    assertClose(db, wantDb, 1e-4, 1e-5, 'layerNormBackward dbeta (accumulated)');
  });

  test(`${tag} gelu / geluBackward (erf and tanh forms) vs float64 reference`, () => {
    const n = 201;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -10 + (20 * i) / (n - 1) + 0.013;
    for (const tanhApprox of [false, true]) {
      const y = new Float32Array(n);
      be.gelu(x, y, n, tanhApprox);
      const want = Array.from(x, (v) => geluRef(v, tanhApprox));
      assertClose(y, want, 2e-6, 1e-7, `gelu tanh=${tanhApprox}`);
      const dy = new Float32Array(n).fill(1);
      const dx = new Float32Array(n);
      be.geluBackward(x, dy, dx, n, tanhApprox);
      const h = 1e-5;
      const wantD = Array.from(x, (v) => (geluRef(v + h, tanhApprox) - geluRef(v - h, tanhApprox)) / (2 * h));
      assertClose(dx, wantD, 1e-5, 1e-6, `geluBackward tanh=${tanhApprox}`);
      const inPlace = x.slice();
      be.gelu(inPlace, inPlace, n, tanhApprox);
      assertClose(inPlace, y, 0, 0, 'gelu in place');
    }
  });

  test(`${tag} gatherRows / scatterAddRows (repeats accumulate, out-of-range throws RangeError)`, () => {
    const rng = new Rng(5);
    const [V, H] = [7, 5];
    const table = randArr(rng, V * H);
    const idx = Int32Array.from([6, 0, 6, 3]);
    const out = new Float32Array(idx.length * H);
    be.gatherRows(table, idx, out, H);
    for (let i = 0; i < idx.length; i++) for (let j = 0; j < H; j++) assert.equal(out[i * H + j], table[idx[i] * H + j]);
    const grad = randArr(rng, idx.length * H);
    const tg = new Float32Array(V * H).fill(1);
    be.scatterAddRows(grad, idx, tg, H);
    const want = new Float64Array(V * H).fill(1);
    for (let i = 0; i < idx.length; i++) for (let j = 0; j < H; j++) want[idx[i] * H + j] += grad[i * H + j];
    assertClose(tg, want, 1e-6, 1e-6, 'scatterAddRows');
    assert.throws(() => be.gatherRows(table, Int32Array.from([0, 7]), new Float32Array(2 * H), H), RangeError);
    assert.throws(() => be.gatherRows(table, Int32Array.from([-1]), new Float32Array(H), H), RangeError);
  });

  test(`${tag} adamwStep matches the torch.optim.AdamW formula`, () => {
    const rng = new Rng(6);
    const n = 50;
    const p = randArr(rng, n);
    const g = randArr(rng, n);
    const m = randArr(rng, n, 0.1);
    const v = rng.fillUniform(new Float32Array(n), 0, 0.1);
    const [lr, b1, b2, eps, wd, t] = [1e-2, 0.9, 0.999, 1e-6, 0.01, 3];
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const wantP = new Float64Array(n);
    const wantM = new Float64Array(n);
    const wantV = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let pi = p[i] - lr * wd * p[i];
      wantM[i] = b1 * m[i] + (1 - b1) * g[i];
      wantV[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      pi -= (lr * (wantM[i] / bc1)) / (Math.sqrt(wantV[i] / bc2) + eps);
      wantP[i] = pi;
    }
    be.adamwStep(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2);
    assertClose(p, wantP, 1e-5, 1e-6, 'adamw param');
    assertClose(m, wantM, 1e-6, 1e-7, 'adamw m');
    assertClose(v, wantV, 1e-6, 1e-8, 'adamw v');
  });

  test(`${tag} topk vs full sort (ties by lower index), small and large k`, () => {
    const rng = new Rng(7);
    const [rows, cols] = [6, 300];
    const s = new Float32Array(rows * cols);
    for (let i = 0; i < s.length; i++) s[i] = rng.int(40) / 4; // many ties
    for (const k of [1, 5, 32, 33, 100, cols]) {
      const idx = new Int32Array(rows * k);
      const val = new Float32Array(rows * k);
      be.topk(s, rows, cols, k, idx, val);
      for (let r = 0; r < rows; r++) {
        const order = Array.from({ length: cols }, (_, j) => j).sort((a, b) => s[r * cols + b] - s[r * cols + a] || a - b);
        for (let t = 0; t < k; t++) {
          assert.equal(idx[r * k + t], order[t], `topk k=${k} row ${r} rank ${t}`);
          assert.equal(val[r * k + t], s[r * cols + order[t]]);
        }
      }
    }
  });
}

test('erf reference sanity (the test oracle itself)', () => {
  // values from Abramowitz & Stegun Table 7.1
  assertClose([erfRef(0.5), erfRef(1), erfRef(2), erfRef(3.5), erfRef(-1)], [0.5204998778, 0.8427007929, 0.995322265, 0.999999257, -0.8427007929], 1e-9, 1e-10, 'erfRef');
});

