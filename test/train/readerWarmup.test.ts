/**
 * The reader's evidence warm-up loop (src/train/readerWarmup.ts): it trains (the rows' span log-likelihood rises); a
 * run killed after a checkpoint — mid-epoch or just after an epoch's reshuffle — and resumed ends with bit-identical
 * reader weights to an uninterrupted run (weights, AdamW moments, dropout and shuffle RNGs, data cursor restored);
 * a checkpoint of another run is refused; bad options are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, noGrad } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import type { JointRow } from '../../src/realm/kaEncoder.js';
import { RealmPretrainModel } from '../../src/realm/model.js';
import { warmUpReader } from '../../src/train/readerWarmup.js';

const TOK = { clsId: 2, sepId: 3, padId: 0 };
const MASK = 4;
const CFG = bertMiniConfig({
  vocab_size: 40, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 48, reader_copy_head: 'span', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
});

/** Rows whose block holds x's masked 2-wordpiece answer (a copy task). */
function copyRows(n: number): JointRow[] {
  const data = new Rng(11);
  return Array.from({ length: n }, (_, i) => {
    const text = Int32Array.from({ length: 12 }, () => 5 + data.int(35));
    const s = data.int(10);
    const x = Int32Array.from({ length: 6 }, () => 5 + data.int(35));
    const targets = [text[s], text[s + 1]];
    x[2] = MASK;
    x[3] = MASK;
    return { x, block: { id: i, titleIds: new Int32Array(0), textIds: text }, positions: [2, 3], targets };
  });
}

function model(): { m: RealmPretrainModel; rng: Rng } {
  const rng = new Rng(5);
  return { m: new RealmPretrainModel(CFG, TOK, rng, { k: 1, queryMaxLen: 8, blockMaxLen: 16, jointMaxLen: 32 }), rng };
}

function weights(m: RealmPretrainModel): Map<string, Float32Array> {
  return new Map([...m.encoder.parameters()].map(([k, t]) => [k, t.data.slice()]));
}

test('warm-up trains: the rows\' span log-likelihood rises', () => {
  const rows = copyRows(8);
  const { m, rng } = model();
  const ll = (): number => noGrad(() => m.encoder.rowLogProbs(TOK, rows, 32, false).data.reduce((a, b) => a + b, 0) / rows.length);
  const before = ll();
  const r = warmUpReader(m, TOK, rows, { epochs: 15, batch: 4, lr: 1e-2, seed: 1, dropoutRng: rng });
  assert.deepEqual(r, { steps: 30, resumedFrom: 0, finished: true });
  const after = ll();
  assert.ok(after > before + 0.5, `mean log p(y|z,x) ${before.toFixed(3)} -> ${after.toFixed(3)}`);
});

test('a killed warm-up resumes from its checkpoint to bit-identical weights (mid-epoch and after a reshuffle)', () => {
  const rows = copyRows(6);
  const opts = { epochs: 3, batch: 2, lr: 5e-3, seed: 1, checkpointEvery: 2 }; // 9 steps, 3 per epoch
  const ref = model();
  warmUpReader(ref.m, TOK, rows, { ...opts, dropoutRng: ref.rng });
  const want = weights(ref.m);
  for (const stopAfter of [3, 5, 8]) { // newest checkpoint at step 2 (mid-epoch 1), 4 (epoch 2 began at 4), 8
    const dir = mkdtempSync(join(tmpdir(), 'warmup-ck-'));
    try {
      const a = model();
      const r1 = warmUpReader(a.m, TOK, rows, { ...opts, dropoutRng: a.rng, checkpointDir: dir, stopAfter });
      assert.equal(r1.finished, false);
      const b = model(); // a fresh process: same init, then the checkpoint
      const r2 = warmUpReader(b.m, TOK, rows, { ...opts, dropoutRng: b.rng, checkpointDir: dir });
      assert.deepEqual(r2, { steps: 9, resumedFrom: Math.floor(stopAfter / 2) * 2, finished: true });
      for (const [name, w] of weights(b.m)) assert.deepEqual(w, want.get(name), `${name} after a kill at step ${stopAfter}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // without restoring the checkpoint (fresh start from step 0 on a killed run's model) the weights differ: the test can fail
  const c = model();
  warmUpReader(c.m, TOK, rows, { ...opts, dropoutRng: c.rng, stopAfter: 4 });
  warmUpReader(c.m, TOK, rows, { ...opts, dropoutRng: c.rng, stopAfter: 5 });
  assert.notDeepEqual(weights(c.m).get('cls.predictions.bias'), want.get('cls.predictions.bias'));
});

test('a checkpoint of another run is refused; bad options are refused', () => {
  const rows = copyRows(6);
  const dir = mkdtempSync(join(tmpdir(), 'warmup-ck-'));
  try {
    const a = model();
    warmUpReader(a.m, TOK, rows, { epochs: 2, batch: 2, lr: 5e-3, seed: 1, dropoutRng: a.rng, checkpointDir: dir, checkpointEvery: 2, stopAfter: 3 });
    assert.ok(existsSync(join(dir, 'latest')));
    const b = model();
    assert.throws(() => warmUpReader(b.m, TOK, rows, { epochs: 2, batch: 3, lr: 5e-3, seed: 1, dropoutRng: b.rng, checkpointDir: dir }), /belongs to another run/);
    assert.throws(() => warmUpReader(b.m, TOK, [], { epochs: 1, batch: 1, lr: 1e-3, seed: 1, dropoutRng: b.rng }), /no rows/);
    assert.throws(() => warmUpReader(b.m, TOK, rows, { epochs: 1, batch: 7, lr: 1e-3, seed: 1, dropoutRng: b.rng }), /batch must be an integer in \[1, 6\]/);
    assert.throws(() => warmUpReader(b.m, TOK, rows, { epochs: 1, batch: 2, lr: 1e-3, seed: 1, dropoutRng: b.rng, checkpointEvery: 0 }), /checkpointEvery must be an integer >= 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
