/**
 * Matrix products with autograd: `matmul` (2-D shared weight or batched, with transpose flags passed straight to the
 * backend sgemm instead of materialising transposes) and `linear` (x @ W^T + b, the BERT dense layer, one sgemm).
 */
import { allocUninit } from '../pool.js';
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import type { Backend } from '../backend.js';
import { Tensor, TensorError, shapeSize, sameShape } from './util.js';

/** Options of `matmul`. */
export interface MatmulOptions {
  /** a is stored [..., K, M] and used transposed. */
  transA?: boolean;
  /** b is stored [..., N, K] (PyTorch Linear weight layout [out, in] when 2-D) and used transposed. */
  transB?: boolean;
  /** Scalar multiplier folded into the sgemm (e.g. 1/sqrt(d) for attention scores). Default 1. */
  alpha?: number;
}

function fmt(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * One (possibly broadcast) batched product on raw arrays: C[i] (+)= op(A[i]) op(B[i]).
 * stride 0 on A or B broadcasts it; when C's stride is 0 (summing over the batch) calls are serialised with beta = 1.
 */
function gemmBatch(
  be: Backend, batch: number, tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, sA: number, B: Float32Array, sB: number, C: Float32Array, sC: number,
): void {
  if (batch === 1) {
    be.sgemm(tA, tB, M, N, K, alpha, A, tA ? M : K, B, tB ? K : N, 0, C, N);
  } else if (sC === 0) {
    for (let i = 0; i < batch; i++) {
      be.sgemm(tA, tB, M, N, K, alpha, A.subarray(i * sA), tA ? M : K, B.subarray(i * sB), tB ? K : N, i === 0 ? 0 : 1, C, N);
    }
  } else {
    be.sgemmBatched(batch, tA, tB, M, N, K, alpha, A, sA, B, sB, 0, C, sC);
  }
}

/**
 * a [..., M, K] @ b, where b is [K, N] (one weight shared across all leading dims: a single sgemm over
 * prod(leading) * M rows) or b [..., K, N] with the same leading dims as a (batched; either side may also be plain
 * 2-D to broadcast). transA / transB mean the operand is stored with its last two axes swapped.
 * Result: [..., M, N], times opts.alpha when given (attention: matmul(q, k, { transB: true, alpha: 1 / sqrt(d) })).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const tA = !!opts.transA;
  const tB = !!opts.transB;
  const alpha = opts.alpha ?? 1;
  if (a.ndim < 2 || b.ndim < 2) throw new TensorError(`matmul: operands must be at least 2-D, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const aLead = a.shape.slice(0, -2);
  const bLead = b.shape.slice(0, -2);
  const [aR, aC] = a.shape.slice(-2);
  const [bR, bC] = b.shape.slice(-2);
  const M = tA ? aC : aR;
  const K = tA ? aR : aC;
  const Kb = tB ? bC : bR;
  const N = tB ? bR : bC;
  if (K !== Kb) {
    throw new TensorError(`matmul: inner dims differ: a ${fmt(a.shape)}${tA ? '^T' : ''} vs b ${fmt(b.shape)}${tB ? '^T' : ''}`);
  }
  if (aLead.length > 0 && bLead.length > 0 && !sameShape(aLead, bLead)) {
    throw new TensorError(`matmul: batch dims differ: a ${fmt(a.shape)} vs b ${fmt(b.shape)} (no broadcasting of batch dims)`);
  }
  const lead = aLead.length > 0 ? aLead : bLead;
  const batch = shapeSize(lead);
  const be = getBackend();
  const outShape = [...lead, M, N];
  const C = allocUninit(shapeSize(outShape));
  const sA = aLead.length > 0 ? M * K : 0;
  const sB = bLead.length > 0 ? K * N : 0;
  // Shared 2-D weight and untransposed a: fold the batch into rows (one big sgemm).
  const fold = bLead.length === 0 && !tA;
  if (fold) {
    be.sgemm(false, tB, batch * M, N, K, alpha, a.data, K, b.data, tB ? K : N, 0, C, N);
  } else {
    gemmBatch(be, batch, tA, tB, M, N, K, alpha, a.data, sA, b.data, sB, C, M * N);
  }
  const out = new Tensor(C, outShape);
  return record(out, [a, b], 'matmul', (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      ga = allocUninit(a.size);
      if (fold) {
        // dA [rows, K] = dC [rows, N] @ op(B)^T
        be.sgemm(false, !tB, batch * M, K, N, alpha, g, N, b.data, tB ? K : N, 0, ga, K);
      } else if (!tA) {
        // dA[i] [M, K] = dC[i] @ op(B[i])^T
        gemmBatch(be, batch, false, !tB, M, K, N, alpha, g, M * N, b.data, sB, ga, sA);
      } else {
        // A stored [K, M]: dA[i] = op(B[i]) @ dC[i]^T  [K, M]
        gemmBatch(be, batch, tB, true, K, M, N, alpha, b.data, sB, g, M * N, ga, sA);
      }
    }
    if (b.requiresGrad) {
      gb = allocUninit(b.size);
      if (fold) {
        if (!tB) be.sgemm(true, false, K, N, batch * M, alpha, a.data, K, g, N, 0, gb, N); // dB [K, N] = A^T dC
        else be.sgemm(true, false, N, K, batch * M, alpha, g, N, a.data, K, 0, gb, K); // dB [N, K] = dC^T A
      } else if (!tB) {
        // dB[i] [K, N] = op(A[i])^T @ dC[i]
        gemmBatch(be, batch, !tA, false, K, N, M, alpha, a.data, sA, g, M * N, gb, sB);
      } else {
        // B stored [N, K]: dB[i] = dC[i]^T @ op(A[i])  [N, K]
        gemmBatch(be, batch, true, tA, N, K, M, alpha, g, M * N, a.data, sA, gb, sB);
      }
    }
    return [ga, gb];
  });
}

/**
 * Dense layer: x [..., in] @ weight^T + bias with weight [out, in] (PyTorch layout) and optional bias [out].
 * Forward is one sgemm accumulating onto bias-initialised rows; bias gradient = column sums of dy.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) throw new TensorError(`linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  const [nOut, nIn] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== nIn) {
    throw new TensorError(`linear: x ${fmt(x.shape)} last dim must equal weight in-features ${nIn} (weight ${fmt(weight.shape)})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== nOut)) {
    throw new TensorError(`linear: bias must be [${nOut}], got ${fmt(bias.shape)}`);
  }
  const rows = x.size / nIn;
  const be = getBackend();
  const outShape = [...x.shape.slice(0, -1), nOut];
  const y = allocUninit(rows * nOut);
  if (bias) {
    for (let r = 0; r < rows; r++) y.set(bias.data, r * nOut);
  }
  if (rows > 0) be.sgemm(false, true, rows, nOut, nIn, 1, x.data, nIn, weight.data, nIn, bias ? 1 : 0, y, nOut);
  const out = new Tensor(y, outShape);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, inputs, 'linear', (g) => {
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    let gbias: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = allocUninit(x.size);
      be.sgemm(false, false, rows, nIn, nOut, 1, g, nOut, weight.data, nIn, 0, gx, nIn); // dx = dy @ W
    }
    if (weight.requiresGrad) {
      gw = allocUninit(weight.size);
      be.sgemm(true, false, nOut, nIn, rows, 1, g, nOut, x.data, nIn, 0, gw, nIn); // dW = dy^T @ x
    }
    if (bias && bias.requiresGrad) {
      const acc = new Float64Array(nOut);
      for (let r = 0; r < rows; r++) {
        const o = r * nOut;
        for (let j = 0; j < nOut; j++) acc[j] += g[o + j];
      }
      gbias = Float32Array.from(acc);
    }
    return bias ? [gx, gw, gbias] : [gx, gw];
  });
}
