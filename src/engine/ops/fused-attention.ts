/**
 * Fused multi-head scaled dot-product self-attention (Vaswani et al. 2017; BERT's attention layer, REALM §3):
 * ctx = dropout(softmax(q·kᵀ · alpha + maskBias)) · v for every (sequence, head), computed directly on the
 * [B*T, H] projections: head h of sequence b is the strided block rows b*T.., columns h*d.. (row stride H), so the
 * backend sgemm reads and writes it in place with lda = H. This avoids the four [B, T, nh, d] ↔ [B, nh, T, d]
 * permute copies per layer (and four more in backward) of the unfused composition, and applies the additive mask,
 * softmax and dropout in one pass over the [B, nh, T, T] scores.
 *
 * Backward: dV = Pᵀ·dctx, dP = dctx·vᵀ (times the dropout mask), dS = softmax'(dP), dQ = alpha·dS·k, dK = alpha·dSᵀ·q.
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

/** q, k, v [B*T, H] (or [B, T, H]) → context [same shape as q]. */
export function fusedSelfAttention(q: Tensor, k: Tensor, v: Tensor, o: FusedAttentionOptions): Tensor {
  const { batch: B, seqLen: T, heads: nh } = o;
  const H = q.shape[q.ndim - 1];
  if (!(Number.isInteger(B) && Number.isInteger(T) && Number.isInteger(nh) && B > 0 && T > 0 && nh > 0) || H % nh !== 0) {
    throw new TensorError(`fusedSelfAttention: invalid batch ${B}, seqLen ${T}, heads ${nh} for hidden ${H}`);
  }
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.size !== B * T * H || t.shape[t.ndim - 1] !== H) {
      throw new TensorError(`fusedSelfAttention: ${name} has shape [${t.shape.join(', ')}], expected ${B * T} rows of ${H}`);
    }
  }
  const mask = o.maskBias ?? null;
  if (mask && mask.length !== B * T) throw new TensorError(`fusedSelfAttention: maskBias has ${mask.length} entries, expected ${B * T}`);
  const d = H / nh;
  const alpha = o.alpha ?? 1 / Math.sqrt(d);
  const p = o.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new TensorError(`fusedSelfAttention: dropoutP must be in [0, 1), got ${p}`);
  const drop = !!o.training && p > 0;
  if (drop && !o.rng) throw new TensorError('fusedSelfAttention: dropout needs an rng');
  const be = getBackend();
  const TT = T * T;
  const probs = allocUninit(B * nh * TT); // softmax output P (every element written by the score sgemms)
  // One batched sgemm per head covers all B sequences: sequence b of head h starts at row b*T (stride T*H) of the
  // [B*T, H] operands, column h*d (row stride H); its [T, T] block of `probs` starts at (b*nh + h)*TT (stride nh*TT).
  const sX = T * H;
  const sP = nh * TT;
  // Scores S = alpha q·kᵀ per (b, h), written straight into `probs`.
  for (let h = 0; h < nh; h++) {
    const off = h * d;
    be.sgemmBatched(B, false, true, T, T, d, alpha, q.data.subarray(off), sX, k.data.subarray(off), sX, 0,
      probs.subarray(h * TT), sP, H, H, T);
  }
  // Additive key mask (one [T] row per sequence, shared by its nh * T score rows) + softmax in one pass.
  if (mask) be.softmaxRowsBias(probs, mask, probs, B * nh * T, T, nh * T);
  else be.softmaxRows(probs, probs, B * nh * T, T);
  // Dropout (counter-based, see backend dropoutApply): `used` = the kept probabilities scaled by 1/(1-p), which
  // multiply v; backward re-applies the same seeds to dP instead of storing a mask.
  let used = probs;
  const seed0 = drop ? o.rng!.nextUint32() : 0;
  const seed1 = drop ? o.rng!.nextUint32() : 0;
  if (drop) {
    used = allocUninit(probs.length);
    be.dropoutApply(probs, used, probs.length, p, seed0, seed1);
  }
  const ctx = allocUninit(B * T * H); // every (sequence, head) block written by the sgemms below
  for (let h = 0; h < nh; h++) {
    const off = h * d;
    be.sgemmBatched(B, false, false, T, d, T, 1, used.subarray(h * TT), sP, v.data.subarray(off), sX, 0,
      ctx.subarray(off), sX, T, H, H);
  }
  const out = new Tensor(ctx, q.shape);
  return record(out, [q, k, v], 'fusedSelfAttention', (g) => {
    const dq = q.requiresGrad ? allocUninit(q.size) : null;
    const dk = k.requiresGrad ? allocUninit(k.size) : null;
    const dv = v.requiresGrad ? allocUninit(v.size) : null;
    const dS = allocUninit(probs.length);
    for (let h = 0; h < nh; h++) {
      const off = h * d;
      const blk = h * TT;
      // dP_used [T, T] = dctx_bh · v_bhᵀ ; dV_bh [T, d] = P_usedᵀ · dctx_bh (all b at once)
      be.sgemmBatched(B, false, true, T, T, d, 1, g.subarray(off), sX, v.data.subarray(off), sX, 0,
        dS.subarray(blk), sP, H, H, T);
      if (dv) {
        be.sgemmBatched(B, true, false, T, d, T, 1, used.subarray(blk), sP, g.subarray(off), sX, 0,
          dv.subarray(off), sX, T, H, H);
      }
    }
    if (drop) be.dropoutApply(dS, dS, dS.length, p, seed0, seed1);
    be.softmaxBackward(probs, dS, dS, B * nh * T, T);
    for (let h = 0; h < nh; h++) {
      const off = h * d;
      const blk = dS.subarray(h * TT);
      if (dq) be.sgemmBatched(B, false, false, T, d, T, alpha, blk, sP, k.data.subarray(off), sX, 0, dq.subarray(off), sX, T, H, H);
      if (dk) be.sgemmBatched(B, true, false, T, d, T, alpha, blk, sP, q.data.subarray(off), sX, 0, dk.subarray(off), sX, T, H, H);
    }
    release(dS);
    return [dq, dk, dv];
  }, () => {
    if (used !== probs) release(used);
    release(probs);
  });
}
