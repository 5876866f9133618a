/**
 * REALM's retrieval embedder (Guu et al. 2020 §3.1: Embed_input / Embed_doc), exactly as HF's `RealmEmbedder`
 * (transformers `models/deprecated/realm/modeling_realm.py`): a BERT trunk `realm.*`, its pooler
 * tanh(dense(h_[CLS])), then `RealmScorerProjection`: `cls.dense` (hidden → retriever_proj_size, 128) followed by
 * `cls.LayerNorm` (eps = layer_norm_eps). The LayerNorm output is the retrieval vector; relevance is an inner product.
 *
 * Parameter names are HF's under an optional outer prefix: '' for a standalone embedder
 * (`google/realm-cc-news-pretrained-embedder`: `realm.embeddings.…`, `cls.dense.weight`, `cls.LayerNorm.bias`),
 * `embedder.` / `query_embedder.` inside a scorer (src/retriever/scorer.ts). HF's `RealmScorerProjection` also owns an
 * MLM head `cls.predictions.*` that the embedder never uses in its forward pass; we do not register it, and
 * `embedderIgnoredOnLoad` names the tensors a loader must skip in HF files.
 *
 * Inference (`embed`) computes the same vectors with less work: only the [CLS] row of the last layer reaches the
 * pooler, so that layer projects keys/values for every token but runs its query, attention-output projection, FFN and
 * LayerNorms on the B [CLS] rows only (about 40% of a 2-layer trunk's FLOPs saved at 128 tokens).
 */
import { Rng, Tensor, attentionMaskBias, indexSelect, layerNorm, linear, noGrad, tanh } from '../engine/index.js';
import { addLayerNorm } from '../engine/ops/fused-add-layernorm.js';
import { fusedSelfAttentionPacked } from '../engine/ops/fused-attention.js';
import { fusedQkvLinear } from '../engine/ops/fused-qkv.js';
import { fusedLinear } from '../engine/ops/fused-linear.js';
import { resolveAliases } from '../io/aliases.js';
import { loadSafetensors, type NamedArrays } from '../io/safetensors.js';
import { BertModel, denseAct, type BertInputs } from './bert.js';
import type { RealmConfig } from './config.js';
import { initBertParams } from './init.js';
import { ParamStore } from './params.js';

/** Options of a RealmEmbedder. */
export interface RealmEmbedderOptions {
  /** Outer name prefix including its trailing dot ('' standalone, 'embedder.' / 'query_embedder.' in a scorer). */
  prefix?: string;
  /** Registry to add the parameters to (a new one by default; a scorer shares one for both embedders). */
  store?: ParamStore;
  /** Initialise this embedder's parameters with BERT's init (default true; false when weights are loaded next). */
  init?: boolean;
}

/** True for tensors of an HF embedder file that this embedder does not hold (the unused `cls.predictions` head). */
export function embedderIgnoredOnLoad(name: string, prefix = ''): boolean {
  return name.startsWith(`${prefix}cls.predictions.`);
}

/** BERT + pooler + `cls.dense` + `cls.LayerNorm`: text → retrieval vector [batch, retriever_proj_size]. */
export class RealmEmbedder {
  /** Model configuration. */
  readonly cfg: RealmConfig;
  /** Outer prefix ('' or e.g. 'embedder.'). */
  readonly prefix: string;
  /** The BERT trunk, named `<prefix>realm.*`. */
  readonly bert: BertModel;
  /** Registry holding the parameters. */
  readonly store: ParamStore;
  private readonly dense: [Tensor, Tensor];
  private readonly ln: [Tensor, Tensor];

  constructor(cfg: RealmConfig, rng: Rng, opts: RealmEmbedderOptions = {}) {
    const prefix = opts.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('.')) throw new TypeError(`RealmEmbedder: prefix "${prefix}" must be empty or end with "."`);
    this.cfg = cfg;
    this.prefix = prefix;
    this.store = opts.store ?? new ParamStore();
    this.bert = new BertModel(cfg, rng, `${prefix}realm`, { store: this.store, init: false });
    const P = cfg.retriever_proj_size;
    const s = this.store;
    this.dense = [s.add(`${prefix}cls.dense.weight`, [P, cfg.hidden_size], 'weight'), s.add(`${prefix}cls.dense.bias`, [P], 'bias')];
    this.ln = [s.add(`${prefix}cls.LayerNorm.weight`, [P], 'lnWeight'), s.add(`${prefix}cls.LayerNorm.bias`, [P], 'lnBias')];
    if (opts.init !== false) {
      // initialise only this embedder's tensors (the store may hold another module's trained weights)
      initBertParams(this.ownStore(), cfg, rng);
    }
  }

  /** A registry viewing only this embedder's tensors (same Tensor objects). */
  private ownStore(): ParamStore {
    const own = new ParamStore();
    own.prefixes.add(`${this.prefix}realm`);
    for (const [name, t] of this.parameters()) {
      own.params.set(name, t);
      own.kinds.set(name, this.store.kinds.get(name)!);
    }
    return own;
  }

  /**
   * Loads this embedder's tensors (names with this embedder's prefix) from a name → array map, strictly: every
   * parameter must be present with its shape; HF's unused `cls.predictions.*` head is skipped.
   */
  loadStateDict(loaded: NamedArrays, file = '<state dict>'): void {
    const mine: NamedArrays = new Map();
    for (const [n, t] of loaded) if (n.startsWith(this.prefix) && !embedderIgnoredOnLoad(n, this.prefix)) mine.set(n, t);
    this.ownStore().loadStateDict(mine, { file });
  }

  /** Loads a safetensors file (HF `RealmEmbedder` / `google/realm-cc-news-pretrained-embedder` layout for prefix ''). */
  load(path: string): void {
    this.loadStateDict(resolveAliases(loadSafetensors(path)), path);
  }

  /** This embedder's parameters by full name (trunk + projection). */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.store.params) {
      if (name.startsWith(`${this.prefix}realm.`) || name.startsWith(`${this.prefix}cls.`)) out.set(name, t);
    }
    return out;
  }

  /** Projects pooled [CLS] states [B, hidden] → retrieval vectors [B, retriever_proj_size] (cls.dense, cls.LayerNorm). */
  project(pooled: Tensor): Tensor {
    return layerNorm(linear(pooled, this.dense[0], this.dense[1]), this.ln[0], this.ln[1], this.cfg.layer_norm_eps);
  }

  /** Retrieval vectors [B, retriever_proj_size] (HF `projected_score`), with autograd when training. */
  forward(x: BertInputs, training: boolean): Tensor {
    const { pooledOutput } = this.bert.forward(x, training);
    return this.project(pooledOutput!);
  }

  /** Inference: retrieval vectors as a Float32Array [B * retriever_proj_size] (no graph, no dropout). */
  embed(x: BertInputs): Float32Array {
    return noGrad(() => this.project(this.pooledClsOnly(x))).data;
  }

  /** Inference-only pooled [CLS] states [B, hidden], the last layer evaluated on the [CLS] rows only. */
  private pooledClsOnly(x: BertInputs): Tensor {
    const cfg = this.cfg;
    const { batch: B, seqLen: T } = x;
    const H = cfg.hidden_size;
    const nh = cfg.num_attention_heads;
    const alpha = 1 / Math.sqrt(H / nh);
    const p = (n: string): Tensor => this.store.get(`${this.prefix}realm.${n}`);
    const lin = (t: Tensor, n: string): Tensor => fusedLinear(t, p(`${n}.weight`), p(`${n}.bias`));
    const ln = (a: Tensor, b: Tensor, n: string): Tensor => addLayerNorm(a, b, p(`${n}.weight`), p(`${n}.bias`), cfg.layer_norm_eps);
    const maskBias = x.attentionMask ? attentionMaskBias(x.attentionMask, B, T).data : null; // [B*T]
    let h = this.bert.embed(x, false); // [B*T, H]
    const L = cfg.num_hidden_layers;
    for (let i = 0; i < L - 1; i++) {
      const l = `encoder.layer.${i}`;
      const w = (n: string): [Tensor, Tensor, Tensor] => [p(`${l}.attention.self.query.${n}`), p(`${l}.attention.self.key.${n}`), p(`${l}.attention.self.value.${n}`)];
      const ctx = fusedSelfAttentionPacked(fusedQkvLinear(h, w('weight'), w('bias')), { batch: B, seqLen: T, heads: nh, alpha, maskBias }); // [B*T, H]
      h = ln(h, lin(ctx, `${l}.attention.output.dense`), `${l}.attention.output.LayerNorm`);
      const inter = denseAct(h, p(`${l}.intermediate.dense.weight`), p(`${l}.intermediate.dense.bias`), cfg.hidden_act);
      h = ln(h, lin(inter, `${l}.output.dense`), `${l}.output.LayerNorm`);
    }
    const clsIdx = Int32Array.from({ length: B }, (_, b) => b * T);
    let c = indexSelect(h, 0, clsIdx); // [B, H]
    if (L > 0) {
      const l = `encoder.layer.${L - 1}`;
      const k = lin(h, `${l}.attention.self.key`).data; // [B*T, H]
      const v = lin(h, `${l}.attention.self.value`).data;
      const q = lin(c, `${l}.attention.self.query`).data; // [B, H]
      const ctx = new Float32Array(B * H);
      clsAttention(q, k, v, ctx, B, T, H, nh, alpha, maskBias);
      c = ln(c, lin(new Tensor(ctx, [B, H]), `${l}.attention.output.dense`), `${l}.attention.output.LayerNorm`);
      const inter = denseAct(c, p(`${l}.intermediate.dense.weight`), p(`${l}.intermediate.dense.bias`), cfg.hidden_act); // [B, I]
      c = ln(c, lin(inter, `${l}.output.dense`), `${l}.output.LayerNorm`);
    }
    return tanh(lin(c, 'pooler.dense'));
  }
}

/**
 * Attention of one query row per sequence (the [CLS] row) over all T keys: ctx[b, head] = softmax(alpha · q·kᵀ +
 * mask) · v, per head of width H / nh. q [B, H], k/v [B*T, H], ctx [B, H] (written), maskBias [B*T] or null.
 */
export function clsAttention(
  q: Float32Array, k: Float32Array, v: Float32Array, ctx: Float32Array, B: number, T: number, H: number, nh: number,
  alpha: number, maskBias: Float32Array | null,
): void {
  const d = H / nh;
  const s = new Float32Array(T);
  for (let b = 0; b < B; b++) {
    for (let hd = 0; hd < nh; hd++) {
      const qo = b * H + hd * d;
      let mx = -Infinity;
      for (let t = 0; t < T; t++) {
        const ko = (b * T + t) * H + hd * d;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[qo + j] * k[ko + j];
        const z = dot * alpha + (maskBias ? maskBias[b * T + t] : 0);
        s[t] = z;
        if (z > mx) mx = z;
      }
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const e = Math.exp(s[t] - mx);
        s[t] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let t = 0; t < T; t++) {
        const w = s[t] * inv;
        const vo = (b * T + t) * H + hd * d;
        for (let j = 0; j < d; j++) ctx[qo + j] += w * v[vo + j];
      }
    }
  }
}
