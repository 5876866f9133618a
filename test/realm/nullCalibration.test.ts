/**
 * Null-document calibration (src/realm/nullCalibration.ts): the scalar null score is set to the mean, over the sample,
 * of scoreScale x the inner product of the query with its k-th best block (own document excluded), recomputed here by
 * brute force over the block vectors; bad arguments are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, Rng } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { calibrateNullScore } from '../../src/realm/nullCalibration.js';
import { DocumentGroups } from '../../src/realm/retrieval.js';
import { TinyWorld, tinyModel } from './tiny.js';

test('calibrateNullScore: null score = mean scoreScale * <q, d_k> of the k-th block (own document excluded), by brute force', () => {
  const rng = new Rng(4);
  const world = new TinyWorld(12, 6, rng);
  const model = tinyModel(world, 5, { scoreScale: 0.3, k: 3 });
  const blocks = Array.from({ length: 12 }, (_, i) => world.block(i, rng));
  const d = noGrad(() => model.embedBlocks(blocks, false)).data; // [12, P]
  const P = model.cfg.retriever_proj_size;
  const index = new FlatIndex({ dim: P, kernels: 'js' });
  index.add(Array.from({ length: 12 }, (_, i) => i), d.slice());
  const groups = new DocumentGroups(Array.from({ length: 12 }, (_, i) => `doc${Math.floor(i / 2)}`)); // two blocks per document
  const examples = Array.from({ length: 10 }, (_, i) => world.query(i, i));
  const q = noGrad(() => model.embedQueries(examples, false)).data;
  let want = 0;
  examples.forEach((e, b) => {
    const own = new Set(groups.sameDocument(e.sourceBlockId!));
    const scores: number[] = [];
    for (let j = 0; j < 12; j++) {
      if (own.has(j)) continue;
      let s = 0;
      for (let c = 0; c < P; c++) s += q[b * P + c] * d[j * P + c];
      scores.push(s);
    }
    scores.sort((x, y) => y - x);
    want += 0.3 * scores[2];
  });
  want /= examples.length;
  const got = calibrateNullScore(model, examples, index, { k: 3, exclude: 'document', groups, batchSize: 4 });
  assert.ok(Math.abs(got - want) < 1e-4, `calibrated ${got} vs brute force ${want}`);
  assert.ok(Math.abs(model.nullScore.data[0] - want) < 1e-4);
  assert.throws(() => calibrateNullScore(model, [], index, { k: 3, exclude: 'none' }), /no examples/);
  assert.throws(() => calibrateNullScore(model, examples, index, { k: 0, exclude: 'none' }), /positive integer/);
});
