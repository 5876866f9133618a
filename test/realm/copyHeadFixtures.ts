/**
 * Shared by the copy-head tests (copyHead.test.ts, spanCopyHead.test.ts): a head of hidden size H with random
 * weights, float64 helpers to re-derive its formulas by hand, and the small copy task both heads learn.
 */
import { AdamW, Rng, backward, type Tensor } from '../../src/engine/index.js';
import { bertMiniConfig, type RealmConfig } from '../../src/model/config.js';
import { ParamStore } from '../../src/model/params.js';
import { KnowledgeAugEncoder, type JointRow } from '../../src/realm/kaEncoder.js';

/** A head built by `make` on a fresh store, every parameter drawn from N(0, 0.5²); params in registration order. */
export function headWithRandomWeights<Head>(make: (cfg: RealmConfig, store: ParamStore) => Head, hidden: number, seed: number): { head: Head; params: Tensor[] } {
  const store = new ParamStore();
  const head = make(bertMiniConfig({ hidden_size: hidden, num_attention_heads: 2 }), store);
  const rng = new Rng(seed);
  for (const t of store.params.values()) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * 0.5;
  return { head, params: [...store.params.values()] };
}

/** float64 linear layer: w [out, in] (row-major), b [out], x [in] → [out]. */
export function linear64(w: number[], b: number[], x: number[], out: number): number[] {
  return Array.from({ length: out }, (_, o) => b[o] + x.reduce((s, xi, i) => s + w[o * x.length + i] * xi, 0));
}

/** Row `flat` of a [*, H] tensor as numbers. */
export function rowOf(t: Tensor, flat: number, hidden: number): number[] {
  return Array.from(t.data.subarray(flat * hidden, flat * hidden + hidden));
}

/** Vocabulary of the copy tasks: ids 0-4 are specials ([MASK] = 4), 5..39 the tokens a block is drawn from. */
export const COPY_TASK_VOCAB = 40;

/**
 * Trains a 1-layer reader (hidden 32) with `reader_copy_head: head` on a copy task for 120 steps of 16 rows
 * (`makeRow(data, i)` draws row i of a batch), minimising `lossOf(reader, rows)`; returns the mean loss of steps 101-120.
 */
export function trainCopyTask(
  head: boolean | 'span', maxPositions: number, makeRow: (data: Rng, i: number) => JointRow,
  lossOf: (reader: KnowledgeAugEncoder, rows: JointRow[]) => Tensor,
): number {
  const cfg = bertMiniConfig({
    vocab_size: COPY_TASK_VOCAB, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: maxPositions, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, reader_copy_head: head,
  });
  const reader = new KnowledgeAugEncoder(cfg, new Rng(1));
  const data = new Rng(2);
  const opt = new AdamW(reader.parameters(), { lr: 3e-3, weightDecay: 0, eps: 1e-6 });
  let last = 0;
  for (let step = 1; step <= 120; step++) {
    const rows = Array.from({ length: 16 }, (_, i) => makeRow(data, i));
    opt.zeroGrad();
    const loss = lossOf(reader, rows);
    if (step > 100) last += loss.item() / 20;
    backward(loss);
    opt.step();
  }
  return last;
}
