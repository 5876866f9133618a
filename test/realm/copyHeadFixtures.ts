/**
 * Shared by the copy-head tests (copyHead.test.ts, spanCopyHead.test.ts): a head of hidden size H with random
 * weights, and float64 helpers to re-derive its formulas by hand.
 */
import { Rng, type Tensor } from '../../src/engine/index.js';
import { bertMiniConfig, type RealmConfig } from '../../src/model/config.js';
import { ParamStore } from '../../src/model/params.js';

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
