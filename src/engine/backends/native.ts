/**
 * Loader for the native N-API backend: the C++ addon built from `native/src` (binding.gyp) into
 * `build/Release/realm_native.node` — BLIS-style AVX2/AVX-512 GEMM (or OpenBLAS when linked and faster), vectorised
 * multi-threaded softmax / LayerNorm / GELU / AdamW / top-k kernels, and the knowledge-index kernels.
 *
 * `tryLoadNative()` wraps the addon as a `Backend` (name 'native'); `nativeAddon()` exposes the raw addon object
 * (index kernels, GEMM implementation controls). The package root is found by walking up from this file, so the
 * same code works from `src/` (tsx) and from `dist/src/` (tsc output). `REALM_NATIVE_PATH` overrides the .node path.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backend.js';
import { findPackageRoot } from '../../packageRoot.js';

/** What the GEMM runs: implementation mode, micro-kernel and CPU features (`addon.gemmInfo()`). */
export interface NativeGemmInfo {
  /** 'auto' (per call, whichever measured faster), 'own' or 'openblas'. */
  mode: 'auto' | 'own' | 'openblas';
  /** Micro-kernel of our own GEMM: 'avx512' | 'avx2' | 'avx512emu' | 'generic'. */
  kernel: string;
  /** Whether OpenBLAS was found and linked at build time. */
  openblas: boolean;
  /** CPU has AVX2 + FMA. */
  avx2: boolean;
  /** CPU has AVX-512F (with OS support). */
  avx512f: boolean;
  /** Same as gemmImpl(), e.g. 'auto(own(avx2)|openblas)'. */
  describe: string;
  /** Whether narrow products read A unpacked (setGemmDirect). */
  directA: boolean;
}

/** The raw addon: the Backend kernels (same argument order) plus native-only controls and index kernels. */
export type NativeAddon = Omit<Backend, 'name'> & {
  /** Human-readable GEMM implementation, e.g. 'own(avx2)', 'openblas', 'auto(own(avx2)|openblas)'. */
  gemmImpl(): string;
  gemmInfo(): NativeGemmInfo;
  /** Forces the GEMM implementation ('auto' | 'own' | 'openblas'); RangeError if unavailable. */
  setGemmImpl(mode: string): void;
  /** Forces our GEMM's micro-kernel ('avx512' | 'avx2' | 'avx512emu' | 'generic' | 'best'); RangeError if unsupported. */
  setGemmKernel(kernel: string): void;
  /** Narrow products (N <= 128) read A unpacked instead of packing it (default true; for tests and A/B runs). */
  setGemmDirect(on: boolean): void;
  /**
   * Measured FMA throughput: `threads` OS threads each run independent fused multiply-adds (widest vectors the CPU
   * has) for `ms` milliseconds at once; their total GFLOP/s. Benchmarks report efficiency against it.
   */
  fmaPeak(threads: number, ms: number): { gflops: number; threads: number; isa: string };
  /** Further exports registered by other native files (index kernels, ...). */
  [name: string]: unknown;
};

let cached: { addon: NativeAddon } | { error: string } | null = null;

/** The package root (see src/packageRoot.ts); throws when realm-lm's package.json cannot be found. */
function packageRoot(): string {
  const root = findPackageRoot();
  if (root === null) throw new Error('cannot find the realm-lm package root above ' + fileURLToPath(import.meta.url));
  return root;
}

function load(): { addon: NativeAddon } | { error: string } {
  if (cached) return cached;
  try {
    const root = packageRoot();
    const path = process.env.REALM_NATIVE_PATH ?? join(root, 'build', 'Release', 'realm_native.node');
    if (!existsSync(path)) {
      cached = { error: `native addon not built (${path} is missing; run \`npm run build:native\`)` };
    } else {
      const addon = createRequire(join(root, 'package.json'))(path) as NativeAddon;
      if (typeof addon.sgemm !== 'function' || typeof addon.topk !== 'function' || typeof addon.axpby !== 'function' ||
        typeof addon.linearForward !== 'function' || typeof addon.softmaxCrossEntropy !== 'function') {
        cached = { error: `${path} does not export the engine kernels (stale build? run \`npm run build:native\`)` };
      } else {
        cached = { addon };
      }
    }
  } catch (e) {
    cached = { error: `native addon failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  return cached;
}

/** The raw addon object, or null when it is not built or fails to load. */
export function nativeAddon(): NativeAddon | null {
  const r = load();
  return 'addon' in r ? r.addon : null;
}

/** Loads the compiled addon as a Backend, or explains why it could not. */
export function tryLoadNative(): { backend: Backend } | { error: string } {
  const r = load();
  if (!('addon' in r)) return r;
  const a = r.addon;
  const backend: Backend = {
    name: 'native',
    getThreads: () => a.getThreads(),
    setThreads: (n) => a.setThreads(n),
    sgemm: (tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) =>
      a.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc),
    sgemmBatched: (batch, tA, tB, M, N, K, alpha, A, sA, B, sB, beta, C, sC, lda, ldb, ldc) =>
      a.sgemmBatched(batch, tA, tB, M, N, K, alpha, A, sA, B, sB, beta, C, sC,
        lda ?? (tA ? M : K), ldb ?? (tB ? K : N), ldc ?? N),
    softmaxRows: (x, out, rows, cols) => a.softmaxRows(x, out, rows, cols),
    logSoftmaxRows: (x, out, rows, cols) => a.logSoftmaxRows(x, out, rows, cols),
    softmaxBackward: (y, dy, dx, rows, cols) => a.softmaxBackward(y, dy, dx, rows, cols),
    layerNormForward: (x, gamma, beta, out, mean, rstd, rows, cols, eps) =>
      a.layerNormForward(x, gamma, beta, out, mean, rstd, rows, cols, eps),
    layerNormBackward: (dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols) =>
      a.layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols),
    gelu: (x, out, n, tanhApprox) => a.gelu(x, out, n, tanhApprox),
    geluBackward: (x, dy, dx, n, tanhApprox) => a.geluBackward(x, dy, dx, n, tanhApprox),
    gatherRows: (table, idx, out, cols) => a.gatherRows(table, idx, out, cols),
    scatterAddRows: (grad, idx, tableGrad, cols) => a.scatterAddRows(grad, idx, tableGrad, cols),
    adamwStep: (param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2) =>
      a.adamwStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2),
    dropoutApply: (x, out, n, p, seed0, seed1) => a.dropoutApply(x, out, n, p, seed0, seed1),
    softmaxRowsBias: (x, bias, out, rows, cols, rowsPerBias) => a.softmaxRowsBias(x, bias, out, rows, cols, rowsPerBias),
    linearForward: (x, w, bias, pre, out, rows, nIn, nOut, act) => a.linearForward(x, w, bias, pre, out, rows, nIn, nOut, act),
    geluBackwardColSums: (x, dy, dx, rows, cols, tanhApprox, colSums) =>
      a.geluBackwardColSums(x, dy, dx, rows, cols, tanhApprox, colSums),
    softmaxCrossEntropy: (logits, targets, rows, cols, ignoreIndex, scale, grad, loss) =>
      a.softmaxCrossEntropy(logits, targets, rows, cols, ignoreIndex, scale, grad, loss),
    addRowBias: (x, bias, rows, cols) => a.addRowBias(x, bias, rows, cols),
    colSums: (x, rows, cols, out) => a.colSums(x, rows, cols, out),
    axpby: (alpha, x, beta, y, out, n) => a.axpby(alpha, x, beta, y, out, n),
    topk: (scores, rows, cols, k, outIdx, outVal) => a.topk(scores, rows, cols, k, outIdx, outVal),
  };
  return { backend: Object.freeze(backend) };
}
