/**
 * The pre-training config file (JSON): every hyper-parameter of a REALM pre-training run (Guu et al. 2020 §3.4, §B)
 * or of the MLM warm-up of its encoder, with defaults for a BERT-mini on 2 CPU cores. `readPretrainConfig` merges a
 * file over the defaults section by section, rejects unknown keys and wrongly typed values naming the field, and
 * resolves relative paths against the config file's directory. Example files live in configs/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { RealmConfig } from '../model/config.js';

/** What is trained. */
export type PretrainTaskKind = 'realm' | 'mlm';

/** Model files and shape. */
export interface ModelSection {
  /** WordPiece vocabulary (vocab.txt); null = train one on the corpus (`vocabSize`) and save it in the output dir. */
  vocab: string | null;
  /** Vocabulary size when a vocabulary is trained. */
  vocabSize: number;
  /** Warm start: a model directory or .safetensors file (MLM BERT for the encoder, ICT scorer for the embedders). */
  init: string | null;
  /** Warm start of the two embedders from an ICT scorer file (REALM §3.4 cold start); null = none. */
  retrieverInit: string | null;
  /** RealmConfig fields overriding BERT-mini (hidden_size, num_hidden_layers, dropout, ...). */
  config: Partial<RealmConfig>;
}

/** Training data. */
export interface DataSection {
  /** Corpus spec(s) of the training text / knowledge corpus, concatenated in order: `wordnet`, a shared corpus name
   *  (e.g. `enwiki2015_lead100`), a .jsonl[.gz] path or a text file/dir (relative paths: from the config's folder). */
  corpus: string | string[];
  /** Read at most this many documents (0 = all). */
  maxDocs: number;
  /** MLM: wordpieces per training sequence (without [CLS]/[SEP]); in pair mode, of both segments together. */
  seqLen: number;
  /** MLM: 0 = single segments `[CLS] s [SEP]`; > 0 = segment pairs `[CLS] a [SEP] b [SEP]` in the REALM reader's
   *  layout with a of at most this many wordpieces (REALM's query length; see src/train/mlmTask.ts). */
  pairQueryLen: number;
  /** MLM pairs: share of rows whose b is a's own sequence (0.5; the rest: same / other document, evenly). */
  pairOwnShare: number;
  /** MLM pairs: also mask targets in b (true); false = targets only in a, like the REALM reader (copy curriculum). */
  pairMaskSecond: boolean;
  /** REALM: the knowledge corpus as a document store (.docs); null = cut `corpus` into blocks and build one. */
  docStore: string | null;
  /** REALM: an initial index file of the document store; null = embed the corpus at step 0. */
  index: string | null;
  /** REALM: masking strategy (salient = the paper; the others are its ablation). */
  masking: 'salient' | 'random-span' | 'random-token';
  /** MLM / random-token masking: share of wordpieces masked. */
  maskProb: number;
  /** Seed of the data order (separate so the order depends only on the cursor). */
  dataSeed: number;
  /** REALM: share of documents whose sentences are never trained on (held out for evaluation; chosen by a hash of
   *  the document id; their blocks stay in the knowledge corpus). Listed in `<outputDir>/heldout.json`. */
  heldoutFraction: number;
  /** REALM: mask the sentences of at most this many training blocks (seeded sample; 0 = all) plus every held-out
   *  Wikipedia block — salient masking runs an NER tagger, tens of ms per passage. */
  exampleBlocks: number;
}

/** Optimisation (REALM §B: BERT's AdamW, linear warm-up and decay). */
export interface OptimSection {
  /** Total optimisation steps. */
  steps: number;
  /** Examples per step. */
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warm-up steps. */
  warmupSteps: number;
  /** Decoupled weight decay (not on biases / LayerNorm). */
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  clipNorm: number;
  /** AdamW betas. */
  betas: [number, number];
  /** AdamW epsilon. */
  eps: number;
}

/** Checkpointing. */
export interface CheckpointSection {
  /** Save every this many steps (and at the end). */
  every: number;
  /** Checkpoints kept. */
  keepLast: number;
}

/** Logging. */
export interface LogSection {
  /** Non-TTY progress line every this many steps. */
  every: number;
  /** No progress output at all. */
  quiet: boolean;
  /** Sleep after each step (ms) to share the machine or to test kill/resume. */
  throttleMs: number;
}

/** REALM model options (src/realm RealmPretrainOptions). */
export interface RealmSection {
  /** Retrieved blocks per example (paper: 8), plus the null document. */
  k: number;
  /** Longest query `[CLS] x [SEP]`. */
  queryMaxLen: number;
  /** Longest block input `[CLS] title [SEP] text [SEP]` (paper: 288). */
  blockMaxLen: number;
  /** Longest joint input of the knowledge-augmented encoder. */
  jointMaxLen: number;
  /** Marginalise whole spans ('span', paper) or each token ('token', HF/TF code). */
  marginal: 'span' | 'token';
  /** Add the null document with a learned score. */
  nullDocument: boolean;
  /** Trivial retrievals dropped: x's own block, its whole document, or none. */
  exclude: 'none' | 'block' | 'document';
  /** Train Embed_doc (the paper); false keeps it at its warm start (ICT): no stale index, no refresh needed. */
  trainDocEmbedder: boolean;
  /** Train the knowledge-augmented encoder (the paper); false keeps the reader at model.init while the retriever
   *  side learns from its reward (optional; default true). */
  trainReader: boolean;
  /** BM25 blocks added to the k MIPS blocks of each example (0 = the paper). Every candidate is still scored by the
   *  embedders; a remedy for a weak retriever warm start, whose reader otherwise learns to ignore evidence. */
  lexicalCandidates: number;
  /** Positive factor on the relevance scores (1 = the paper; ranking unchanged): how peaked p(z|x) starts. */
  scoreScale: number;
  /** Learn the factor (ours, starting at scoreScale), so the reward can sharpen p(z|x); false = fixed. */
  learnScoreScale: boolean;
  /** Weight w of a BM25 term in the relevance score, f(x,z) = scale·q·d + w·BM25(x,z) (ours; 0 = off, the paper). */
  lexicalScoreWeight: number;
  /** Learn w from the reward (starting at lexicalScoreWeight); false = fixed. */
  learnLexicalScoreWeight: boolean;
  /**
   * Start the null document's score (ours) at the mean score of the k-th (weakest) MIPS candidate over a sample of
   * training examples, computed from `model.retrieverInit` + `data.index` before the first step, so p(∅|x) starts
   * like a retrieved block's whatever the scale of the warm-started retriever's scores (nothing to do when k = 0: ∅ is
   * then the only document); false = the model's init (0, or model.init's value). Our scalar stands for the paper's
   * empty document, whose score would follow the retriever's scale by itself; Adam moves the scalar by at most ~lr per
   * step, so a badly placed start persists.
   */
  calibrateNullScore: boolean;
}

/** Asynchronous index refresh (REALM §3.4). */
export interface RefreshSection {
  /** Take a document-embedder snapshot and rebuild the index every this many steps (0 = never refresh). */
  every: number;
  /** 'deterministic': the new index is swapped in exactly `lag` steps after its snapshot (waiting if it is late), so
   *  runs and resumes are reproducible; 'asap': swapped in at the first step boundary after it is ready (REALM's way). */
  swap: 'deterministic' | 'asap';
  /** Steps between snapshot and swap in deterministic mode (1 <= lag <= every). */
  lag: number;
  /** Where the refresh runs: 'process' (a child process with its own native thread pool: fast) or 'thread' (a
   *  worker thread; must use the 'js' backend because the native addon's thread pool is process-wide). */
  runner: 'thread' | 'process';
  /** Tensor backend of the refresh: 'native' (process runner only) or 'js'. */
  workerBackend: 'js' | 'native';
  /** GEMM threads of a native refresh process (the trainer keeps the other cores when `threads` is 0). */
  workerThreads: number;
  /** Index type built: flat (exact), scann, or auto (flat up to flatMaxBlocks). */
  indexKind: 'flat' | 'scann' | 'auto';
  /** Largest corpus indexed with the exact FlatIndex in auto mode. */
  flatMaxBlocks: number;
  /** Blocks per embedding forward pass in the worker. */
  batchSize: number;
  /** Fixed probe queries used to measure top-k churn between successive indexes. */
  probeQueries: number;
}

/** A whole pre-training config. */
export interface PretrainConfig {
  /** 'realm' (retrieval-augmented MLM) or 'mlm' (plain BERT MLM, the encoder warm-up). */
  task: PretrainTaskKind;
  /** Seed of initialisation, dropout, masking and sampling. */
  seed: number;
  /** Output directory: checkpoints/, metrics.jsonl, index/ snapshots, model/ (the exported model directory). */
  outputDir: string;
  /** Native GEMM threads of the trainer (0 = all cores). */
  threads: number;
  model: ModelSection;
  data: DataSection;
  optim: OptimSection;
  checkpoint: CheckpointSection;
  log: LogSection;
  realm: RealmSection;
  refresh: RefreshSection;
}

/** Defaults: BERT-mini REALM on the shared Wikipedia passages, short CPU run. */
export const PRETRAIN_DEFAULTS: PretrainConfig = {
  task: 'realm',
  seed: 1,
  outputDir: 'runs/realm',
  threads: 0,
  model: { vocab: null, vocabSize: 8000, init: null, retrieverInit: null, config: {} },
  data: {
    corpus: 'enwiki2015_lead100', maxDocs: 0, seqLen: 126, pairQueryLen: 0, pairOwnShare: 0.5, pairMaskSecond: true, docStore: null, index: null, masking: 'salient', maskProb: 0.15, dataSeed: 1, heldoutFraction: 0.02, exampleBlocks: 0,
  },
  optim: { steps: 2000, batchSize: 8, lr: 1e-4, warmupSteps: 200, weightDecay: 0.01, clipNorm: 1, betas: [0.9, 0.999], eps: 1e-6 },
  checkpoint: { every: 100, keepLast: 3 },
  log: { every: 10, quiet: false, throttleMs: 0 },
  realm: { k: 8, queryMaxLen: 64, blockMaxLen: 160, jointMaxLen: 224, marginal: 'span', nullDocument: true, exclude: 'block', trainDocEmbedder: true, trainReader: true, lexicalCandidates: 0, scoreScale: 1, learnScoreScale: false, lexicalScoreWeight: 0, learnLexicalScoreWeight: false, calibrateNullScore: false },
  refresh: {
    every: 200, swap: 'deterministic', lag: 100, runner: 'process', workerBackend: 'native', workerThreads: 1, indexKind: 'auto', flatMaxBlocks: 200_000, batchSize: 32, probeQueries: 64,
  },
};

/** A config file that cannot be used, naming the file and field. */
export class PretrainConfigError extends Error {
  constructor(readonly file: string, message: string, readonly field?: string) {
    super(`${file}: ${field ? `"${field}": ` : ''}${message}`);
    this.name = 'PretrainConfigError';
  }
}

const ENUMS: Record<string, readonly string[]> = {
  task: ['realm', 'mlm'],
  'data.masking': ['salient', 'random-span', 'random-token'],
  'realm.marginal': ['span', 'token'],
  'realm.exclude': ['none', 'block', 'document'],
  'refresh.swap': ['deterministic', 'asap'],
  'refresh.workerBackend': ['js', 'native'],
  'refresh.runner': ['thread', 'process'],
  'refresh.indexKind': ['flat', 'scann', 'auto'],
};
const NULLABLE_STRINGS = new Set(['model.vocab', 'model.init', 'model.retrieverInit', 'data.docStore', 'data.index']);
const PATHS = ['outputDir', 'model.vocab', 'model.init', 'model.retrieverInit', 'data.docStore', 'data.index'];

function merge(file: string, base: Record<string, unknown>, over: unknown, prefix: string): Record<string, unknown> {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) {
    throw new PretrainConfigError(file, 'must be an object', prefix || undefined);
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over as Record<string, unknown>)) {
    const field = prefix ? `${prefix}.${key}` : key;
    if (key.startsWith('//') || key === '$comment') continue; // comments allowed in JSON
    if (!(key in base)) throw new PretrainConfigError(file, `unknown setting (known: ${Object.keys(base).join(', ')})`, field);
    const def = base[key];
    if (field === 'data.corpus') {
      const ok = typeof value === 'string' || (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'string'));
      if (!ok) throw new PretrainConfigError(file, 'must be a corpus spec or a non-empty array of them', field);
      out[key] = value;
    } else if (field === 'model.config') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PretrainConfigError(file, 'must be an object of RealmConfig fields', field);
      out[key] = value;
    } else if (def !== null && typeof def === 'object' && !Array.isArray(def)) {
      out[key] = merge(file, def as Record<string, unknown>, value, field);
    } else if (Array.isArray(def)) {
      if (!Array.isArray(value) || value.length !== def.length || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new PretrainConfigError(file, `must be an array of ${def.length} numbers`, field);
      }
      out[key] = value;
    } else if (NULLABLE_STRINGS.has(field)) {
      if (value !== null && typeof value !== 'string') throw new PretrainConfigError(file, 'must be a string (path) or null', field);
      out[key] = value;
    } else if (typeof value !== typeof def || (typeof value === 'number' && !Number.isFinite(value))) {
      throw new PretrainConfigError(file, `must be a ${typeof def} (got ${JSON.stringify(value)})`, field);
    } else if (ENUMS[field] && !ENUMS[field].includes(value as string)) {
      throw new PretrainConfigError(file, `must be one of ${ENUMS[field].join(', ')} (got ${JSON.stringify(value)})`, field);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function check(file: string, ok: boolean, field: string, message: string): void {
  if (!ok) throw new PretrainConfigError(file, message, field);
}

/** Validates ranges of a merged config. */
export function validatePretrainConfig(c: PretrainConfig, file = '<config>'): PretrainConfig {
  const int = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  check(file, int(c.optim.steps, 1), 'optim.steps', 'must be an integer >= 1');
  check(file, int(c.optim.batchSize, 1), 'optim.batchSize', 'must be an integer >= 1');
  check(file, c.optim.lr > 0, 'optim.lr', 'must be > 0');
  check(file, int(c.optim.warmupSteps, 0) && c.optim.warmupSteps <= c.optim.steps, 'optim.warmupSteps', 'must be an integer in [0, steps]');
  check(file, c.optim.clipNorm >= 0, 'optim.clipNorm', 'must be >= 0');
  check(file, int(c.checkpoint.every, 1), 'checkpoint.every', 'must be an integer >= 1');
  check(file, int(c.checkpoint.keepLast, 1), 'checkpoint.keepLast', 'must be an integer >= 1');
  check(file, int(c.log.every, 1), 'log.every', 'must be an integer >= 1');
  check(file, int(c.threads, 0), 'threads', 'must be an integer >= 0');
  check(file, int(c.data.maxDocs, 0), 'data.maxDocs', 'must be an integer >= 0');
  check(file, int(c.data.seqLen, 2), 'data.seqLen', 'must be an integer >= 2');
  check(file, int(c.data.pairQueryLen, 0) && (c.data.pairQueryLen === 0 || c.data.pairQueryLen < c.data.seqLen), 'data.pairQueryLen', 'must be 0 (single segments) or an integer in [1, seqLen)');
  check(file, typeof c.data.pairOwnShare === 'number' && c.data.pairOwnShare >= 0 && c.data.pairOwnShare <= 1, 'data.pairOwnShare', 'must be in [0, 1]');
  check(file, typeof c.data.pairMaskSecond === 'boolean', 'data.pairMaskSecond', 'must be true or false');
  check(file, c.data.maskProb > 0 && c.data.maskProb < 1, 'data.maskProb', 'must be in (0, 1)');
  check(file, c.data.heldoutFraction >= 0 && c.data.heldoutFraction < 1, 'data.heldoutFraction', 'must be in [0, 1)');
  check(file, int(c.data.exampleBlocks, 0), 'data.exampleBlocks', 'must be an integer >= 0 (0 = all)');
  check(file, int(c.model.vocabSize, 10), 'model.vocabSize', 'must be an integer >= 10');
  check(file, int(c.realm.k, 0), 'realm.k', 'must be an integer >= 0');
  check(file, typeof c.realm.scoreScale === 'number' && c.realm.scoreScale > 0 && Number.isFinite(c.realm.scoreScale), 'realm.scoreScale', 'must be a positive number (1 = the paper)');
  check(file, typeof c.realm.calibrateNullScore === 'boolean', 'realm.calibrateNullScore', 'must be true or false');
  check(file, !c.realm.calibrateNullScore || c.realm.k === 0 || (c.realm.nullDocument && !!c.data.index), 'realm.calibrateNullScore', 'needs realm.nullDocument and data.index (the initial index it samples scores from)');
  check(file, int(c.realm.lexicalCandidates, 0), 'realm.lexicalCandidates', 'must be an integer >= 0 (0 = MIPS candidates only)');
  check(file, typeof c.realm.lexicalScoreWeight === 'number' && Number.isFinite(c.realm.lexicalScoreWeight), 'realm.lexicalScoreWeight', 'must be a finite number (0 = no BM25 term in the score)');
  check(file, typeof c.realm.learnLexicalScoreWeight === 'boolean' && (!c.realm.learnLexicalScoreWeight || c.realm.lexicalScoreWeight !== 0), 'realm.learnLexicalScoreWeight', 'must be true or false, and true needs a non-zero realm.lexicalScoreWeight (its start)');
  check(file, int(c.refresh.every, 0), 'refresh.every', 'must be an integer >= 0 (0 = never)');
  check(file, c.refresh.every === 0 || (int(c.refresh.lag, 1) && c.refresh.lag <= c.refresh.every), 'refresh.lag', 'must be an integer in [1, refresh.every]');
  check(file, int(c.refresh.batchSize, 1), 'refresh.batchSize', 'must be an integer >= 1');
  check(file, int(c.refresh.workerThreads, 1), 'refresh.workerThreads', 'must be an integer >= 1');
  check(file, !(c.refresh.runner === 'thread' && c.refresh.workerBackend === 'native'), 'refresh.workerBackend',
    '"native" needs refresh.runner "process" (the native thread pool is shared by the whole process)');
  check(file, int(c.refresh.probeQueries, 0), 'refresh.probeQueries', 'must be an integer >= 0');
  return c;
}

/** Merges `json` over the defaults, validates, and resolves relative paths against `baseDir`. */
export function parsePretrainConfig(json: unknown, file = '<config>', baseDir = process.cwd()): PretrainConfig {
  const merged = merge(file, PRETRAIN_DEFAULTS as unknown as Record<string, unknown>, json, '') as unknown as PretrainConfig;
  const cfg = validatePretrainConfig(structuredClone(merged), file);
  const rec = cfg as unknown as Record<string, Record<string, unknown>>;
  for (const p of PATHS) {
    const [a, b] = p.split('.');
    const holder = b ? rec[a] : (rec as unknown as Record<string, unknown>);
    const key = b ?? a;
    const v = holder[key];
    // corpus specs that are not paths (wordnet, shared names) are left alone by the corpus reader
    if (typeof v === 'string' && !isAbsolute(v)) holder[key] = resolve(baseDir, v);
  }
  // corpus specs: names (wordnet, shared corpora) stay; relative paths that exist next to the config are resolved
  const specs = (Array.isArray(cfg.data.corpus) ? cfg.data.corpus : [cfg.data.corpus]).map((c) => {
    const p = resolve(baseDir, c);
    return !isAbsolute(c) && existsSync(p) ? p : c;
  });
  cfg.data.corpus = Array.isArray(cfg.data.corpus) ? specs : specs[0];
  return cfg;
}

/** Reads a config file (JSON). */
export function readPretrainConfig(path: string): PretrainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PretrainConfigError(path, `cannot read config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PretrainConfigError(path, `not valid JSON (${(e as Error).message})`);
  }
  return parsePretrainConfig(json, path, dirname(resolve(path)));
}
