/**
 * Fused multi-head scaled dot-product self-attention (Vaswani et al. 2017; BERT's attention layer, REALM §3):
 * ctx = dropout(softmax(q·kᵀ · alpha + maskBias)) · v for every (sequence, head), computed directly on the
 * [B*T, H] projections: head h of sequence b is the strided block rows b*T.., columns h*d.. (row stride H), so the
 * backend sgemm reads and writes it in place with lda = H. This avoids the four [B, T, nh, d] ↔ [B, nh, T, d]
 * permute copies per layer (and four more in backward) of the unfused composition, and applies the additive mask,
 * softmax and dropout in one pass over the [B, nh, T, T] scores.
 *
 * Backward: dV = Pᵀ·dctx, dP = dctx·vᵀ (times the dropout mask), dS = softmax'(dP), dQ = alpha·dS·k, dK = alpha·dSᵀ·q.
 *
 * `fusedSelfAttentionPacked` takes q, k and v packed side by side in one [B*T, 3H] tensor (the output of one
 * [H → 3H] projection GEMM, ./fused-qkv.ts): the same sgemms read it with row stride 3H and backward writes dq, dk,
 * dv into one [B*T, 3H] gradient, so the projection's backward is one GEMM instead of three plus two adds.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { allocUninit, release } from '../pool.js';
import type { Rng } from '../rng.js';
import { Tensor, TensorError } from './util.js';

/** Options of `fusedSelfAttention`. */
export interface FusedAttentionOptions {
  /** Sequences in the batch (B). */
  batch: number;
  /** Tokens per sequence (T). */
  seqLen: number;
  /** Attention heads (H must be a multiple). */
  heads: number;
  /** Score scale (default 1/sqrt(H / heads)). */
  alpha?: number;
  /** Additive key mask [B * T] (0 for real tokens, e.g. -10000 for padding), or null. */
  maskBias?: Float32Array | null;
  /** Dropout probability on the attention probabilities (default 0). */
  dropoutP?: number;
  /** Source of dropout masks (required when training with dropoutP > 0). */
  rng?: Rng;
  /** Apply dropout (default false). */
  training?: boolean;
}

/** Where q, k and v live: buffers, column offsets and the shared row stride (H, or 3H when packed). */
interface QkvLayout {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  offQ: number;
  offK: number;
  offV: number;
  /** Row stride of all three. */
  ld: number;
}

/** Checked options of one attention call. */
interface AttentionShape {
  B: number;
  T: number;
  nh: number;
  H: number;
  d: number;
  alpha: number;
  p: number;
  drop: boolean;
  mask: Float32Array | null;
}

function attentionShape(H: number, o: FusedAttentionOptions, op: string): AttentionShape {
  const { batch: B, seqLen: T, heads: nh } = o;
  if (!(Number.isInteger(B) && Number.isInteger(T) && Number.isInteger(nh) && B > 0 && T > 0 && nh > 0) || H % nh !== 0) {
    throw new TensorError(`${op}: invalid batch ${B}, seqLen ${T}, heads ${nh} for hidden ${H}`);
  }
  const mask = o.maskBias ?? null;
  if (mask && mask.length !== B * T) throw new TensorError(`${op}: maskBias has ${mask.length} entries, expected ${B * T}`);
  const d = H / nh;
  const p = o.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new TensorError(`${op}: dropoutP must be in [0, 1), got ${p}`);
  const drop = !!o.training && p > 0;
  if (drop && !o.rng) throw new TensorError(`${op}: dropout needs an rng`);
  return { B, T, nh, H, d, alpha: o.alpha ?? 1 / Math.sqrt(d), p, drop, mask };
}

/** One operand of the per-(sequence, head) products: block (b, h) starts at off + b * seq + h * head, row stride ld. */
interface Blocks {
  data: Float32Array;
  off: number;
  seq: number;
  head: number;
  ld: number;
}

/**
 * C(b, h) = alpha · op(A(b, h)) · op(B(b, h)) for every sequence b < nB and head h < nh, as batched sgemms, in one of two
 * orders: one call per sequence over its heads — each call reads one sequence's contiguous q/k/v rows, so every cache
 * line it loads serves all heads — or one call per head over the sequences (each call reads a 1/nh-wide column strip
 * of every row). Measured on the BERT-mini train step (bench/train-step-profile.ts, batched-GEMM time per step):
 * 1 thread 25-27 ms per sequence vs 28-30 per head (two alternating pairs of runs); 2 threads undecided (one pair
 * 19-20 vs 14-15, the next 12-14 vs 13-15; per sequence only nh = 4 problems per call share the 2 threads). So: per
 * sequence on one thread, per head (the earlier order) otherwise; REALM_ATTN_ORDER=seq|head forces one.
 */
function perHead(nB: number, nh: number, tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Blocks, B: Blocks, C: Blocks): void {
  const be = getBackend();
  if (ATTN_ORDER === 'seq' || (ATTN_ORDER !== 'head' && be.getThreads() === 1)) {
    for (let b = 0; b < nB; b++) {
      be.sgemmBatched(nh, tA, tB, M, N, K, alpha, A.data.subarray(A.off + b * A.seq), A.head, B.data.subarray(B.off + b * B.seq), B.head, 0,
        C.data.subarray(C.off + b * C.seq), C.head, A.ld, B.ld, C.ld);
    }
  } else {
    for (let h = 0; h < nh; h++) {
      be.sgemmBatched(nB, tA, tB, M, N, K, alpha, A.data.subarray(A.off + h * A.head), A.seq, B.data.subarray(B.off + h * B.head), B.seq, 0,
        C.data.subarray(C.off + h * C.head), C.seq, A.ld, B.ld, C.ld);
    }
  }
}
const ATTN_ORDER = typeof process === 'undefined' ? undefined : process.env.REALM_ATTN_ORDER;

/** Forward on a layout; returns ctx [B*T, H] and the backward closure (gradients written into the same layout). */
function attentionCore(x: QkvLayout, s: AttentionShape, rng: Rng | undefined): {
  ctx: Float32Array;
  backward: (g: Float32Array, grads: { q: Float32Array | null; k: Float32Array | null; v: Float32Array | null }) => void;
  free: () => void;
} {
  const { B, T, nh, H, d, alpha, p, drop, mask } = s;
  const be = getBackend();
  const TT = T * T;
  const ld = x.ld;
  const probs = allocUninit(B * nh * TT); // softmax output P (every element written by the score sgemms)
  // Block (b, h): rows b*T.. (stride T*ld), columns off + h*d (row stride ld) of the q/k/v operands; rows b*T..,
  // columns h*d of ctx / its gradient (row stride H); the [T, T] block (b*nh + h)*TT of the probabilities.
  const sX = T * ld;
  const sC = T * H;
  const sP = nh * TT;
  const qB = (data: Float32Array, off: number): Blocks => ({ data, off, seq: sX, head: d, ld }); // in the q/k/v layout
  const cB = (data: Float32Array): Blocks => ({ data, off: 0, seq: sC, head: d, ld: H }); // in the ctx layout
  const pB = (data: Float32Array): Blocks => ({ data, off: 0, seq: sP, head: TT, ld: T }); // [T, T] probability blocks
  // Scores S = alpha q·kᵀ per (b, h), written straight into `probs`.
  perHead(B, nh, false, true, T, T, d, alpha, qB(x.q, x.offQ), qB(x.k, x.offK), pB(probs));
  // Additive key mask (one [T] row per sequence, shared by its nh * T score rows) + softmax in one pass.
  if (mask) be.softmaxRowsBias(probs, mask, probs, B * nh * T, T, nh * T);
  else be.softmaxRows(probs, probs, B * nh * T, T);
  // Dropout (counter-based, see backend dropoutApply): `used` = the kept probabilities scaled by 1/(1-p), which
  // multiply v; backward re-applies the same seeds to dP instead of storing a mask.
  let used = probs;
  const seed0 = drop ? rng!.nextUint32() : 0;
  const seed1 = drop ? rng!.nextUint32() : 0;
  if (drop) {
    used = allocUninit(probs.length);
    be.dropoutApply(probs, used, probs.length, p, seed0, seed1);
  }
  const ctx = allocUninit(B * T * H); // every (sequence, head) block written by the sgemms below
  perHead(B, nh, false, false, T, d, T, 1, pB(used), qB(x.v, x.offV), cB(ctx));
  const backward = (g: Float32Array, grads: { q: Float32Array | null; k: Float32Array | null; v: Float32Array | null }): void => {
    const dS = allocUninit(probs.length);
    // dP_used [T, T] = dctx_bh · v_bhᵀ ; dV_bh [T, d] = P_usedᵀ · dctx_bh
    perHead(B, nh, false, true, T, T, d, 1, cB(g), qB(x.v, x.offV), pB(dS));
    if (grads.v) perHead(B, nh, true, false, T, d, T, 1, pB(used), cB(g), qB(grads.v, x.offV));
    if (drop) be.dropoutApply(dS, dS, dS.length, p, seed0, seed1);
    be.softmaxBackward(probs, dS, dS, B * nh * T, T);
    if (grads.q) perHead(B, nh, false, false, T, d, T, alpha, pB(dS), qB(x.k, x.offK), qB(grads.q, x.offQ));
    if (grads.k) perHead(B, nh, true, false, T, d, T, alpha, pB(dS), qB(x.q, x.offQ), qB(grads.k, x.offK));
    release(dS);
  };
  const free = (): void => {
    if (used !== probs) release(used);
    release(probs);
  };
  return { ctx, backward, free };
}

/** q, k, v [B*T, H] (or [B, T, H]) → context [same shape as q]. */
export function fusedSelfAttention(q: Tensor, k: Tensor, v: Tensor, o: FusedAttentionOptions): Tensor {
  const H = q.shape[q.ndim - 1];
  const s = attentionShape(H, o, 'fusedSelfAttention');
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.size !== s.B * s.T * H || t.shape[t.ndim - 1] !== H) {
      throw new TensorError(`fusedSelfAttention: ${name} has shape [${t.shape.join(', ')}], expected ${s.B * s.T} rows of ${H}`);
    }
  }
  const core = attentionCore({ q: q.data, k: k.data, v: v.data, offQ: 0, offK: 0, offV: 0, ld: H }, s, o.rng);
  const out = new Tensor(core.ctx, q.shape);
  return record(out, [q, k, v], 'fusedSelfAttention', (g) => {
    const grads = {
      q: q.requiresGrad ? allocUninit(q.size) : null,
      k: k.requiresGrad ? allocUninit(k.size) : null,
      v: v.requiresGrad ? allocUninit(v.size) : null,
    };
    core.backward(g, grads);
    return [grads.q, grads.k, grads.v];
  }, core.free);
}

/** qkv [B*T, 3H] = [q | k | v] per row (or [B, T, 3H]) → context [B*T, H] (same leading shape). */
export function fusedSelfAttentionPacked(qkv: Tensor, o: FusedAttentionOptions): Tensor {
  const H3 = qkv.shape[qkv.ndim - 1];
  if (H3 % 3 !== 0) throw new TensorError(`fusedSelfAttentionPacked: last dim ${H3} is not 3 * hidden`);
  const H = H3 / 3;
  const s = attentionShape(H, o, 'fusedSelfAttentionPacked');
  if (qkv.size !== s.B * s.T * H3) throw new TensorError(`fusedSelfAttentionPacked: qkv has shape [${qkv.shape.join(', ')}], expected ${s.B * s.T} rows of ${H3}`);
  const x = qkv.data;
  const core = attentionCore({ q: x, k: x, v: x, offQ: 0, offK: H, offV: 2 * H, ld: H3 }, s, o.rng);
  const out = new Tensor(core.ctx, [...qkv.shape.slice(0, -1), H]);
  return record(out, [qkv], 'fusedSelfAttentionPacked', (g) => {
    const dqkv = allocUninit(qkv.size); // q, k and v column blocks all written by the backward sgemms
    core.backward(g, { q: dqkv, k: dqkv, v: dqkv });
    return [dqkv];
  }, core.free);
}
