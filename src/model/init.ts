/**
 * BERT weight initialisation (HF `BertPreTrainedModel._init_weights`, as in the original BERT code): dense and
 * embedding matrices ~ N(0, initializer_range), biases zero, LayerNorm weight one and bias zero, and the padding
 * token's embedding row zeroed.
 */
import type { Rng } from '../engine/index.js';
import type { RealmConfig } from './config.js';
import type { ParamStore } from './params.js';

/** Initialises every parameter of `store` in place (registration order, so a seed gives the same weights). */
export function initBertParams(store: ParamStore, cfg: RealmConfig, rng: Rng): void {
  for (const [name, t] of store.params) {
    const kind = store.kinds.get(name);
    switch (kind) {
      case 'weight':
      case 'embedding':
        rng.fillNormal(t.data, 0, cfg.initializer_range);
        if (kind === 'embedding' && name.endsWith('word_embeddings.weight') && cfg.pad_token_id !== null) {
          const H = t.shape[1];
          if (cfg.pad_token_id >= 0 && cfg.pad_token_id < t.shape[0]) t.data.fill(0, cfg.pad_token_id * H, (cfg.pad_token_id + 1) * H);
        }
        break;
      case 'lnWeight':
        t.data.fill(1);
        break;
      default:
        t.data.fill(0);
    }
  }
}
