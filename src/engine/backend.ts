/**
 * The kernel interface every compute backend implements: the hot loops of BERT/REALM training and MIPS search.
 *
 * Two implementations share this contract: `native` (the C++ N-API addon in `native/`, vectorised and multi-threaded)
 * and `js` (pure TypeScript, always available, the reference in tests). Autograd ops in `src/engine/ops/` call only
 * these functions for heavy work, so a test suite run against both backends checks them against each other.
 *
 * Conventions: all matrices are row-major Float32Array views (pass `subarray`s for offsets); integer indices are
 * Int32Array; outputs are written into caller-allocated arrays; nothing allocates a result unless it says so.
 */

export interface Backend {
  /** "native" or "js". */
  readonly name: 'native' | 'js';

  /** Worker threads used by multi-threaded kernels (native only; js returns 1). */
  getThreads(): number;
  setThreads(n: number): void;

  /**
   * C = alpha * op(A) @ op(B) + beta * C, BLAS sgemm semantics in row-major storage.
   * op(A) is [M, K]: A is stored [M, K] with row stride lda (transA=false) or [K, M] with stride lda (transA=true).
   * op(B) is [K, N]: B is stored [K, N] (transB=false) or [N, K] (transB=true), row stride ldb. C is [M, N], stride ldc.
   * beta = 0 means C is overwritten (its old contents, even NaN, are ignored).
   */
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number,
    beta: number, C: Float32Array, ldc: number,
  ): void;

  /**
   * `batch` independent sgemms. Matrix i of A starts at i * strideA (strideA = 0 broadcasts one A to every batch),
   * likewise B and C. lda/ldb/ldc default to the natural row lengths of each stored matrix (contiguous operands);
   * pass them to address strided blocks in place, e.g. one attention head of every sequence in a [B*T, H] tensor.
   * Outputs must not overlap: when batch > 1, strideC >= (M - 1) * ldc + N (blocks one below the other), or
   * strideC >= N with (batch - 1) * strideC + N <= ldc (blocks side by side in the same rows, e.g. attention heads).
   */
  sgemmBatched(
    batch: number, transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: Float32Array, strideA: number, B: Float32Array, strideB: number,
    beta: number, C: Float32Array, strideC: number, lda?: number, ldb?: number, ldc?: number,
  ): void;

  /** Row-wise softmax of x [rows, cols] into out (may alias x). */
  softmaxRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** Row-wise log-softmax of x [rows, cols] into out (may alias x). */
  logSoftmaxRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** Softmax backward, row-wise: dx = y * (dy - sum(dy * y)); y is the softmax output. dx may alias dy. */
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;

  /**
   * LayerNorm forward over the last axis: out = (x - mean) * rstd * gamma + beta, x [rows, cols].
   * Writes per-row mean and rstd (= 1/sqrt(var + eps), biased variance) for the backward pass.
   */
  layerNormForward(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number,
  ): void;
  /** LayerNorm backward: writes dx; ACCUMULATES (+=) into dgamma and dbeta. */
  layerNormBackward(
    dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number,
  ): void;

  /** GELU: erf form (tanhApprox=false) or tanh approximation "gelu_new" (tanhApprox=true). out may alias x. */
  gelu(x: Float32Array, out: Float32Array, n: number, tanhApprox: boolean): void;
  /** dx = dy * GELU'(x). dx may alias dy. */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, tanhApprox: boolean): void;

  /** out[i, :] = table[idx[i], :] for i < idx.length; table [*, cols]. Throws RangeError on an out-of-range index. */
  gatherRows(table: Float32Array, idx: Int32Array, out: Float32Array, cols: number): void;
  /** tableGrad[idx[i], :] += grad[i, :] (repeated indices accumulate). */
  scatterAddRows(grad: Float32Array, idx: Int32Array, tableGrad: Float32Array, cols: number): void;

  /**
   * Fused AdamW update of one parameter (decoupled weight decay, as torch.optim.AdamW):
   *   p -= lr * weightDecay * p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
   *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)   with bc1 = 1 - b1^t, bc2 = 1 - b2^t.
   */
  adamwStep(
    param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
  ): void;

  /**
   * Counter-based inverted dropout: out[i] = x[i] / (1 - p) when dropHash(i, seed0, seed1) >= ceil(p * 2^32), else 0
   * (dropHash: src/engine/backends/js.ts; every backend drops the same elements). The mask is a pure function of
   * (seed, i), so backward re-applies it to the gradient with the same seeds instead of storing it. out may alias x.
   * seed0, seed1 are integers in [0, 2^32); 0 <= p < 1.
   */
  dropoutApply(x: Float32Array, out: Float32Array, n: number, p: number, seed0: number, seed1: number): void;
  /**
   * Row-wise softmax with an additive bias shared by groups of rows: out[r] = softmax(x[r] + bias[floor(r /
   * rowsPerBias)]), bias [ceil(rows / rowsPerBias), cols] (attention scores + padding mask). out may alias x.
   */
  softmaxRowsBias(x: Float32Array, bias: Float32Array, out: Float32Array, rows: number, cols: number, rowsPerBias: number): void;
  /**
   * Dense layer forward: pre [rows, nOut] = x [rows, nIn] · wᵀ (w [nOut, nIn], PyTorch layout) + bias [nOut] (bias may
   * be null), then out = GELU(pre) for act 1 (erf form) or 2 (tanh form "gelu_new"); act 0 writes only pre (out may
   * be null). The native backend applies bias and GELU to each finished block of the product while it is in cache.
   * pre must not overlap x, w, bias or out.
   */
  linearForward(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, pre: Float32Array, out: Float32Array | null,
    rows: number, nIn: number, nOut: number, act: 0 | 1 | 2,
  ): void;
  /**
   * Dense layer GELU backward: dx = dy * GELU'(x) over [rows, cols] and, when colSums is not null, colSums[j] = sum
   * over r of dx[r, j] (the layer's bias gradient), in one pass. dx may alias dy.
   */
  geluBackwardColSums(
    x: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number, tanhApprox: boolean,
    colSums: Float32Array | null,
  ): void;
  /**
   * Softmax cross-entropy over rows of logits [rows, cols]: loss[r] = logsumexp(logits[r]) - logits[r, targets[r]]
   * (0 where targets[r] === ignoreIndex) and, when grad is not null, grad[r] = scale * (softmax(logits[r]) -
   * onehot(targets[r])) (zeros for an ignored row) — loss and gradient in one pass. Throws RangeError on a target
   * outside [0, cols) that is not ignoreIndex.
   */
  softmaxCrossEntropy(
    logits: Float32Array, targets: Int32Array, rows: number, cols: number, ignoreIndex: number, scale: number,
    grad: Float32Array | null, loss: Float32Array,
  ): void;
  /** x[r, :] += bias for every row of x [rows, cols] (dense-layer bias after a beta = 0 sgemm). */
  addRowBias(x: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** out[j] = sum over r of x[r, j] for x [rows, cols] (bias gradients); out is overwritten. */
  colSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** out = alpha * x + beta * y over n elements (beta = 0 ignores y); out may alias x or y. */
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array, n: number): void;

  /**
   * Row-wise top-k of scores [rows, cols] (largest first; ties broken by lower index). Writes outIdx / outVal
   * [rows, k]. Requires 1 <= k <= cols.
   */
  topk(scores: Float32Array, rows: number, cols: number, k: number, outIdx: Int32Array, outVal: Float32Array): void;
}
