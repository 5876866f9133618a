// Tests of src/model/config.ts. The fixture test/fixtures/io/hf_realm_config.json is an HF-style config.json written
// by hand from the defaults in transformers' configuration_realm.py (RealmConfig.__init__), keys sorted as HF writes
// them, with HF's extra keys (torch_dtype, transformers_version) that we must keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bertMiniConfig, ConfigError, configToJson, defaultRealmConfig, parseConfig, readConfig, writeConfig,
} from '../../src/model/config.js';

const FIX = new URL('../fixtures/io/', import.meta.url).pathname;
const hfPath = join(FIX, 'hf_realm_config.json');

test('defaults equal HF RealmConfig defaults (every field of the HF file)', () => {
  const hf = JSON.parse(readFileSync(hfPath, 'utf8')) as Record<string, unknown>;
  const d = defaultRealmConfig() as Record<string, unknown>;
  for (const k of Object.keys(d)) assert.deepEqual(d[k], hf[k], k);
  // every HF key is either one of our fields or an HF bookkeeping key
  const extra = Object.keys(hf).filter((k) => !(k in d)).sort();
  assert.deepEqual(extra, ['architectures', 'model_type', 'torch_dtype', 'transformers_version']);
});

test('readConfig of an HF config.json keeps unknown keys; writeConfig round-trips it byte-identically', () => {
  const cfg = readConfig(hfPath);
  assert.equal(cfg.hidden_act, 'gelu_new');
  assert.equal(cfg.reader_layer_norm_eps, 1e-3);
  assert.equal(cfg.transformers_version, '4.17.0.dev0');
  assert.deepEqual(cfg.architectures, ['RealmKnowledgeAugEncoder']);
  assert.equal(configToJson(cfg), readFileSync(hfPath, 'utf8'));
});

test('bertMiniConfig shape and overrides; missing fields take defaults', () => {
  const m = bertMiniConfig({ vocab_size: 8000 });
  assert.deepEqual(
    [m.num_hidden_layers, m.hidden_size, m.num_attention_heads, m.intermediate_size, m.vocab_size, m.retriever_proj_size],
    [2, 256, 4, 1024, 8000, 128],
  );
  const p = parseConfig({ hidden_size: 256, num_attention_heads: 4, hidden_act: 'gelu' });
  assert.equal(p.hidden_act, 'gelu');
  assert.equal(p.num_hidden_layers, 12);
  assert.equal(p.layer_norm_eps, 1e-12);
});

test('invalid fields are named in the error', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ hidden_size: '768' }, 'hidden_size', /expected a positive integer, got "768"/],
    [{ hidden_size: 0 }, 'hidden_size', /positive integer/],
    [{ num_hidden_layers: 1.5 }, 'num_hidden_layers', /non-negative integer/],
    [{ hidden_dropout_prob: 1 }, 'hidden_dropout_prob', /probability/],
    [{ layer_norm_eps: -1 }, 'layer_norm_eps', /positive finite/],
    [{ hidden_act: 'swish' }, 'hidden_act', /one of gelu, gelu_new, relu, got "swish"/],
    [{ pad_token_id: -1 }, 'pad_token_id', /or null/],
    [{ architectures: 'RealmReader' }, 'architectures', /array of strings/],
    [{ hidden_size: 250, num_attention_heads: 4 }, 'num_attention_heads', /not a multiple/],
  ];
  for (const [obj, field, re] of cases) {
    assert.throws(() => parseConfig(obj, 'c.json'), (e: unknown) =>
      e instanceof ConfigError && e.field === field && e.file === 'c.json' && re.test(e.message), field);
  }
  assert.equal(parseConfig({ pad_token_id: null }).pad_token_id, null);
  assert.throws(() => parseConfig([1]), /must be a JSON object/);
});

test('readConfig file errors and atomic writeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  try {
    const p = join(dir, 'config.json');
    assert.throws(() => readConfig(p), (e: unknown) => e instanceof ConfigError && /cannot read \(ENOENT\)/.test(e.message));
    writeFileSync(p, '{"hidden_size": 12,');
    assert.throws(() => readConfig(p), (e: unknown) => e instanceof ConfigError && e.file === p && /not valid JSON/.test(e.message));
    const cfg = bertMiniConfig({ vocab_size: 9000, my_note: { a: [1, 2] } });
    writeConfig(p, cfg, ['RealmEmbedder']);
    assert.deepEqual(readdirSync(dir), ['config.json']);
    const back = readConfig(p);
    assert.deepEqual(back, { ...cfg, model_type: 'realm', architectures: ['RealmEmbedder'] });
    assert.throws(() => writeConfig(p, { ...cfg, hidden_act: 'tanh' as 'relu' }), /hidden_act/);
    assert.deepEqual(readConfig(p), back); // failed write left the old file intact
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
