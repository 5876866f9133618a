/**
 * The model configuration, with exactly the field names and defaults of HF's `RealmConfig` (transformers
 * `models/deprecated/realm/configuration_realm.py`, which extends BERT's fields) so that `config.json` files move both
 * ways between HF checkpoints and ours. Sizes follow REALM §3–4 (retriever projection d = 128, reader spans ≤ 10 tokens,
 * blocks of 288 wordpieces + 32 query tokens); `bertMiniConfig` is the scaled-down trunk this project trains on 2 cores.
 *
 * `readConfig`/`parseConfig` fill missing fields with the defaults (as HF does), keep unknown keys untouched and
 * reject a wrongly typed or out-of-range field with a `ConfigError` naming it; `writeConfig` writes atomically.
 */

import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic.js';

/** Activation names of HF's ACT2FN this project implements ("gelu" = erf form, "gelu_new" = tanh approximation). */
export type HiddenAct = 'gelu' | 'gelu_new' | 'relu';
export const HIDDEN_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'relu'];

/** HF RealmConfig fields (snake_case as in config.json). Unknown keys from a file are kept as extra properties. */
export interface RealmConfig {
  /** Wordpiece vocabulary size (rows of the word embedding and the MLM decoder). */
  vocab_size: number;
  /** Width of every encoder layer and of the pooler. */
  hidden_size: number;
  /** Dimension of the retriever's embedding projection (REALM: d = 128). */
  retriever_proj_size: number;
  /** Transformer layers in each BERT. */
  num_hidden_layers: number;
  /** Attention heads per layer (must divide hidden_size). */
  num_attention_heads: number;
  /** Retrieved candidates fed to the scorer / knowledge-augmented encoder (REALM pre-training: k = 8). */
  num_candidates: number;
  /** Width of the feed-forward layer. */
  intermediate_size: number;
  /** Activation of the feed-forward layer and MLM transform ("gelu_new" in REALM checkpoints). */
  hidden_act: HiddenAct;
  /** Dropout on embeddings, encoder and pooler outputs. */
  hidden_dropout_prob: number;
  /** Dropout on attention probabilities. */
  attention_probs_dropout_prob: number;
  /** Longest sequence the position embeddings cover. */
  max_position_embeddings: number;
  /** Number of token-type (segment) ids. */
  type_vocab_size: number;
  /** Std of the (truncated) normal weight initialiser. */
  initializer_range: number;
  /** Epsilon of the encoder's LayerNorms. */
  layer_norm_eps: number;
  /** Width of the reader's span start/end representations. */
  span_hidden_size: number;
  /** Longest answer span (tokens) the reader scores. */
  max_span_width: number;
  /** Epsilon of the reader's span LayerNorm (1e-3, unlike the encoder's). */
  reader_layer_norm_eps: number;
  /** Evidence blocks the reader reads per question (top-k at fine-tuning/inference: 5). */
  reader_beam_size: number;
  /** Reader input length: 288-token block + 32-token question. */
  reader_seq_len: number;
  /** Blocks in the knowledge corpus (HF default: the 13,353,718 Wikipedia blocks). */
  num_block_records: number;
  /** Blocks the MIPS searcher returns during training (eval uses reader_beam_size). */
  searcher_beam_size: number;
  /** Id of the padding token (HF RealmConfig default 1; BERT vocabularies use 0). */
  pad_token_id: number | null;
  /** Id of the beginning-of-sequence token (HF default 0; unused by BERT-style inputs). */
  bos_token_id: number | null;
  /** Id of the end-of-sequence token (HF default 2; unused by BERT-style inputs). */
  eos_token_id: number | null;
  /** Ours, not HF's: the knowledge-augmented encoder adds a copy (pointer) head `cls.copy.*`: true = per token
   *  (src/realm/copyHead.ts), "span" = one pointer per masked span (src/realm/spanCopyHead.ts, needs the span
   *  marginal). Absent or false in HF checkpoints, which load unchanged. */
  reader_copy_head?: boolean | 'span';
  /** Ours, not HF's: layers of the knowledge-augmented encoder (the reader) when it is deeper or shallower than the
   *  embedders' num_hidden_layers (e.g. a reader deepened by progressive stacking, src/model/stack.ts). Absent in HF
   *  checkpoints: every BERT then has num_hidden_layers, as in HF. */
  reader_num_hidden_layers?: number;
  /** Ours, not HF's: the reader's own width, heads and FFN size when it is wider than the embedders (e.g. a reader
   *  trunk pre-trained wider than the ICT retriever it is paired with). The reader only reads tokens and the
   *  embedders only emit retriever_proj_size vectors, so the two sides share no hidden state. Absent in HF
   *  checkpoints: every BERT then has hidden_size / num_attention_heads / intermediate_size, as in HF. */
  reader_hidden_size?: number;
  reader_num_attention_heads?: number;
  reader_intermediate_size?: number;
  /** Always "realm" when written. */
  model_type?: string;
  /** Class names the weights belong to (HF convention), e.g. ["RealmKnowledgeAugEncoder"]. */
  architectures?: string[];
  /** Keys we do not interpret (transformers_version, torch_dtype, …), kept for round trips. */
  [extra: string]: unknown;
}

/** Error for an unreadable or invalid config, naming the file and field. */
export class ConfigError extends Error {
  /** File (or "<object>") the error concerns. */
  readonly file: string;
  /** Offending field, if any. */
  readonly field: string | undefined;

  constructor(file: string, message: string, field?: string) {
    super(`${file}: ${field !== undefined ? `field "${field}": ` : ''}${message}`);
    this.name = 'ConfigError';
    this.file = file;
    this.field = field;
  }
}

/** HF RealmConfig's defaults (the google/realm-cc-news-pretrained-* shape: BERT-base). */
export function defaultRealmConfig(overrides: Partial<RealmConfig> = {}): RealmConfig {
  return {
    vocab_size: 30522,
    hidden_size: 768,
    retriever_proj_size: 128,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    num_candidates: 8,
    intermediate_size: 3072,
    hidden_act: 'gelu_new',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    span_hidden_size: 256,
    max_span_width: 10,
    reader_layer_norm_eps: 1e-3,
    reader_beam_size: 5,
    reader_seq_len: 320,
    num_block_records: 13353718,
    searcher_beam_size: 5000,
    pad_token_id: 1,
    bos_token_id: 0,
    eos_token_id: 2,
    ...overrides,
  };
}

/** BERT-mini trunk (2 layers, hidden 256, 4 heads, FFN 1024) with REALM's other defaults. */
export function bertMiniConfig(overrides: Partial<RealmConfig> = {}): RealmConfig {
  return defaultRealmConfig({
    hidden_size: 256, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 1024, ...overrides,
  });
}

type FieldKind = 'posInt' | 'nonNegInt' | 'prob' | 'posFloat' | 'tokenId';

const FIELD_KINDS: Readonly<Record<string, FieldKind>> = {
  vocab_size: 'posInt', hidden_size: 'posInt', retriever_proj_size: 'posInt', num_hidden_layers: 'nonNegInt',
  num_attention_heads: 'posInt', num_candidates: 'posInt', intermediate_size: 'posInt',
  hidden_dropout_prob: 'prob', attention_probs_dropout_prob: 'prob', max_position_embeddings: 'posInt',
  type_vocab_size: 'posInt', initializer_range: 'posFloat', layer_norm_eps: 'posFloat', span_hidden_size: 'posInt',
  max_span_width: 'posInt', reader_layer_norm_eps: 'posFloat', reader_beam_size: 'posInt', reader_seq_len: 'posInt',
  num_block_records: 'nonNegInt', searcher_beam_size: 'posInt',
  pad_token_id: 'tokenId', bos_token_id: 'tokenId', eos_token_id: 'tokenId',
};

function checkField(file: string, key: string, kind: FieldKind, v: unknown): void {
  const bad = (want: string): never => {
    throw new ConfigError(file, `expected ${want}, got ${JSON.stringify(v)}`, key);
  };
  switch (kind) {
    case 'posInt':
      if (!Number.isSafeInteger(v) || (v as number) < 1) bad('a positive integer');
      break;
    case 'nonNegInt':
      if (!Number.isSafeInteger(v) || (v as number) < 0) bad('a non-negative integer');
      break;
    case 'tokenId':
      if (v !== null && (!Number.isSafeInteger(v) || (v as number) < 0)) bad('a non-negative integer or null');
      break;
    case 'prob':
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) bad('a probability in [0, 1)');
      break;
    case 'posFloat':
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad('a positive finite number');
      break;
  }
}

/** Validate a parsed config.json object; missing known fields take HF's defaults, unknown keys are kept. */
export function parseConfig(json: unknown, file = '<object>'): RealmConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(file, 'config must be a JSON object');
  }
  const raw = json as Record<string, unknown>;
  const cfg = defaultRealmConfig();
  for (const [key, v] of Object.entries(raw)) {
    const kind = Object.hasOwn(FIELD_KINDS, key) ? FIELD_KINDS[key] : undefined;
    if (kind) checkField(file, key, kind, v);
    else if (key === 'hidden_act') {
      if (typeof v !== 'string' || !(HIDDEN_ACTS as readonly string[]).includes(v)) {
        throw new ConfigError(file, `expected one of ${HIDDEN_ACTS.join(', ')}, got ${JSON.stringify(v)}`, key);
      }
    } else if (key === 'reader_copy_head') {
      if (typeof v !== 'boolean' && v !== 'span') throw new ConfigError(file, `expected true, false or "span", got ${JSON.stringify(v)}`, key);
    } else if (READER_SHAPE_KEYS.includes(key)) {
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new ConfigError(file, `expected an integer >= 1, got ${JSON.stringify(v)}`, key);
    } else if (key === 'model_type') {
      if (typeof v !== 'string') throw new ConfigError(file, `expected a string, got ${JSON.stringify(v)}`, key);
    } else if (key === 'architectures') {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
        throw new ConfigError(file, `expected an array of strings, got ${JSON.stringify(v)}`, key);
      }
    }
    Object.defineProperty(cfg, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    throw new ConfigError(
      file, `hidden_size ${cfg.hidden_size} is not a multiple of num_attention_heads ${cfg.num_attention_heads}`,
      'num_attention_heads',
    );
  }
  const reader = readerTrunkConfig(cfg);
  if (reader.hidden_size % reader.num_attention_heads !== 0) {
    throw new ConfigError(
      file, `the reader's hidden size ${reader.hidden_size} is not a multiple of its ${reader.num_attention_heads} attention heads`,
      cfg.reader_num_attention_heads !== undefined ? 'reader_num_attention_heads' : 'reader_hidden_size',
    );
  }
  return cfg;
}

/** Our reader-shape extensions (each an integer >= 1 overriding the BERT field of the same name without `reader_`). */
const READER_SHAPE_KEYS: readonly string[] = ['reader_num_hidden_layers', 'reader_hidden_size', 'reader_num_attention_heads', 'reader_intermediate_size'];

/** The configuration of the knowledge-augmented encoder's BERT: `cfg` with num_hidden_layers, hidden_size,
 *  num_attention_heads and intermediate_size replaced by their `reader_*` extensions where set. */
export function readerTrunkConfig(cfg: RealmConfig): RealmConfig {
  const out = { ...cfg };
  if (cfg.reader_num_hidden_layers !== undefined) out.num_hidden_layers = cfg.reader_num_hidden_layers;
  if (cfg.reader_hidden_size !== undefined) out.hidden_size = cfg.reader_hidden_size;
  if (cfg.reader_num_attention_heads !== undefined) out.num_attention_heads = cfg.reader_num_attention_heads;
  if (cfg.reader_intermediate_size !== undefined) out.intermediate_size = cfg.reader_intermediate_size;
  return out;
}

/** Read and validate a config.json (HF or ours). */
export function readConfig(path: string): RealmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(path, `not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, path);
}

/**
 * The JSON text `writeConfig` writes: validated, `model_type: "realm"`, `architectures` when given (argument or
 * field), keys sorted and indented by 2 like HF's `to_json_file`.
 */
export function configToJson(cfg: RealmConfig, architectures?: string[]): string {
  const obj: Record<string, unknown> = { ...cfg, model_type: 'realm' };
  if (architectures) obj.architectures = architectures;
  parseConfig(obj, '<config to write>');
  const sorted: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(obj).sort()) if (obj[k] !== undefined) sorted[k] = obj[k];
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** Write `cfg` to `path` atomically (see configToJson). */
export function writeConfig(path: string, cfg: RealmConfig, architectures?: string[]): void {
  writeFileAtomicSync(path, configToJson(cfg, architectures));
}
