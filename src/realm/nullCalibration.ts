/**
 * Null-document score calibration (ours; REALM §3.4's null document ∅). The paper's ∅ is an empty document scored by
 * the retriever like any other, so its score follows the scale of f(x,z) = Embed_input(x)·Embed_doc(z). Ours is one
 * learned scalar (`retrieval_null_score`); Adam moves it by about lr per step, so when a warm-started retriever scores
 * its candidates at a very different level than the scalar's start, p(∅|x) stays near 0 (or 1) for the whole run.
 * `calibrateNullScore` sets the scalar, before training, to the mean score of the k-th (weakest) retrieved candidate
 * over a sample of examples: ∅ starts as likely as the last block the model reads. The index must hold the model's
 * current Embed_doc vectors (at step 0 of a run: the initial index of its retriever warm start).
 */
import { noGrad } from '../engine/index.js';
import type { Index } from '../index/types.js';
import type { RealmExample } from './batch.js';
import type { RealmPretrainModel } from './model.js';
import { exclusionsFor, retrieveForBatch, type DocumentGroups, type ExclusionMode } from './retrieval.js';

/** Where the examples come from and which retrievals are trivial (as in training). */
export interface NullCalibrationOptions {
  /** Retrieved blocks per example; the k-th score is used. */
  k: number;
  exclude: ExclusionMode;
  groups?: DocumentGroups;
  /** Queries per forward pass. */
  batchSize?: number;
}

/** Sets `model.nullScore` to mean_x f(x, z_k(x)) over `examples` and returns it. */
export function calibrateNullScore(model: RealmPretrainModel, examples: readonly RealmExample[], index: Index, opts: NullCalibrationOptions): number {
  if (examples.length === 0) throw new RangeError('calibrateNullScore: no examples');
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new RangeError(`calibrateNullScore: k must be a positive integer (got ${opts.k})`);
  const bs = opts.batchSize ?? 64;
  let sum = 0;
  let n = 0;
  noGrad(() => {
    for (let s = 0; s < examples.length; s += bs) {
      const batch = examples.slice(s, s + bs);
      const q = model.embedQueries(batch, false).data; // [B, P]
      const { staleScores } = retrieveForBatch(q.slice(), index, opts.k, exclusionsFor(batch, opts.exclude, opts.groups));
      for (const row of staleScores) {
        if (row.length === 0) continue;
        sum += row[row.length - 1] * model.scoreScale; // the index's inner product of the weakest retrieved block
        n++;
      }
    }
  });
  if (n === 0) throw new RangeError('calibrateNullScore: no example retrieved a block');
  model.nullScore.data[0] = sum / n;
  return sum / n;
}
