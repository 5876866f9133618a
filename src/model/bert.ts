/**
 * The BERT encoder (Devlin et al. 2019) used by every REALM component (REALM §3: Embed_input, Embed_doc and the
 * knowledge-augmented encoder are all BERTs): word + position + token-type embeddings → LayerNorm → dropout, then
 * post-LN transformer layers (multi-head self-attention with an additive padding mask, residual, LayerNorm; GELU MLP,
 * residual, LayerNorm), and the pooler (tanh dense on [CLS]).
 *
 * Parameter names are HF's under a configurable prefix (`bert` for BertModel, `realm` for REALM checkpoints):
 * `<prefix>.embeddings.{word,position,token_type}_embeddings.weight`, `<prefix>.embeddings.LayerNorm.*`,
 * `<prefix>.encoder.layer.{i}.attention.self.{query,key,value}.*`, `….attention.output.{dense,LayerNorm}.*`,
 * `….intermediate.dense.*`, `….output.{dense,LayerNorm}.*`, `<prefix>.pooler.dense.*`; Linear weights are [out, in].
 * q, k, v come from one [H → 3H] GEMM (`fusedQkvLinear`, src/engine/ops/fused-qkv.ts; the weights stay separate HF
 * parameters); attention is `fusedSelfAttentionPacked` (src/engine/ops/fused-attention.ts): per (sequence, head)
 * sgemms on strided views of the [B*T, 3H] projection with transpose flags and alpha = 1/sqrt(d_head): no permute
 * copies, no materialised kᵀ.
 */
import {
  Rng, Tensor, TensorError, add, attentionMaskBias, dropout, embedding, gelu, indexSelect, isGradEnabled, layerNorm,
  release, relu, reshape, tanh,
} from '../engine/index.js';
import { addLayerNorm } from '../engine/ops/fused-add-layernorm.js';
import { fusedSelfAttentionPacked } from '../engine/ops/fused-attention.js';
import { fusedQkvLinear } from '../engine/ops/fused-qkv.js';
import { fusedLinear } from '../engine/ops/fused-linear.js';
import type { RealmConfig } from './config.js';
import { initBertParams } from './init.js';
import { ParamStore } from './params.js';

/** A batch of token sequences, flattened row-major. */
export interface BertInputs {
  /** Token ids [batch * seqLen]. */
  inputIds: Int32Array;
  /** Segment ids [batch * seqLen] (default all 0). */
  tokenTypeIds?: Int32Array;
  /** 1 for real tokens, 0 for padding [batch * seqLen] (default all 1). */
  attentionMask?: ArrayLike<number>;
  /** Number of sequences. */
  batch: number;
  /** Tokens per sequence (<= max_position_embeddings). */
  seqLen: number;
}

/** Encoder outputs. */
export interface BertOutputs {
  /** Final hidden states [batch, seqLen, hidden]. */
  sequenceOutput: Tensor;
  /** tanh(dense(h_[CLS])) [batch, hidden], or null when not requested. */
  pooledOutput: Tensor | null;
}

/** Options of `BertModel.forward`. */
export interface BertForwardOptions {
  /** Compute the pooler output (default true). */
  pool?: boolean;
}

/** dense(x) followed by the activation named by `hidden_act`, fused into one op for the GELU forms. */
export function denseAct(x: Tensor, w: Tensor, b: Tensor, act: RealmConfig['hidden_act']): Tensor {
  if (act === 'gelu' || act === 'gelu_new') return fusedLinear(x, w, b, act);
  return activation(fusedLinear(x, w, b), act);
}

/** The activation named by `hidden_act`. */
export function activation(x: Tensor, act: RealmConfig['hidden_act']): Tensor {
  switch (act) {
    case 'gelu':
      return gelu(x, 'none');
    case 'gelu_new':
      return gelu(x, 'tanh');
    case 'relu':
      return relu(x);
    default:
      throw new TensorError(`unsupported hidden_act "${String(act)}" (expected gelu, gelu_new or relu)`);
  }
}

interface LayerParams {
  q: [Tensor, Tensor];
  k: [Tensor, Tensor];
  v: [Tensor, Tensor];
  attnOut: [Tensor, Tensor];
  attnLn: [Tensor, Tensor];
  inter: [Tensor, Tensor];
  out: [Tensor, Tensor];
  outLn: [Tensor, Tensor];
}

/** BERT trunk with HF parameter names under `prefix`. */
export class BertModel {
  /** The model configuration. */
  readonly cfg: RealmConfig;
  /** Name prefix of every parameter ("bert" or "realm"). */
  readonly prefix: string;
  /** The registry holding this trunk's parameters (shared with heads built on it). */
  readonly store: ParamStore;
  /** Source of dropout masks. */
  readonly rng: Rng;
  private readonly wordEmb: Tensor;
  private readonly posEmb: Tensor;
  private readonly typeEmb: Tensor;
  private readonly embLn: [Tensor, Tensor];
  private readonly layers: LayerParams[] = [];
  private readonly pooler: [Tensor, Tensor];

  /**
   * Registers (and, unless `opts.init === false`, initialises with `rng`) the trunk's parameters in `opts.store`
   * (a new store by default). `rng` then supplies the dropout masks.
   */
  constructor(cfg: RealmConfig, rng: Rng, prefix = 'bert', opts: { store?: ParamStore; init?: boolean } = {}) {
    const H = cfg.hidden_size;
    if (H % cfg.num_attention_heads !== 0) {
      throw new TensorError(`BertModel: hidden_size ${H} is not a multiple of num_attention_heads ${cfg.num_attention_heads}`);
    }
    activation(Tensor.zeros([1]), cfg.hidden_act);
    this.cfg = cfg;
    this.prefix = prefix;
    this.rng = rng;
    const store = opts.store ?? new ParamStore();
    this.store = store;
    store.prefixes.add(prefix);
    const p = prefix;
    const dense = (name: string, nOut: number, nIn: number): [Tensor, Tensor] => [
      store.add(`${name}.weight`, [nOut, nIn], 'weight'), store.add(`${name}.bias`, [nOut], 'bias'),
    ];
    const ln = (name: string): [Tensor, Tensor] => [store.add(`${name}.weight`, [H], 'lnWeight'), store.add(`${name}.bias`, [H], 'lnBias')];
    this.wordEmb = store.add(`${p}.embeddings.word_embeddings.weight`, [cfg.vocab_size, H], 'embedding');
    this.posEmb = store.add(`${p}.embeddings.position_embeddings.weight`, [cfg.max_position_embeddings, H], 'embedding');
    this.typeEmb = store.add(`${p}.embeddings.token_type_embeddings.weight`, [cfg.type_vocab_size, H], 'embedding');
    this.embLn = ln(`${p}.embeddings.LayerNorm`);
    for (let i = 0; i < cfg.num_hidden_layers; i++) {
      const l = `${p}.encoder.layer.${i}`;
      this.layers.push({
        q: dense(`${l}.attention.self.query`, H, H),
        k: dense(`${l}.attention.self.key`, H, H),
        v: dense(`${l}.attention.self.value`, H, H),
        attnOut: dense(`${l}.attention.output.dense`, H, H),
        attnLn: ln(`${l}.attention.output.LayerNorm`),
        inter: dense(`${l}.intermediate.dense`, cfg.intermediate_size, H),
        out: dense(`${l}.output.dense`, H, cfg.intermediate_size),
        outLn: ln(`${l}.output.LayerNorm`),
      });
    }
    this.pooler = dense(`${p}.pooler.dense`, H, H);
    if (opts.init !== false) initBertParams(store, cfg, rng);
  }

  /** Word embedding table [vocab, hidden] (the MLM decoder is tied to it). */
  get wordEmbeddings(): Tensor {
    return this.wordEmb;
  }

  /** This trunk's parameters by HF name. */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.store.params) if (name.startsWith(`${this.prefix}.`)) out.set(name, t);
    return out;
  }

  /** Embeddings → LayerNorm → dropout: [batch * seqLen, hidden]. */
  embed(x: BertInputs, training: boolean): Tensor {
    const { batch: B, seqLen: T } = x;
    const cfg = this.cfg;
    checkInputs(x, cfg);
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
    const types = x.tokenTypeIds ?? new Int32Array(B * T);
    let h = add(add(embedding(this.wordEmb, x.inputIds), embedding(this.posEmb, pos)), embedding(this.typeEmb, types));
    h = layerNorm(h, this.embLn[0], this.embLn[1], cfg.layer_norm_eps);
    return dropout(h, cfg.hidden_dropout_prob, this.rng, training);
  }

  /** Runs the encoder (and the pooler unless opts.pool === false). */
  forward(x: BertInputs, training: boolean, opts: BertForwardOptions = {}): BertOutputs {
    const { batch: B, seqLen: T } = x;
    const cfg = this.cfg;
    const H = cfg.hidden_size;
    let h = this.embed(x, training); // [B*T, H]
    const maskBias = x.attentionMask ? attentionMaskBias(x.attentionMask, B, T).data : null; // additive key mask [B*T]
    for (const L of this.layers) h = this.layer(L, h, maskBias, B, T, training);
    const sequenceOutput = reshape(h, [B, T, H]);
    let pooledOutput: Tensor | null = null;
    if (opts.pool !== false) {
      const clsIdx = new Int32Array(B);
      for (let b = 0; b < B; b++) clsIdx[b] = b * T;
      pooledOutput = tanh(fusedLinear(indexSelect(h, 0, clsIdx), this.pooler[0], this.pooler[1]));
    }
    return { sequenceOutput, pooledOutput };
  }

  /** One post-LN transformer layer on h [B*T, H]. */
  private layer(L: LayerParams, h: Tensor, maskBias: Float32Array | null, B: number, T: number, training: boolean): Tensor {
    const cfg = this.cfg;
    const nh = cfg.num_attention_heads;
    const H = cfg.hidden_size;
    // Inference (noGrad): no graph keeps the intermediates, so their buffers go back to the pool as soon as they are
    // consumed and the next layer / batch reuses them (no fresh zeroed allocations, less GC) — e.g. index refreshes.
    const free = isGradEnabled() ? (): void => {} : (...ts: Tensor[]): void => ts.forEach((t) => release(t.data));
    const qkv = fusedQkvLinear(h, [L.q[0], L.k[0], L.v[0]], [L.q[1], L.k[1], L.v[1]]); // [B*T, 3H] = [q | k | v]
    const ctx = fusedSelfAttentionPacked(qkv, {
      batch: B, seqLen: T, heads: nh, alpha: 1 / Math.sqrt(H / nh), maskBias,
      dropoutP: cfg.attention_probs_dropout_prob, rng: this.rng, training,
    }); // [B*T, H]
    free(qkv);
    const attn = dropout(fusedLinear(ctx, L.attnOut[0], L.attnOut[1]), cfg.hidden_dropout_prob, this.rng, training);
    free(ctx);
    const h1 = addLayerNorm(h, attn, L.attnLn[0], L.attnLn[1], cfg.layer_norm_eps);
    free(attn, h);
    const inter = denseAct(h1, L.inter[0], L.inter[1], cfg.hidden_act); // [B*T, I]
    const out = dropout(fusedLinear(inter, L.out[0], L.out[1]), cfg.hidden_dropout_prob, this.rng, training);
    free(inter);
    const y = addLayerNorm(h1, out, L.outLn[0], L.outLn[1], cfg.layer_norm_eps);
    free(out, h1);
    return y;
  }
}

/** Validates ids, lengths and sequence length against the config (clear errors instead of out-of-range reads). */
function checkInputs(x: BertInputs, cfg: RealmConfig): void {
  const n = x.batch * x.seqLen;
  if (!Number.isInteger(x.batch) || !Number.isInteger(x.seqLen) || x.batch < 1 || x.seqLen < 1) {
    throw new TensorError(`BertModel: invalid batch ${x.batch} x seqLen ${x.seqLen}`);
  }
  if (x.seqLen > cfg.max_position_embeddings) {
    throw new TensorError(`BertModel: seqLen ${x.seqLen} exceeds max_position_embeddings ${cfg.max_position_embeddings}`);
  }
  const check = (name: string, a: ArrayLike<number> | undefined, hi: number): void => {
    if (!a) return;
    if (a.length !== n) throw new TensorError(`BertModel: ${name} has ${a.length} entries, expected batch*seqLen = ${n}`);
    for (let i = 0; i < n; i++) {
      if (!(a[i] >= 0 && a[i] < hi)) throw new TensorError(`BertModel: ${name}[${i}] = ${a[i]} out of range [0, ${hi})`);
    }
  };
  check('inputIds', x.inputIds, cfg.vocab_size);
  check('tokenTypeIds', x.tokenTypeIds, cfg.type_vocab_size);
  check('attentionMask', x.attentionMask, 2);
}
