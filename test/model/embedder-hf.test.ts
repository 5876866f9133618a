/**
 * RealmEmbedder against Hugging Face: a tiny random transformers `RealmEmbedder` (test/fixtures/embedder, made by
 * make_fixture.py with transformers 4.57.6 / torch) — its safetensors state dict (with the unused cls.predictions
 * head) and config.json load into our RealmEmbedder and into both sides of our RealmScorer, and `projected_score` for a
 * padded batch matches PyTorch's to float32 precision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/engine/index.js';
import { readConfig } from '../../src/model/config.js';
import { RealmEmbedder } from '../../src/model/embedder.js';
import { RealmScorer } from '../../src/retriever/scorer.js';
import type { BertInputs } from '../../src/model/bert.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'embedder');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][]; projected_score: number[][]; state_dict_names: string[];
};
const x: BertInputs = {
  inputIds: Int32Array.from(expected.input_ids.flat()),
  tokenTypeIds: Int32Array.from(expected.token_type_ids.flat()),
  attentionMask: Uint8Array.from(expected.attention_mask.flat()),
  batch: expected.input_ids.length,
  seqLen: expected.input_ids[0].length,
};

function close(got: Float32Array, want: number[][], what: string): void {
  const flat = want.flat();
  assert.equal(got.length, flat.length);
  for (let i = 0; i < flat.length; i++) assert.ok(Math.abs(got[i] - flat[i]) < 2e-4, `${what}[${i}]: ${got[i]} vs HF ${flat[i]}`);
}

test('HF RealmEmbedder checkpoint loads and gives the same projected_score', () => {
  const cfg = readConfig(join(dir, 'config.json'));
  const e = new RealmEmbedder(cfg, new Rng(0), { init: false });
  e.load(join(dir, 'realm_embedder_tiny.safetensors'));
  close(e.embed(x), expected.projected_score, 'embedder');
  // every HF name except the unused MLM head is one of ours
  const ours = new Set(e.parameters().keys());
  assert.deepEqual(expected.state_dict_names.filter((n) => !n.startsWith('cls.predictions.')).sort(), [...ours].sort());
});

test('the same HF file gives RealmScorer identical query and document embedders', () => {
  const cfg = readConfig(join(dir, 'config.json'));
  const s = new RealmScorer(cfg, new Rng(0), { init: false });
  s.load(join(dir, 'realm_embedder_tiny.safetensors'));
  close(s.queryEmbedder.embed(x), expected.projected_score, 'query_embedder');
  close(s.docEmbedder.embed(x), expected.projected_score, 'embedder');
});
