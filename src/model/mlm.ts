/**
 * The masked-language-model head and loss (BERT §3.1; REALM §3.2 uses the same head on BERT_MASK(j) of join(x, z)).
 *
 * The head is HF's `cls.predictions`: transform = dense + activation + LayerNorm, then the decoder, a linear map tied to
 * the word embeddings [vocab, hidden] with its own bias `cls.predictions.bias`. As in the original BERT code
 * (`gather_indexes` in run_pretraining.py), hidden states are first gathered at the masked positions, so the
 * [M, vocab] logits are computed only for the M masked tokens, not for every position.
 */
import { Rng, Tensor, TensorError, indexSelect, layerNorm, reshape } from '../engine/index.js';
import { fusedCrossEntropy } from '../engine/ops/fused-cross-entropy.js';
import { fusedLinear } from '../engine/ops/fused-linear.js';
import { BertModel, denseAct, type BertInputs } from './bert.js';
import type { RealmConfig } from './config.js';
import { initBertParams } from './init.js';
import { ParamStore } from './params.js';

/** `cls.predictions`: transform + tied decoder. */
export class MlmHead {
  private readonly cfg: RealmConfig;
  private readonly dense: [Tensor, Tensor];
  private readonly ln: [Tensor, Tensor];
  private readonly bias: Tensor;
  private readonly decoder: Tensor;

  /** Registers `<name>.{transform.dense, transform.LayerNorm, bias}` in `store`; `wordEmbeddings` [V, H] is the tied decoder. */
  constructor(cfg: RealmConfig, store: ParamStore, wordEmbeddings: Tensor, name = 'cls.predictions') {
    const H = cfg.hidden_size;
    if (wordEmbeddings.ndim !== 2 || wordEmbeddings.shape[1] !== H) {
      throw new TensorError(`MlmHead: word embeddings must be [vocab, ${H}], got [${wordEmbeddings.shape.join(', ')}]`);
    }
    this.cfg = cfg;
    this.dense = [store.add(`${name}.transform.dense.weight`, [H, H], 'weight'), store.add(`${name}.transform.dense.bias`, [H], 'bias')];
    this.ln = [store.add(`${name}.transform.LayerNorm.weight`, [H], 'lnWeight'), store.add(`${name}.transform.LayerNorm.bias`, [H], 'lnBias')];
    this.bias = store.add(`${name}.bias`, [wordEmbeddings.shape[0]], 'bias');
    this.decoder = wordEmbeddings;
  }

  /** hidden [M, H] → logits [M, vocab]. */
  forward(hidden: Tensor): Tensor {
    const h = denseAct(hidden, this.dense[0], this.dense[1], this.cfg.hidden_act);
    return fusedLinear(layerNorm(h, this.ln[0], this.ln[1], this.cfg.layer_norm_eps), this.decoder, this.bias);
  }
}

/** Rows of `sequenceOutput` [B, T, H] at flat positions b * T + t → [M, H]. */
export function gatherPositions(sequenceOutput: Tensor, positions: Int32Array): Tensor {
  if (sequenceOutput.ndim !== 3) throw new TensorError(`gatherPositions: expected [B, T, H], got [${sequenceOutput.shape.join(', ')}]`);
  const [B, T, H] = sequenceOutput.shape;
  return indexSelect(reshape(sequenceOutput, [B * T, H]), 0, positions);
}

/** BERT with the MLM head (HF `BertForMaskedLM` / the MLM half of `RealmKnowledgeAugEncoder`). */
export class BertForMaskedLM {
  /** The encoder. */
  readonly bert: BertModel;
  /** The MLM head (decoder tied to `bert.wordEmbeddings`). */
  readonly head: MlmHead;
  /** Registry of all parameters (trunk under `prefix`, head under `cls.predictions`). */
  readonly store: ParamStore;

  /** New model with BERT-initialised weights drawn from `rng` (which then supplies dropout masks). */
  constructor(cfg: RealmConfig, rng: Rng, prefix = 'bert') {
    this.store = new ParamStore();
    this.bert = new BertModel(cfg, rng, prefix, { store: this.store, init: false });
    this.head = new MlmHead(cfg, this.store, this.bert.wordEmbeddings);
    initBertParams(this.store, cfg, rng);
  }

  /** All parameters by HF name. */
  parameters(): Map<string, Tensor> {
    return this.store.stateDict();
  }

  /** Logits [M, vocab] at the flat masked positions (b * seqLen + t). */
  logits(batch: BertInputs, maskedPositions: Int32Array, training: boolean): Tensor {
    const n = batch.batch * batch.seqLen;
    for (let i = 0; i < maskedPositions.length; i++) {
      const p = maskedPositions[i];
      if (!(Number.isInteger(p) && p >= 0 && p < n)) throw new TensorError(`BertForMaskedLM: maskedPositions[${i}] = ${p} out of range [0, ${n})`);
    }
    const { sequenceOutput } = this.bert.forward(batch, training, { pool: false });
    return this.head.forward(gatherPositions(sequenceOutput, maskedPositions));
  }

  /**
   * Mean cross-entropy over the masked tokens (labels equal to `ignoreIndex`, default -100, are skipped).
   * maskedPositions / maskedLabels: [M] flat positions and their original token ids.
   */
  loss(batch: BertInputs, maskedPositions: Int32Array, maskedLabels: Int32Array, training = true, ignoreIndex = -100): Tensor {
    if (maskedLabels.length !== maskedPositions.length) {
      throw new TensorError(`BertForMaskedLM: ${maskedLabels.length} labels for ${maskedPositions.length} masked positions`);
    }
    return fusedCrossEntropy(this.logits(batch, maskedPositions, training), maskedLabels, ignoreIndex);
  }
}
