/**
 * Native N-API backend tests: every kernel of the addon against the pure-TypeScript reference backend (js.ts,
 * relative tolerance 1e-4), on every GEMM micro-kernel this CPU can run (avx2, the avx512 tile emulated on AVX2,
 * generic; avx512 itself when present), own GEMM and OpenBLAS when linked, 1 and 2 threads, ragged edges, strides,
 * byte offsets, aliasing, sizes large enough to take the multi-threaded paths; plus argument validation (JS errors,
 * never a crash). The addon must be built (`npm run build:native`): a missing addon fails this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/engine/backend.js';
import { jsBackend } from '../../src/engine/backends/js.js';
import { nativeAddon, tryLoadNative } from '../../src/engine/backends/native.js';

const loaded = tryLoadNative();
if (!('backend' in loaded)) throw new Error(`native addon unavailable: ${loaded.error}`);
const nb: Backend = loaded.backend;
const addon = nativeAddon()!;

/** mulberry32: deterministic uniform floats in [lo, hi). */
function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

function rand(r: ReturnType<typeof rng>, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r(lo, hi);
  return a;
}

/** |got - want| <= rtol * max(|want|, scale) + atol elementwise; NaN must match NaN. */
function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-6, scale = 0): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= rtol * Math.max(Math.abs(w), scale) + atol)) {
      assert.fail(`${what}[${i}]: native ${g}, js ${w}`);
    }
  }
}

function rms(a: Float32Array): number {
  let s = 0;
  for (const v of a) if (Number.isFinite(v)) s += v * v;
  return Math.sqrt(s / Math.max(1, a.length));
}

function withThreads(n: number, fn: () => void): void {
  const old = nb.getThreads();
  nb.setThreads(n);
  try {
    fn();
  } finally {
    nb.setThreads(old);
  }
}

const kernels = ['avx512', 'avx2', 'avx512emu', 'generic'].filter((k) => {
  try {
    addon.setGemmKernel(k);
    return true;
  } catch {
    return false;
  }
});
addon.setGemmKernel('best');

type GemmCase = [boolean, boolean, number, number, number, number, number];

/** One sgemm on both backends with padded strides, a byte offset into every operand, and NaN in C when beta = 0. */
function checkGemm(c: GemmCase, seed: number, what: string): void {
  const [tA, tB, M, N, K, alpha, beta] = c;
  const r = rng(seed);
  const lda = (tA ? M : K) + (seed % 3);
  const ldb = (tB ? K : N) + ((seed >> 1) % 3);
  const ldc = N + ((seed >> 2) % 2);
  const off = 1 + (seed % 5);
  const A = rand(r, off + (tA ? K : M) * lda).subarray(off);
  const B = rand(r, off + (tB ? N : K) * ldb).subarray(off);
  const C0 = rand(r, off + M * ldc);
  if (beta === 0) C0.fill(NaN);
  const Cn = C0.slice().subarray(off);
  const Cj = C0.slice().subarray(off);
  nb.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cn, ldc);
  jsBackend.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cj, ldc);
  close(Cn, Cj, `${what} sgemm(${c.join(',')})`, 1e-4, 0, rms(Cj.map((v) => (Number.isNaN(v) ? 0 : v))) + 1e-3);
}

const gemmCases: GemmCase[] = [];
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    gemmCases.push([tA, tB, 1, 1, 1, 1, 0], [tA, tB, 5, 7, 3, 0.5, 0], [tA, tB, 13, 37, 29, -1.25, 0.75]);
    gemmCases.push([tA, tB, 33, 18, 300, 1, 1], [tA, tB, 150, 70, 517, 2, 0]); // > KC, > MC
  }
}
gemmCases.push([false, false, 7, 4100, 3, 1, 0.5]); // N > NC
gemmCases.push([false, false, 6, 16, 8, 1, 0], [false, false, 12, 32, 8, 1, 0]); // exact tiles
gemmCases.push([false, true, 300, 200, 64, 1, 0], [true, false, 64, 257, 128, 0.3, -2]); // threaded split M / N
// few rows, many columns, B stored [N, K] (small-M loop order: B panels packed as they are used), K > KC with a remainder
gemmCases.push([false, true, 23, 301, 300, 0.7, 0.5], [true, true, 141, 530, 70, 1, 0]);

test('native addon loads and reports its GEMM implementation', () => {
  assert.equal(nb.name, 'native');
  const info = addon.gemmInfo();
  assert.ok(['avx512', 'avx2', 'generic'].includes(info.kernel), info.kernel);
  assert.equal(addon.gemmImpl(), info.describe);
  assert.ok(kernels.includes('generic') && kernels.length >= 1);
  if (info.avx2) assert.ok(kernels.includes('avx2') && kernels.includes('avx512emu'));
  assert.ok(nb.getThreads() >= 1);
});

test('fmaPeak measures FMA throughput with the widest vectors and rejects bad arguments', () => {
  const info = addon.gemmInfo();
  const r = addon.fmaPeak(1, 50);
  assert.equal(r.isa, info.avx512f ? 'avx512' : info.avx2 ? 'avx2' : 'scalar');
  assert.equal(r.threads, 1);
  // A vector FMA loop does at least one flop per nanosecond on any machine that runs this suite.
  assert.ok(Number.isFinite(r.gflops) && r.gflops > 1, `gflops ${r.gflops}`);
  assert.throws(() => addon.fmaPeak(0, 50), /threads must be in \[1, 256\]/);
  assert.throws(() => addon.fmaPeak(1, -1), /ms must be in/);
  assert.throws(() => (addon.fmaPeak as (...a: unknown[]) => unknown)('2', 50), /threads/);
});

test('sgemm matches js for every micro-kernel, flags, alpha/beta, strides and offsets, 1 and 2 threads', () => {
  try {
    for (const k of kernels) {
      addon.setGemmKernel(k);
      addon.setGemmImpl('own');
      for (const th of [1, 2]) {
        // direct: narrow products (N <= 128) read A in place; off: every product packs A
        for (const direct of [true, false]) {
          addon.setGemmDirect(direct);
          withThreads(th, () => gemmCases.forEach((c, i) => checkGemm(c, 11 + i, `${k}/t${th}/direct ${direct}`)));
        }
        addon.setGemmDirect(true);
      }
    }
    assert.equal(addon.gemmInfo().directA, true);
    addon.setGemmKernel('best');
    if (addon.gemmInfo().openblas) {
      addon.setGemmImpl('openblas');
      gemmCases.forEach((c, i) => checkGemm(c, 101 + i, 'openblas'));
    } else {
      assert.throws(() => addon.setGemmImpl('openblas'), RangeError);
    }
  } finally {
    addon.setGemmKernel('best');
    addon.setGemmImpl('auto');
  }
});

test('sgemm edge cases: K = 0 scales C by beta, M = 0 / N = 0 do nothing, alpha = 0 ignores A and B', () => {
  const C = new Float32Array([1, 2, 3, 4]);
  nb.sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, new Float32Array(0), 2, 0.5, C, 2);
  assert.deepEqual(Array.from(C), [0.5, 1, 1.5, 2]);
  C.fill(NaN);
  nb.sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, new Float32Array(0), 2, 0, C, 2);
  assert.deepEqual(Array.from(C), [0, 0, 0, 0]);
  const D = new Float32Array([7, 8]);
  nb.sgemm(false, false, 0, 2, 3, 1, new Float32Array(0), 3, new Float32Array(6), 2, 0, D, 2);
  assert.deepEqual(Array.from(D), [7, 8]);
  const E = new Float32Array([1, 1]);
  nb.sgemm(false, false, 1, 2, 1, 0, new Float32Array([NaN]), 1, new Float32Array([NaN, NaN]), 2, 3, E, 2);
  assert.deepEqual(Array.from(E), [3, 3]);
});

test('sgemmBatched matches js (broadcast A, all flags, per-batch and parallel-over-batch paths)', () => {
  const r = rng(5);
  const cases: [number, boolean, boolean, number, number, number, boolean][] = [
    [1, false, false, 9, 10, 11, false],
    [3, true, false, 17, 5, 33, false],
    [32, false, true, 64, 64, 32, false], // attention scores Q K^T
    [32, false, false, 64, 32, 64, false], // probs @ V
    [16, true, true, 40, 24, 48, true], // broadcast A (strideA = 0)
    [2, false, false, 200, 160, 300, false], // few large problems: threaded inside each
  ];
  for (const th of [1, 2]) {
    withThreads(th, () => {
      for (const [batch, tA, tB, M, N, K, bcast] of cases) {
        const sA = bcast ? 0 : M * K;
        const A = rand(r, bcast ? M * K : batch * M * K);
        const B = rand(r, batch * K * N);
        const Cn = rand(r, batch * M * N);
        const Cj = Cn.slice();
        nb.sgemmBatched(batch, tA, tB, M, N, K, 0.7, A, sA, B, K * N, 0.25, Cn, M * N);
        jsBackend.sgemmBatched(batch, tA, tB, M, N, K, 0.7, A, sA, B, K * N, 0.25, Cj, M * N);
        close(Cn, Cj, `batched t${th} ${[batch, tA, tB, M, N, K].join(',')}`, 1e-4, 0, rms(Cj));
      }
    });
  }
});

/** Runs a (x -> out) row kernel on both backends, out-of-place and in place. */
function checkUnaryRows(name: 'softmaxRows' | 'logSoftmaxRows', x: Float32Array, rows: number, cols: number): void {
  const on = new Float32Array(rows * cols);
  const oj = new Float32Array(rows * cols);
  nb[name](x, on, rows, cols);
  jsBackend[name](x, oj, rows, cols);
  close(on, oj, `${name} ${rows}x${cols}`, 1e-4, 1e-6);
  const inPlace = x.slice();
  nb[name](inPlace, inPlace, rows, cols);
  close(inPlace, oj, `${name} in place`, 1e-4, 1e-6);
}

test('softmax / log-softmax match js: large magnitudes, masked (-inf) entries and rows, parallel sizes', () => {
  const r = rng(7);
  for (const [rows, cols, scale] of [[3, 1, 1], [5, 13, 4], [7, 64, 30], [64, 1000, 8], [512, 128, 3]] as const) {
    const x = rand(r, rows * cols, -scale, scale);
    for (let i = 0; i < x.length; i += 7) if (r(0, 1) < 0.3) x[i] = -Infinity;
    x.fill(-Infinity, 0, cols); // a fully masked row
    for (let i = cols; i < x.length; i += 11) x[i] += 1e4 * (rows > 5 ? 1 : 0);
    checkUnaryRows('softmaxRows', x, rows, cols);
    checkUnaryRows('logSoftmaxRows', x.map((v) => (v === -Infinity ? -1e4 : v)), rows, cols);
  }
});

test('softmaxBackward matches js (also with dx aliasing dy)', () => {
  const r = rng(8);
  for (const [rows, cols] of [[2, 3], [9, 77], [256, 256]] as const) {
    const y = new Float32Array(rows * cols);
    jsBackend.softmaxRows(rand(r, rows * cols, -3, 3), y, rows, cols);
    const dy = rand(r, rows * cols);
    const dn = new Float32Array(rows * cols);
    const dj = new Float32Array(rows * cols);
    nb.softmaxBackward(y, dy, dn, rows, cols);
    jsBackend.softmaxBackward(y, dy, dj, rows, cols);
    close(dn, dj, `softmaxBackward ${rows}x${cols}`, 1e-4, 1e-6);
    const alias = dy.slice();
    nb.softmaxBackward(y, alias, alias, rows, cols);
    close(alias, dj, 'softmaxBackward aliased', 1e-4, 1e-6);
  }
});

test('layerNorm forward/backward match js; dgamma/dbeta accumulate; serial and parallel row splits', () => {
  const r = rng(9);
  for (const th of [1, 2]) {
    withThreads(th, () => {
      // eps = 1e-12 as in BERT; the 1-column case (x - mean = 0) uses 1e-5 so rstd does not amplify rounding by 1e6
      for (const [rows, cols, shift, eps] of [[1, 1, 0, 1e-5], [3, 7, 5, 1e-12], [17, 256, 100, 1e-12], [128, 512, 0.5, 1e-12], [300, 129, 2, 1e-12]] as const) {
        const x = rand(r, rows * cols, shift - 2, shift + 2);
        const gamma = rand(r, cols, 0.5, 1.5);
        const beta = rand(r, cols);
        const outs = [nb, jsBackend].map((b) => {
          const out = new Float32Array(rows * cols);
          const mean = new Float32Array(rows);
          const rstd = new Float32Array(rows);
          b.layerNormForward(x, gamma, beta, out, mean, rstd, rows, cols, eps);
          return { out, mean, rstd };
        });
        const what = `layerNorm t${th} ${rows}x${cols}`;
        close(outs[0].out, outs[1].out, `${what} out`, 1e-4, 1e-5);
        close(outs[0].mean, outs[1].mean, `${what} mean`, 1e-5, 1e-6);
        close(outs[0].rstd, outs[1].rstd, `${what} rstd`, 1e-4, 1e-6);
        const dy = rand(r, rows * cols);
        const dg0 = rand(r, cols);
        const db0 = rand(r, cols);
        const grads = [nb, jsBackend].map((b) => {
          const dx = new Float32Array(rows * cols);
          const dgamma = dg0.slice();
          const dbeta = db0.slice();
          b.layerNormBackward(dy, x, gamma, outs[1].mean, outs[1].rstd, dx, dgamma, dbeta, rows, cols);
          return { dx, dgamma, dbeta };
        });
        close(grads[0].dx, grads[1].dx, `${what} dx`, 1e-4, 1e-5, rms(grads[1].dx));
        close(grads[0].dgamma, grads[1].dgamma, `${what} dgamma`, 1e-4, 1e-5, rms(grads[1].dgamma));
        close(grads[0].dbeta, grads[1].dbeta, `${what} dbeta`, 1e-4, 1e-5, rms(grads[1].dbeta));
      }
    });
  }
});

test('GELU (erf and tanh forms) forward/backward match js to 1e-4 relative / 1e-6 absolute, in place too', () => {
  const r = rng(10);
  const n = 200_000; // parallel path
  const x = rand(r, n, -6, 6);
  for (let i = 0; i < 2401; i++) x[i] = -12 + i * 0.01; // dense sweep including both tails
  x[2401] = 0;
  x[2402] = -0;
  x[2403] = 40;
  x[2404] = -40;
  const dy = rand(r, n);
  for (const tanhApprox of [false, true]) {
    const on = new Float32Array(n);
    const oj = new Float32Array(n);
    nb.gelu(x, on, n, tanhApprox);
    jsBackend.gelu(x, oj, n, tanhApprox);
    close(on, oj, `gelu tanh=${tanhApprox}`, 1e-4, 1e-6);
    const inPlace = x.slice();
    nb.gelu(inPlace, inPlace, n, tanhApprox);
    close(inPlace, oj, `gelu in place tanh=${tanhApprox}`, 1e-4, 1e-6);
    const dn = new Float32Array(n);
    const dj = new Float32Array(n);
    nb.geluBackward(x, dy, dn, n, tanhApprox);
    jsBackend.geluBackward(x, dy, dj, n, tanhApprox);
    close(dn, dj, `geluBackward tanh=${tanhApprox}`, 1e-4, 1e-6);
    const alias = dy.slice();
    nb.geluBackward(x, alias, alias, n, tanhApprox);
    close(alias, dj, `geluBackward aliased tanh=${tanhApprox}`, 1e-4, 1e-6);
  }
});

test('gelu / geluBackward: NaN, infinities and the exp clamps give what the js backend gives, in the 32-wide, 8-wide and tail lanes', () => {
  // The AVX2 kernels run 32 floats per step, then 8, then a scalar tail; each special value sits in each part.
  const specials = [NaN, Infinity, -Infinity, 88.5, -88.5, 13.3, -13.3, 1e30, -1e30, 0, -0, 1e-30];
  const n = 32 + 8 + 5;
  for (const tanhApprox of [false, true])
    for (const s of specials)
      for (const at of [3, 35, 42]) {
        const x = new Float32Array(n).map((_, i) => -3 + i * 0.13);
        x[at] = s;
        const dy = new Float32Array(n).fill(0.5);
        const [on, oj, dn, dj] = [0, 1, 2, 3].map(() => new Float32Array(n));
        nb.gelu(x, on, n, tanhApprox);
        jsBackend.gelu(x, oj, n, tanhApprox);
        nb.geluBackward(x, dy, dn, n, tanhApprox);
        jsBackend.geluBackward(x, dy, dj, n, tanhApprox);
        for (const [a, b, what] of [[on, oj, 'gelu'], [dn, dj, 'geluBackward']] as const) {
          const tag = `${what}(${s}) at ${at}, tanh=${tanhApprox}`;
          if (Number.isNaN(b[at])) assert.ok(Number.isNaN(a[at]), `${tag}: got ${a[at]}, expected NaN`);
          else assert.ok(a[at] === b[at] || Math.abs(a[at] - b[at]) <= 1e-6 + 1e-5 * Math.abs(b[at]), `${tag}: got ${a[at]}, expected ${b[at]}`);
          close(a.filter((_, i) => i !== at), b.filter((_, i) => i !== at), `${tag}, other lanes`, 1e-4, 1e-6);
        }
      }
});

test('gatherRows / scatterAddRows match js, repeated indices accumulate, serial and column-parallel paths', () => {
  const r = rng(11);
  for (const th of [1, 2]) {
    withThreads(th, () => {
      for (const [tableRows, cols, n] of [[5, 3, 9], [50, 128, 2000], [30522 >> 6, 256, 1024]] as const) {
        const table = rand(r, tableRows * cols);
        const idx = new Int32Array(n);
        for (let i = 0; i < n; i++) idx[i] = i % 4 === 0 ? 0 : Math.floor(r(0, tableRows)); // many repeats of row 0
        const gn = new Float32Array(n * cols);
        const gj = new Float32Array(n * cols);
        nb.gatherRows(table, idx, gn, cols);
        jsBackend.gatherRows(table, idx, gj, cols);
        assert.deepEqual(gn, gj, 'gatherRows is an exact copy');
        const grad = rand(r, n * cols);
        const tn = rand(r, tableRows * cols);
        const tj = tn.slice();
        nb.scatterAddRows(grad, idx, tn, cols);
        jsBackend.scatterAddRows(grad, idx, tj, cols);
        close(tn, tj, `scatterAddRows t${th} ${tableRows}x${cols} n=${n}`, 1e-4, 1e-5);
      }
    });
  }
});

test('adamwStep matches js over several steps (decoupled weight decay, bias correction)', () => {
  const r = rng(12);
  const n = 100_003;
  const pn = rand(r, n);
  const pj = pn.slice();
  const mn = new Float32Array(n);
  const vn = new Float32Array(n);
  const mj = new Float32Array(n);
  const vj = new Float32Array(n);
  const [b1, b2] = [0.9, 0.999];
  for (let t = 1; t <= 4; t++) {
    const g = rand(r, n, -0.5, 0.5);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    nb.adamwStep(pn, g, mn, vn, 1e-3, b1, b2, 1e-6, 0.01, bc1, bc2);
    jsBackend.adamwStep(pj, g, mj, vj, 1e-3, b1, b2, 1e-6, 0.01, bc1, bc2);
  }
  close(pn, pj, 'adamw param', 1e-4, 1e-6);
  close(mn, mj, 'adamw m', 1e-4, 1e-7);
  close(vn, vj, 'adamw v', 1e-4, 1e-9);
});

test('topk matches js: ties by lower index, NaN last, k = 1 and k = cols, heap and sort paths', () => {
  const r = rng(13);
  for (const [rows, cols, k] of [[1, 1, 1], [4, 10, 10], [3, 50, 1], [8, 1000, 5], [64, 2048, 100], [200, 300, 10]] as const) {
    const s = rand(r, rows * cols);
    for (let i = 0; i < s.length; i++) {
      const u = r(0, 1);
      if (u < 0.2) s[i] = Math.round(s[i] * 4) / 4; // many exact ties
      else if (u < 0.22) s[i] = NaN;
    }
    const [inx, ij] = [new Int32Array(rows * k), new Int32Array(rows * k)];
    const [vn, vj] = [new Float32Array(rows * k), new Float32Array(rows * k)];
    nb.topk(s, rows, cols, k, inx, vn);
    jsBackend.topk(s, rows, cols, k, ij, vj);
    assert.deepEqual(inx, ij, `topk indices ${rows}x${cols} k=${k}`);
    assert.deepEqual(vn, vj, `topk values ${rows}x${cols} k=${k}`);
  }
});

test('bad arguments throw TypeError / RangeError naming the function and argument (no crash)', () => {
  const f = new Float32Array(16);
  const i32 = new Int32Array(4);
  assert.throws(() => nb.sgemm(false, false, 2, 2, 2, 1, new Float64Array(4) as unknown as Float32Array, 2, f, 2, 0, f, 2), {
    name: 'TypeError',
    message: /sgemm: A must be a Float32Array/,
  });
  assert.throws(() => nb.sgemm(false, false, 4, 4, 4, 1, f, 4, f.subarray(1), 4, 0, new Float32Array(16), 4), {
    name: 'RangeError',
    message: /sgemm: B has 15 elements/,
  });
  assert.throws(() => nb.sgemm(false, false, 2, 2, 2, 1, f, 1, f, 2, 0, new Float32Array(4), 2), /lda/);
  assert.throws(() => nb.sgemm(false, false, 2, 2, 2, 1, f, 2, f, 2, 0, f, 2), /C must not overlap/);
  assert.throws(() => nb.sgemm(false, false, -1, 2, 2, 1, f, 2, f, 2, 0, f, 2), RangeError);
  assert.throws(() => nb.sgemm(false, false, 1.5, 2, 2, 1, f, 2, f, 2, 0, f, 2), RangeError);
  assert.throws(() => (nb.sgemm as (...a: unknown[]) => void)(0, false, 2, 2, 2, 1, f, 2, f, 2, 0, f, 2), TypeError);
  assert.throws(() => nb.sgemmBatched(4, false, false, 2, 2, 2, 1, f, 4, f, 4, 0, new Float32Array(15), 4), {
    name: 'RangeError',
    message: /sgemmBatched: C has 15 elements/,
  });
  assert.throws(() => nb.softmaxRows(f, new Float32Array(15), 4, 4), /softmaxRows: out has 15 elements/);
  assert.throws(() => nb.layerNormForward(f, f.subarray(0, 3), f, f, f, f, 4, 4, 1e-5), /gamma/);
  assert.throws(() => nb.gelu(f, f, 17, false), RangeError);
  assert.throws(() => nb.gelu(f, f, 16, 1 as unknown as boolean), TypeError);
  assert.throws(() => nb.gatherRows(f, new Int32Array([0, 4]), new Float32Array(8), 4), {
    name: 'RangeError',
    message: /gatherRows: idx\[1\] = 4 is out of range/,
  });
  assert.throws(() => nb.scatterAddRows(f, new Int32Array([-1]), f, 4), /out of range/);
  assert.throws(() => nb.gatherRows(f, new Float32Array(2) as unknown as Int32Array, f, 4), TypeError);
  assert.throws(() => nb.topk(f, 2, 8, 0, i32, f), /topk: k = 0 must satisfy 1 <= k <= cols = 8/);
  assert.throws(() => nb.topk(f, 2, 8, 9, i32, f), RangeError);
  assert.throws(() => nb.topk(f, 2, 8, 3, i32, f), /outIdx has 4 elements/);
  assert.throws(() => nb.adamwStep(f, f.subarray(1), f, f, 1e-3, 0.9, 0.999, 1e-8, 0, 1, 1), /grad/);
  assert.throws(() => nb.adamwStep(f, f, f, f, NaN, 0.9, 0.999, 1e-8, 0, 1, 1), /lr must be finite/);
  assert.throws(() => nb.setThreads(0), RangeError);
  assert.throws(() => addon.setGemmImpl('magic'), RangeError);
  assert.throws(() => addon.setGemmKernel('sse9'), RangeError);
});

test('portable paths: this whole file passes again with REALM_CPU=baseline (generic GEMM, non-AVX2 kernel clones)', () => {
  if (process.env.REALM_CPU === 'baseline') {
    assert.equal(addon.gemmInfo().kernel, 'generic');
    assert.deepEqual(kernels, ['generic']);
    return;
  }
  const file = fileURLToPath(import.meta.url);
  const env: NodeJS.ProcessEnv = { ...process.env, REALM_CPU: 'baseline' };
  delete env.NODE_TEST_CONTEXT; // a plain (not nested) test run, so it reports its own TAP summary
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `baseline run failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /# fail 0/);
});
