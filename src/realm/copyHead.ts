/**
 * A copy (pointer) head for the knowledge-augmented encoder — ours, not in REALM or HF; off unless the config sets
 * `reader_copy_head: true`. REALM's reader must carry a token of the retrieved block z through the BERT into the MLM
 * softmax to fill the blank with it; our small readers did not learn that at budgets this machine affords (BENCHMARKS
 * "Copy probe": a 2- or 4-layer BERT stays near chance after 3,000 steps; the REALM fill-in with the answer's own block
 * allowed was no better than without it). A pointer-generator (See et al. 2017, "Get To The Point") makes copying
 * a matter of attention alone: at each masked position i,
 *   p(y_i = v | z, x) = (1 − g_i) · softmax(MLM logits_i)[v] + g_i · Σ_{t ∈ z, id_t = v} a_{i,t},
 *   a_{i,·} = softmax_t (W_q h_i + b_q)·(W_k h_t + b_k) / √H over z's token positions t,   g_i = σ(w_g·h_i + b_g),
 * with h the encoder's last hidden states of the joint row `[CLS] x [SEP] title [SEP] text [SEP]`. It is still a
 * distribution p(y|z,x), so REALM's marginal likelihood and the retriever's reward (./loss.ts) are unchanged. Rows
 * without a block (the null document) get g = 0 exactly: p(y|∅,x) is the plain MLM head's, and a model trained with
 * the null document only is the same model with or without this head.
 *
 * Parameters (`cls.copy.*`): `query.{weight,bias}` [H, H] / [H], `key.{weight,bias}` [H, H] / [H],
 * `gate.{weight,bias}` [1, H] / [1].
 */
import {
  Tensor, concat, indexSelect, linear, logSoftmax, logsumexp, matmul, neg, noGrad, reshape, add,
} from '../engine/index.js';
import type { RealmConfig } from '../model/config.js';
import type { ParamStore } from '../model/params.js';

/** Name prefix of the copy head's parameters. */
export const COPY_HEAD_PREFIX = 'cls.copy';

/** Initial gate bias: g = σ(−2) ≈ 0.12 before training, so a fresh head barely moves a warm-started MLM head. */
export const COPY_GATE_BIAS_INIT = -2;

/** Additive score that switches a term off (exp underflows to exactly 0 in float32). */
export const OFF = -1e4;

/** Where the copy head may point in a packed batch. */
export interface CopySources {
  /** Row of each masked position [N]. */
  rowOf: Int32Array;
  /** Token ids of the packed batch, row-major [R * T]. */
  ids: Int32Array;
  /** 1 where position t of row r is a token of the block (a copy source), row-major [R * T]. */
  source: Uint8Array;
  /** Rows R and padded length T. */
  rows: number;
  seqLen: number;
}

/** The copy head's quantities at the masked positions (with autograd). */
export interface CopyTerms {
  /** log a_{i,t} over the row's positions [N, T] (−∞-like where t is not a source). */
  logAttn: Tensor;
  /** log g_i [N]. */
  logGate: Tensor;
  /** log (1 − g_i) [N]. */
  logOneMinusGate: Tensor;
}

/** softplus(u) = log(1 + e^u) for u [N], as a logsumexp of [0, u]. */
export function softplus(u: Tensor): Tensor {
  const n = u.shape[0];
  return logsumexp(concat([Tensor.zeros([n, 1]), reshape(u, [n, 1])], 1), 1);
}

/**
 * Pointer scores (W_q h_i + b_q)·(W_k h_t + b_k) / √H of every masked position i [N] against every position t of its
 * row: seq [R, T, H], hm [N, H], rowOf [N] → [N, T]. Shared by the token (this file) and span (./spanCopyHead.ts) heads.
 */
export function pointerScores(seq: Tensor, hm: Tensor, rowOf: Int32Array, query: readonly [Tensor, Tensor], key: readonly [Tensor, Tensor]): Tensor {
  const [R, T, H] = seq.shape;
  const N = rowOf.length;
  const q = linear(hm, query[0], query[1]); // [N, H]
  const k = reshape(linear(reshape(seq, [R * T, H]), key[0], key[1]), [R, T * H]); // [R, T·H]
  const kRows = reshape(indexSelect(k, 0, rowOf), [N, T, H]); // [N, T, H]
  return reshape(matmul(reshape(q, [N, 1, H]), kRows, { transB: true, alpha: 1 / Math.sqrt(H) }), [N, T]); // [N, T]
}

/** Pointer-generator head over the block tokens of each joint row. */
export class CopyHead {
  protected readonly query: [Tensor, Tensor];
  protected readonly key: [Tensor, Tensor];
  protected readonly gate: [Tensor, Tensor];
  protected readonly hidden: number;

  /** Registers `<name>.{query,key,gate}.{weight,bias}` in `store` (zero-filled; the encoder's init fills them). */
  constructor(cfg: RealmConfig, store: ParamStore, name = COPY_HEAD_PREFIX) {
    const H = cfg.hidden_size;
    this.hidden = H;
    this.query = [store.add(`${name}.query.weight`, [H, H], 'weight'), store.add(`${name}.query.bias`, [H], 'bias')];
    this.key = [store.add(`${name}.key.weight`, [H, H], 'weight'), store.add(`${name}.key.bias`, [H], 'bias')];
    this.gate = [store.add(`${name}.gate.weight`, [1, H], 'weight'), store.add(`${name}.gate.bias`, [1], 'bias')];
  }

  /** Sets the gate bias to its initial value (after a generic init zeroed it). */
  initGate(): void {
    this.gate[1].data[0] = COPY_GATE_BIAS_INIT;
  }

  /** Throws unless seq is [R, T, H] and hm [N, H] for the sources' R rows of length T and N masked positions. */
  protected checkInputs(seq: Tensor, hm: Tensor, s: CopySources, who: string): void {
    const { rows: R, seqLen: T } = s;
    const H = this.hidden;
    const N = s.rowOf.length;
    if (seq.ndim !== 3 || seq.shape[0] !== R || seq.shape[1] !== T || seq.shape[2] !== H) {
      throw new RangeError(`${who}: sequence output must be [${R}, ${T}, ${H}], got [${seq.shape.join(', ')}]`);
    }
    if (hm.ndim !== 2 || hm.shape[0] !== N || hm.shape[1] !== H) throw new RangeError(`${who}: masked hidden must be [${N}, ${H}], got [${hm.shape.join(', ')}]`);
  }

  /** Attention over sources and the gate at N masked positions: seq [R, T, H], masked hidden hm [N, H]. */
  terms(seq: Tensor, hm: Tensor, s: CopySources): CopyTerms {
    const { seqLen: T, rowOf } = s;
    this.checkInputs(seq, hm, s, 'CopyHead');
    const N = rowOf.length;
    // constant masks: which positions each masked position may point at, and whether its row has any
    const srcBias = new Float32Array(N * T).fill(OFF); // [N, T]
    const gateBias = new Float32Array(N).fill(OFF); // [N]
    for (let n = 0; n < N; n++) {
      const r = rowOf[n];
      for (let t = 0; t < T; t++) {
        if (s.source[r * T + t]) { srcBias[n * T + t] = 0; gateBias[n] = 0; }
      }
    }
    const scores = pointerScores(seq, hm, rowOf, this.query, this.key); // [N, T]
    const logAttn = logSoftmax(add(scores, new Tensor(srcBias, [N, T])), 1); // [N, T]
    const u = add(reshape(linear(hm, this.gate[0], this.gate[1]), [N]), new Tensor(gateBias, [N])); // [N]
    return { logAttn, logGate: neg(softplus(neg(u))), logOneMinusGate: neg(softplus(u)) };
  }

  /**
   * log p(y_i|z,x) of the targets [N] (with autograd) from the MLM head's log p_gen(y_i) [N]:
   * logsumexp(log(1 − g) + log p_gen(y), log g + log Σ_{t: id_t = y} a_t).
   */
  targetLogProbs(c: CopyTerms, genLogp: Tensor, s: CopySources, targets: Int32Array): Tensor {
    const N = targets.length;
    const T = s.seqLen;
    const match = new Float32Array(N * T).fill(OFF * 1e5); // [N, T]: 0 where the source token is the target
    for (let n = 0; n < N; n++) {
      const base = s.rowOf[n] * T;
      for (let t = 0; t < T; t++) if (s.source[base + t] && s.ids[base + t] === targets[n]) match[n * T + t] = 0;
    }
    const logCopy = logsumexp(add(c.logAttn, new Tensor(match, [N, T])), 1); // [N]
    const gen = reshape(add(c.logOneMinusGate, genLogp), [N, 1]);
    const copy = reshape(add(c.logGate, logCopy), [N, 1]);
    return logsumexp(concat([gen, copy], 1), 1); // [N]
  }

  /** Full log-distributions [N, V] (inference, no autograd) from the MLM head's log-softmax [N, V]. */
  mixLogProbs(c: CopyTerms, genLogp: Tensor, s: CopySources): Tensor {
    return noGrad(() => {
      const [N, V] = genLogp.shape;
      const T = s.seqLen;
      const out = new Float32Array(N * V);
      for (let n = 0; n < N; n++) {
        const g = Math.exp(c.logGate.data[n]);
        const keep = Math.exp(c.logOneMinusGate.data[n]);
        for (let v = 0; v < V; v++) out[n * V + v] = keep * Math.exp(genLogp.data[n * V + v]);
        const base = s.rowOf[n] * T;
        if (g > 0) {
          for (let t = 0; t < T; t++) {
            if (s.source[base + t]) out[n * V + s.ids[base + t]] += g * Math.exp(c.logAttn.data[n * T + t]);
          }
        }
        for (let v = 0; v < V; v++) out[n * V + v] = Math.log(out[n * V + v]);
      }
      return new Tensor(out, [N, V]);
    });
  }
}
