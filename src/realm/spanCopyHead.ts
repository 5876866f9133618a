/**
 * A span-level copy (pointer) head for the knowledge-augmented encoder — ours, not in REALM or HF; on when the config
 * sets `reader_copy_head: "span"`. The token copy head (./copyHead.ts) points each [MASK] at a block token on its
 * own, so a salient span of M wordpieces is copied whole only when M independent pointers all land on the right
 * offsets; our 2-layer reader rarely managed that (session 11's held-out table: with the answer in a candidate block,
 * 51 % of one-wordpiece spans filled, 0 of 19 spans of four or more). This head points once per span — a
 * pointer-generator (See et al. 2017) over the block's contiguous M-token windows:
 *   p(y|z,x) = (1 − g) · Π_j softmax(MLM logits_{i_j})[y_j] + g · Σ_{t: z[t..t+M−1] = y} a_t,
 *   a_t = softmax_t Σ_j (W_q h_{i_j} + b_q)·(W_k h_{t+j} + b_k) / √H over the start positions t whose window lies in
 *   the block (title or text, never across a [SEP]),   g = σ(w_g · mean_j h_{i_j} + b_g),
 * with i_1..i_M x's masked positions in the joint row and h the encoder's last hidden states. It defines p(y|z,x) of
 * the whole span, not per token, so it needs REALM's span marginal (realm.marginal "span", the paper's form); the loss
 * and the retriever's reward (./loss.ts) are otherwise unchanged. Rows without a block (the null document), or whose
 * block is shorter than the span, get g = 0 exactly: p(y|∅,x) is the plain MLM head's product, so a model trained
 * with the null document only is the same model with or without this head.
 *
 * Parameters: the token head's `cls.copy.{query,key,gate}.*` (same names and shapes; either head's weights load
 * into the other).
 */
import { Tensor, add, concat, indexSelect, linear, logSoftmax, logsumexp, matmul, neg, noGrad, reshape, sum } from '../engine/index.js';
import { CopyHead, OFF, pointerScores, softplus, type CopySources } from './copyHead.js';
import { logSumExp64 } from './loss.js';
import { topSequences, type SpanDistribution } from './spanDistribution.js';

/** The span head's quantities per joint row (with autograd). */
export interface SpanCopyTerms {
  /** log a_{r,t} over start positions [R, T] (meaningful where `valid`). */
  logStart: Tensor;
  /** 1 where a span of the row's length may start at t: t..t+M−1 all block tokens [R * T]. */
  valid: Uint8Array;
  /** log g_r [R]. */
  logGate: Tensor;
  /** log (1 − g_r) [R]. */
  logOneMinusGate: Tensor;
  /** Index of each row's first masked position among the N [R]. */
  first: Int32Array;
  /** Masked positions per row M_r [R]. */
  count: Int32Array;
}

/** Each row's first masked position and count, from rowOf [N] (rows in order, each with at least one position). */
function rowRanges(s: CopySources): { first: Int32Array; count: Int32Array } {
  const first = new Int32Array(s.rows).fill(-1);
  const count = new Int32Array(s.rows);
  s.rowOf.forEach((r, n) => {
    if (n > 0 && r < s.rowOf[n - 1]) throw new RangeError('SpanCopyHead: masked positions must come row by row');
    if (first[r] < 0) first[r] = n;
    count[r]++;
  });
  const empty = count.findIndex((c) => c === 0);
  if (empty >= 0) throw new RangeError(`SpanCopyHead: joint row ${empty} has no masked position`);
  return { first, count };
}

/**
 * Per-row sums (or means) of row-major values x [N, D] whose row n belongs to joint row rowOf[n]: [R, D], with
 * autograd (one [R, N] × [N, D] product). Used for a span's Σ_j log p_gen(y_j) and its mean masked hidden state.
 */
export function poolByRow(x: Tensor, rowOf: Int32Array, rows: number, mode: 'sum' | 'mean'): Tensor {
  const N = rowOf.length;
  const count = new Int32Array(rows);
  rowOf.forEach((r) => { count[r]++; });
  const w = new Float32Array(rows * N); // [R, N]
  rowOf.forEach((r, n) => { w[r * N + n] = mode === 'mean' ? 1 / count[r] : 1; });
  return matmul(new Tensor(w, [rows, N]), x); // [R, D]
}

/** Pointer-generator over whole spans of the block (see the file comment). */
export class SpanCopyHead extends CopyHead {
  /** Start distribution and gate of every row: seq [R, T, H], masked hidden hm [N, H]. */
  spanTerms(seq: Tensor, hm: Tensor, s: CopySources): SpanCopyTerms {
    const { rows: R, seqLen: T, rowOf } = s;
    this.checkInputs(seq, hm, s, 'SpanCopyHead');
    const N = rowOf.length;
    const { first, count } = rowRanges(s);
    const mMax = Math.max(...count);
    // window score of start t in row r: Σ_j scores[first_r + j, t + j], gathered from the flat [N·T] scores with a
    // trailing zero for j ≥ M_r or t + j ≥ T
    const scores = pointerScores(seq, hm, rowOf, this.query, this.key); // [N, T]
    const flat = concat([reshape(scores, [N * T, 1]), Tensor.zeros([1, 1])], 0); // [N·T + 1, 1]
    const idx = new Int32Array(R * T * mMax).fill(N * T);
    const valid = new Uint8Array(R * T);
    const startBias = new Float32Array(R * T).fill(OFF); // [R, T]
    const gateBias = new Float32Array(R).fill(OFF); // [R]
    for (let r = 0; r < R; r++) {
      const M = count[r];
      for (let t = 0; t < T; t++) {
        let ok = t + M <= T;
        for (let j = 0; j < M && t + j < T; j++) {
          idx[(r * T + t) * mMax + j] = (first[r] + j) * T + t + j;
          if (!s.source[r * T + t + j]) ok = false;
        }
        if (ok) { valid[r * T + t] = 1; startBias[r * T + t] = 0; gateBias[r] = 0; }
      }
    }
    const window = sum(reshape(indexSelect(flat, 0, idx), [R, T, mMax]), 2); // [R, T]
    const logStart = logSoftmax(add(window, new Tensor(startBias, [R, T])), 1); // [R, T]
    // gate from the mean hidden state of the row's masked positions
    const hMean = poolByRow(hm, rowOf, R, 'mean'); // [R, H]
    const u = add(reshape(linear(hMean, this.gate[0], this.gate[1]), [R]), new Tensor(gateBias, [R])); // [R]
    return { logStart, valid, logGate: neg(softplus(neg(u))), logOneMinusGate: neg(softplus(u)), first, count };
  }

  /**
   * log p(y|z,x) of each row's target span [R] (with autograd) from the MLM head's log p_gen of the targets [N]:
   * logsumexp(log(1 − g) + Σ_j log p_gen(y_j), log g + log Σ_{t: window t = y} a_t).
   */
  rowLogProbs(c: SpanCopyTerms, genLogp: Tensor, s: CopySources, targets: Int32Array): Tensor {
    const { rows: R, seqLen: T } = s;
    const N = targets.length;
    const genSpan = reshape(poolByRow(reshape(genLogp, [N, 1]), s.rowOf, R, 'sum'), [R]); // [R]
    const match = new Float32Array(R * T).fill(OFF * 1e5); // [R, T]: 0 where the window at t is the target span
    for (let r = 0; r < R; r++) {
      for (let t = 0; t < T; t++) {
        if (!c.valid[r * T + t]) continue;
        let same = true;
        for (let j = 0; j < c.count[r] && same; j++) same = s.ids[r * T + t + j] === targets[c.first[r] + j];
        if (same) match[r * T + t] = 0;
      }
    }
    const logCopy = logsumexp(add(c.logStart, new Tensor(match, [R, T])), 1); // [R]
    const gen = reshape(add(c.logOneMinusGate, genSpan), [R, 1]);
    const copy = reshape(add(c.logGate, logCopy), [R, 1]);
    return logsumexp(concat([gen, copy], 1), 1); // [R]
  }

  /** Each row's distribution over fillings (inference) from the MLM head's log-softmax [N, V]. */
  distributions(c: SpanCopyTerms, genLogp: Tensor, s: CopySources): SpanDistribution[] {
    return noGrad(() => {
      const V = genLogp.shape[1];
      const T = s.seqLen;
      return Array.from({ length: s.rows }, (_, r) => {
        const M = c.count[r];
        const gen = genLogp.data.subarray(c.first[r] * V, (c.first[r] + M) * V);
        const windows = new Map<string, { ids: number[]; p: number }>();
        for (let t = 0; t < T; t++) {
          if (!c.valid[r * T + t]) continue;
          const ids = Array.from(s.ids.subarray(r * T + t, r * T + t + M));
          const key = ids.join(',');
          const w = windows.get(key) ?? { ids, p: 0 };
          w.p += Math.exp(c.logStart.data[r * T + t]);
          windows.set(key, w);
        }
        return new SpanMixtureDistribution(gen, V, M, c.logGate.data[r], c.logOneMinusGate.data[r], windows);
      });
    });
  }
}

/** One row's p(y|z,x) under the span head: generator product mixed with the copy mass of the block's windows. */
class SpanMixtureDistribution implements SpanDistribution {
  constructor(
    private readonly gen: Float32Array, // [M, V] log p_gen
    private readonly vocab: number,
    readonly length: number,
    private readonly logGate: number,
    private readonly logOneMinusGate: number,
    private readonly windows: ReadonlyMap<string, { ids: number[]; p: number }>,
  ) {}

  logProb(y: readonly number[]): number {
    if (y.length !== this.length) throw new RangeError(`SpanMixtureDistribution: filling of ${y.length} for ${this.length} positions`);
    let g = this.logOneMinusGate;
    for (let m = 0; m < this.length; m++) g += this.gen[m * this.vocab + y[m]];
    const copy = this.windows.get(y.join(','))?.p ?? 0;
    return logSumExp64([g, copy > 0 ? this.logGate + Math.log(copy) : -Infinity]);
  }

  top(n: number, banned: (id: number) => boolean): number[][] {
    const fromGen = topSequences(this.gen, this.vocab, this.length, n, banned).map((s) => s.ids);
    const fromCopy = [...this.windows.values()].filter((w) => !w.ids.some(banned)).sort((a, b) => b.p - a.p).slice(0, n).map((w) => w.ids);
    return [...fromGen, ...fromCopy];
  }
}
