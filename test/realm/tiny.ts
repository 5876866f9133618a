/**
 * A tiny synthetic REALM world for the model tests: a word-level vocabulary of entities e0..e{n-1}, relations,
 * answers a0..a{n-1} and filler words; facts "e_i has answer a_{π(i)}"; a block per entity whose text states its
 * fact among fillers; masked queries `e_i r [MASK]`. A reader that copies the answer token from a block can fill the
 * mask only with the right block, so retrieval matters. Helpers warm up the reader (copying, by MLM on joint inputs)
 * and the retriever (in-batch softmax over the blocks, like ICT) with the real model code.
 */
import { AdamW, Rng, backward, crossEntropy, matmul, scale, sum } from '../../src/engine/index.js';
import { bertMiniConfig, type RealmConfig } from '../../src/model/config.js';
import type { BlockTokens, RealmExample } from '../../src/realm/batch.js';
import type { JointRow } from '../../src/realm/kaEncoder.js';
import { IGNORE_LABEL } from '../../src/realm/batch.js';
import { RealmPretrainModel, type RealmPretrainOptions } from '../../src/realm/model.js';

export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;
export const MASK = 4;

/** Ids of the synthetic world. */
export class TinyWorld {
  readonly n: number;
  readonly nFill: number;
  readonly vocab: string[];
  /** answer index of entity i. */
  readonly answerOf: number[];
  constructor(n: number, nFill: number, rng: Rng) {
    this.n = n;
    this.nFill = nFill;
    this.vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'has'];
    for (let i = 0; i < n; i++) this.vocab.push(`e${i}`);
    for (let i = 0; i < n; i++) this.vocab.push(`a${i}`);
    for (let i = 0; i < nFill; i++) this.vocab.push(`w${i}`);
    this.answerOf = Array.from(rng.permutation(n));
  }
  get has(): number { return 5; }
  entity(i: number): number { return 6 + i; }
  answer(i: number): number { return 6 + this.n + i; }
  filler(i: number): number { return 6 + 2 * this.n + i; }
  get vocabSize(): number { return this.vocab.length; }

  /** Block of entity i: title [e_i], text = fillers, e_i has a_i, fillers (answer position varies with rng). */
  block(i: number, rng: Rng, id = i, answer = this.answerOf[i]): BlockTokens {
    const before = rng.int(4);
    const after = rng.int(4);
    const text: number[] = [];
    for (let j = 0; j < before; j++) text.push(this.filler(rng.int(this.nFill)));
    text.push(this.entity(i), this.has, this.answer(answer));
    for (let j = 0; j < after; j++) text.push(this.filler(rng.int(this.nFill)));
    return { id, titleIds: Int32Array.of(this.entity(i)), textIds: Int32Array.from(text) };
  }

  /** Query `e_i has [MASK]` with label a_i. */
  query(i: number, sourceBlockId?: number, answer = this.answerOf[i]): RealmExample {
    return {
      inputIds: Int32Array.of(this.entity(i), this.has, MASK),
      labels: Int32Array.of(IGNORE_LABEL, IGNORE_LABEL, this.answer(answer)),
      answer: `a${answer}`,
      sourceBlockId,
    };
  }
}

/** A small config: 2 layers, hidden 32, projection 16, no dropout (deterministic). */
export function tinyConfig(vocabSize: number, over: Partial<RealmConfig> = {}): RealmConfig {
  return bertMiniConfig({
    vocab_size: vocabSize, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: 64, retriever_proj_size: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
    pad_token_id: PAD, ...over,
  });
}

export const SPECIALS = { clsId: CLS, sepId: SEP, padId: PAD };

/** A RealmPretrainModel of the tiny world. */
export function tinyModel(world: TinyWorld, seed: number, opts: Partial<RealmPretrainOptions> = {}, cfg?: Partial<RealmConfig>): RealmPretrainModel {
  return new RealmPretrainModel(tinyConfig(world.vocabSize, cfg), SPECIALS, new Rng(seed), {
    k: 2, queryMaxLen: 16, blockMaxLen: 24, jointMaxLen: 40, ...opts,
  });
}

/**
 * Teaches the encoder to copy: MLM on `[CLS] e_i has [MASK] [SEP] title [SEP] text [SEP]` where the block states a
 * RANDOM answer for e_i each time (so only copying works). Returns the final mean copy probability.
 */
export function warmUpReader(model: RealmPretrainModel, world: TinyWorld, rng: Rng, steps: number, batch = 16, lr = 3e-3): number {
  const opt = new AdamW(model.encoder.parameters(), { lr, weightDecay: 0 });
  let lastP = 0;
  for (let s = 0; s < steps; s++) {
    const rows: JointRow[] = [];
    for (let b = 0; b < batch; b++) {
      const i = rng.int(world.n);
      const a = rng.int(world.n);
      const q = world.query(i, undefined, a);
      rows.push({ x: q.inputIds, block: world.block(i, rng, 0, a), positions: [2], targets: [world.answer(a)] });
    }
    const lp = model.encoder.rowLogProbs(SPECIALS, rows, model.opts.jointMaxLen, true); // [batch] (one target per row)
    let mean = 0;
    for (const v of lp.data) mean += Math.exp(v) / batch;
    lastP = mean;
    const loss = scale(sum(lp), -1 / batch); // mean −log p(copy)
    opt.zeroGrad();
    backward(loss);
    opt.step();
  }
  opt.zeroGrad();
  return lastP;
}

/**
 * ICT-like warm start of the two embedders: in-batch softmax over the n entity blocks, query `e_i has [MASK]`
 * against block i (fresh random fillers each step). Returns the last step's accuracy.
 */
export function warmUpRetriever(model: RealmPretrainModel, world: TinyWorld, rng: Rng, steps: number, lr = 2e-3): number {
  const opt = new AdamW(model.scorer.parameters(), { lr, weightDecay: 0 });
  let acc = 0;
  for (let s = 0; s < steps; s++) {
    const ids = Array.from({ length: world.n }, (_, i) => i);
    const q = model.embedQueries(ids.map((i) => world.query(i)), true); // [n, P]
    const d = model.embedBlocks(ids.map((i) => world.block(i, rng)), true); // [n, P]
    const logits = matmul(q, d, { transB: true }); // [n, n]
    const loss = crossEntropy(logits, Int32Array.from(ids));
    acc = 0;
    for (let r = 0; r < world.n; r++) {
      let best = 0;
      for (let c = 1; c < world.n; c++) if (logits.data[r * world.n + c] > logits.data[r * world.n + best]) best = c;
      if (best === r) acc += 1 / world.n;
    }
    opt.zeroGrad();
    backward(loss);
    opt.step();
  }
  opt.zeroGrad();
  return acc;
}
