/**
 * MlmTask batches: single segments are unchanged by the pair option (same batches as before it existed), and pair
 * mode builds `[CLS] a [SEP] b [SEP]` with token types 0 / 1, a a window of its sequence of at most queryLen pieces,
 * b the same sequence (contains a), another sequence of the same document or one of another document in about
 * 1/2, 1/4, 1/4 of the rows; deterministic for a seed; a pair-mode MLM run trains end to end; bad settings are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Rng, poolStats, setPoolLimit } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { BertForMaskedLM } from '../../src/model/mlm.js';
import { chunkDocuments, chunkSequences, MlmTask, type MlmPairOptions } from '../../src/train/mlmTask.js';
import { parsePretrainConfig, PretrainConfigError } from '../../src/train/pretrainConfig.js';
import { runPretrain } from '../../src/train/pretrain.js';
import { MetricsLog } from '../../src/train/metricsLog.js';
import { TINY_MODEL, writeTinyCorpus } from './helpers.js';

const TOKENS = { clsId: 2, sepId: 3, padId: 0, maskId: 4, vocabSize: 50, firstNormalId: 5 };
const cfg = bertMiniConfig({ vocab_size: 50, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, max_position_embeddings: 64 });
// 7 documents of 5..59 ids (the fixture of the golden single-segment test)
const docs = Array.from({ length: 7 }, (_, d) => Int32Array.from({ length: 5 + d * 9 }, (_, i) => 10 + ((d * 7 + i * 3) % 40)));
// the same lengths with ids unique to document and position, so a segment identifies its source (batches only)
const udocs = docs.map((x, d) => Int32Array.from(x, (_, i) => 100 + d * 100 + i));

function task(pairs?: MlmPairOptions, seed = 3, from = docs): { t: MlmTask; seqs: Int32Array[] } {
  const rng = new Rng(seed);
  const { sequences } = chunkDocuments(from, 12);
  return { t: new MlmTask(new BertForMaskedLM(cfg, rng, 'bert'), rng, cfg, TOKENS, sequences, { batchSize: 4, maskProb: 0.15, dataSeed: 1, pairs }), seqs: sequences };
}

/** Row r of a batch with every target restored to its original id (the unmasked input). */
function unmaskedRow(b: ReturnType<MlmTask['nextBatch']>, r: number): number[] {
  const T = b.inputs.seqLen;
  const labels = new Map<number, number>();
  b.positions.forEach((p, i) => labels.set(p, b.labels[i]));
  return Array.from({ length: T }, (_, j) => labels.get(r * T + j) ?? b.inputs.inputIds[r * T + j]);
}

test('single-segment batches are exactly those of the implementation before pair mode', () => {
  const { t } = task();
  const out: Array<string | number> = [];
  for (let i = 0; i < 6; i++) {
    const b = t.nextBatch();
    assert.equal(b.inputs.tokenTypeIds, undefined);
    out.push([...b.inputs.inputIds].join(','), [...b.positions].join(','), [...b.labels].join(','), b.inputs.seqLen);
  }
  // sha1 of the same six batches produced by commit 1801610 (before pair mode) with this setup
  assert.equal(createHash('sha1').update(JSON.stringify(out)).digest('hex'), 'e4ccc7730065a3f0083f64dfc47f94d37b3221fe');
  assert.deepEqual(chunkSequences(docs, 12), chunkDocuments(docs, 12).sequences);
});

test('pair batches: [CLS] a [SEP] b [SEP], types 0/1, a from its sequence, b own / same document / other document', () => {
  const { docOf, sequences } = chunkDocuments(udocs, 12);
  const pairs: MlmPairOptions = { queryLen: 4, maxLen: 14, docOf };
  const { t } = task(pairs, 3, udocs);
  const docOfId = (id: number): number => Math.floor((id - 100) / 100);
  const kinds = { own: 0, sameDoc: 0, otherDoc: 0 };
  let masked = 0;
  for (let step = 0; step < 150; step++) {
    const b = t.nextBatch();
    const T = b.inputs.seqLen;
    masked += b.positions.length;
    for (let r = 0; r < 4; r++) {
      const row = unmaskedRow(b, r);
      const types = Array.from(b.inputs.tokenTypeIds!.subarray(r * T, r * T + T));
      const mask = b.inputs.attentionMask as Uint8Array;
      const len = mask.subarray(r * T, r * T + T).reduce((s, x) => s + x, 0);
      assert.equal(row[0], TOKENS.clsId);
      const sep1 = row.indexOf(TOKENS.sepId);
      const a = row.slice(1, sep1);
      const bSeg = row.slice(sep1 + 1, len - 1);
      assert.equal(row[len - 1], TOKENS.sepId);
      assert.ok(a.length >= 1 && a.length <= 4, `a has ${a.length} pieces`);
      assert.ok(a.length + bSeg.length <= 14 && bSeg.length >= 1);
      assert.deepEqual(types.slice(0, sep1 + 1), new Array(sep1 + 1).fill(0));
      assert.deepEqual(types.slice(sep1 + 1, len), new Array(len - sep1 - 1).fill(1));
      assert.ok(row.slice(len).every((x) => x === TOKENS.padId));
      // a is a contiguous window of one training sequence
      const src = sequences.findIndex((s) => s.includes(a[0]));
      assert.ok(src >= 0 && sequences[src].join(',').includes(a.join(',')), 'a is a window of a training sequence');
      const bSrc = sequences.findIndex((s) => s[0] === bSeg[0]);
      assert.ok(bSrc >= 0 && sequences[bSrc].subarray(0, bSeg.length).join(',') === bSeg.join(','), 'b is the start of a training sequence');
      if (bSrc === src) {
        assert.ok(bSeg.join(',').includes(a.join(',')), 'b = own sequence contains a');
        kinds.own++;
      }
      else if (docOfId(bSeg[0]) === docOfId(a[0])) kinds.sameDoc++;
      else kinds.otherDoc++;
    }
  }
  const n = 600;
  assert.ok(kinds.own > 0.4 * n && kinds.own < 0.62 * n, JSON.stringify(kinds));
  assert.ok(kinds.sameDoc > 0.12 * n && kinds.otherDoc > 0.18 * n, JSON.stringify(kinds));
  assert.ok(masked > 0.1 * n * 10, `masked ${masked}`);
  // deterministic for a seed
  const x = task(pairs, 9, udocs).t.nextBatch();
  const y = task(pairs, 9, udocs).t.nextBatch();
  assert.deepEqual(x, y);
});

test('pair options: ownShare 1 gives only own-sequence b, maskSecond false puts every target in a', () => {
  const { docOf, sequences } = chunkDocuments(udocs, 12);
  const { t } = task({ queryLen: 4, maxLen: 14, docOf, ownShare: 1, maskSecond: false }, 5, udocs);
  let targets = 0;
  for (let step = 0; step < 60; step++) {
    const b = t.nextBatch();
    const T = b.inputs.seqLen;
    for (let r = 0; r < 4; r++) {
      const row = unmaskedRow(b, r);
      const sep1 = row.indexOf(TOKENS.sepId);
      const a = row.slice(1, sep1);
      const src = sequences.findIndex((s) => s.includes(a[0]));
      assert.equal(row[sep1 + 1], sequences[src][0], 'b is the sequence a came from');
    }
    for (const p of b.positions) {
      const r = Math.floor(p / T);
      const sep1 = Array.from(b.inputs.inputIds.subarray(r * T, r * T + T)).indexOf(TOKENS.sepId);
      assert.ok(p % T >= 1 && p % T < sep1, `target at ${p % T} is outside a (ends at ${sep1})`);
      targets++;
    }
  }
  assert.ok(targets >= 240, `${targets} targets`);
  // ownShare 0 never draws the own sequence (except for a document of one sequence, whose 'same document' b is itself)
  const { t: t0 } = task({ queryLen: 4, maxLen: 14, docOf, ownShare: 0 }, 5, udocs);
  for (let step = 0; step < 30; step++) {
    const b = t0.nextBatch();
    const T = b.inputs.seqLen;
    for (let r = 0; r < 4; r++) {
      const ids = Array.from(b.inputs.inputIds.subarray(r * T, r * T + T));
      const sep1 = ids.indexOf(TOKENS.sepId);
      const firstA = ids.slice(1, sep1).find((x) => x >= 100)!;
      const firstB = ids[sep1 + 1];
      if (firstA !== undefined && firstB >= 100 && firstA >= 200) assert.notEqual(sequences.findIndex((s) => s.includes(firstA)), sequences.findIndex((s) => s[0] === firstB), 'ownShare 0 drew the own sequence');
    }
  }
});

test('pair mode is refused with bad settings and trains end to end from a config', async () => {
  const { docOf } = chunkDocuments(docs, 12);
  assert.throws(() => task({ queryLen: 4, maxLen: 14, docOf: docOf.subarray(1) }), /docOf has/);
  assert.throws(() => task({ queryLen: 4, maxLen: 4, docOf }), /maxLen > queryLen/);
  assert.throws(() => task({ queryLen: 4, maxLen: 14, docOf, ownShare: 1.5 }), /ownShare/);
  const dir = mkdtempSync(join(tmpdir(), 'realm-mlm-pairs-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const base = {
      task: 'mlm', seed: 7, outputDir: join(dir, 'out'), threads: 1, model: { vocab, config: TINY_MODEL },
      data: { corpus, seqLen: 24, dataSeed: 3, pairQueryLen: 8 },
      optim: { steps: 40, batchSize: 8, lr: 5e-3, warmupSteps: 4 }, checkpoint: { every: 20, keepLast: 1 }, log: { every: 1, quiet: true, throttleMs: 0 },
    };
    assert.throws(() => parsePretrainConfig({ ...base, data: { ...base.data, pairQueryLen: 24 } }, 'test', dir), (e: unknown) => e instanceof PretrainConfigError && /data\.pairQueryLen/.test(String(e)));
    assert.throws(() => parsePretrainConfig({ ...base, data: { ...base.data, pairOwnShare: '0.5' } }, 'test', dir), (e: unknown) => e instanceof PretrainConfigError && /data\.pairOwnShare/.test(String(e)));
    setPoolLimit(1 << 30);
    await runPretrain(parsePretrainConfig(base, 'test', dir));
    const recs = MetricsLog.read(join(dir, 'out', 'metrics.jsonl'));
    const mean = (a: typeof recs): number => a.reduce((s, r) => s + (r.loss as number), 0) / a.length;
    assert.ok(mean(recs.slice(-10)) < mean(recs.slice(0, 10)) - 0.3, `loss ${mean(recs.slice(0, 10))} -> ${mean(recs.slice(-10))}`);
    // the trainer raised the buffer pool's cap for training (a quarter of the memory; REALM_POOL_MB would win)
    if (!process.env.REALM_POOL_MB) assert.equal(poolStats().limitBytes, Math.max(1 << 30, Math.floor(totalmem() / 4)));
  } finally {
    setPoolLimit(1 << 30);
    rmSync(dir, { recursive: true, force: true });
  }
});
