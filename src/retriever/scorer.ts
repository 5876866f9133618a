/**
 * The neural knowledge retriever p(z|x) ∝ exp f(x, z), f(x, z) = Embed_input(x)ᵀ Embed_doc(z) (REALM §3.1, ORQA §3):
 * a query embedder and a document embedder, both `RealmEmbedder`s, under HF `RealmScorer`'s names
 * `query_embedder.*` and `embedder.*`.
 *
 * Separate weights: HF's RealmScorer shares one module under both prefixes by default; REALM and ORQA train two BERTs
 * (the document side is frozen with the index at fine-tuning time while the query side keeps learning), so we keep
 * them separate. Loading accepts our own scorer files, HF RealmScorer files (a file without `query_embedder.*` — HF's
 * shared default — gives both embedders the same initial weights) and a single HF `RealmEmbedder` file such as
 * `google/realm-cc-news-pretrained-embedder` (`realm.*`, `cls.*`; copied into both). The HF embedder's unused
 * `cls.predictions.*` head is skipped.
 */
import { Rng, Tensor, matmul } from '../engine/index.js';
import type { RealmConfig } from '../model/config.js';
import { RealmEmbedder, embedderIgnoredOnLoad } from '../model/embedder.js';
import { ParamStore } from '../model/params.js';
import { loadSafetensors, type NamedArrays } from '../io/safetensors.js';
import { resolveAliases } from '../io/aliases.js';
import { CheckpointError } from '../io/errors.js';

/** Outer prefix of the document embedder (HF RealmScorer). */
export const DOC_PREFIX = 'embedder.';
/** Outer prefix of the query embedder (HF RealmScorer). */
export const QUERY_PREFIX = 'query_embedder.';

/** Options of a RealmScorer. */
export interface RealmScorerOptions {
  /** Initialise the weights (default true; pass false when loading a file next). */
  init?: boolean;
}

/** Query and document embedders with separate weights; relevance = inner product. */
export class RealmScorer {
  /** Model configuration (shared by both embedders). */
  readonly cfg: RealmConfig;
  /** Registry of both embedders' parameters. */
  readonly store = new ParamStore();
  /** Embed_input: `query_embedder.*`. */
  readonly queryEmbedder: RealmEmbedder;
  /** Embed_doc: `embedder.*`. */
  readonly docEmbedder: RealmEmbedder;

  constructor(cfg: RealmConfig, rng: Rng, opts: RealmScorerOptions = {}) {
    this.cfg = cfg;
    this.queryEmbedder = new RealmEmbedder(cfg, rng, { prefix: QUERY_PREFIX, store: this.store, init: opts.init });
    this.docEmbedder = new RealmEmbedder(cfg, rng, { prefix: DOC_PREFIX, store: this.store, init: opts.init });
  }

  /** Relevance scores f(x, z) [Bq, Bd] from query vectors [Bq, P] and document vectors [Bd, P]. */
  relevance(queryVecs: Tensor, docVecs: Tensor): Tensor {
    return matmul(queryVecs, docVecs, { transB: true });
  }

  /** Every parameter by name (both embedders). */
  parameters(): Map<string, Tensor> {
    return this.store.stateDict();
  }

  /** Copies the document embedder's weights into the query embedder (HF's shared initialisation). */
  tieQueryToDoc(): void {
    for (const [name, t] of this.docEmbedder.parameters()) this.store.get(QUERY_PREFIX + name.slice(DOC_PREFIX.length)).data.set(t.data);
  }

  /** Loads weights from a name → array map in any of the layouts described in the file comment. */
  loadStateDict(loaded: NamedArrays, file = '<state dict>'): void {
    const names = [...loaded.keys()];
    const hasDoc = names.some((n) => n.startsWith(DOC_PREFIX));
    const hasQuery = names.some((n) => n.startsWith(QUERY_PREFIX));
    const out: NamedArrays = new Map();
    if (!hasDoc && !hasQuery) {
      // a single RealmEmbedder file: the same weights for both sides
      for (const [n, t] of loaded) {
        if (embedderIgnoredOnLoad(n)) continue;
        out.set(DOC_PREFIX + n, t);
        out.set(QUERY_PREFIX + n, { ...t, data: t.data.slice() });
      }
    } else {
      if (!hasDoc) throw new CheckpointError(file, `no "${DOC_PREFIX}*" tensors (a scorer file needs the document embedder)`);
      for (const [n, t] of loaded) {
        if (embedderIgnoredOnLoad(n, DOC_PREFIX) || embedderIgnoredOnLoad(n, QUERY_PREFIX)) continue;
        out.set(n, t);
      }
      // HF's shared default stores each tensor once (or aliases it): the query side gets its own copy
      for (const [n, t] of [...out]) {
        if (!n.startsWith(DOC_PREFIX)) continue;
        const qn = QUERY_PREFIX + n.slice(DOC_PREFIX.length);
        const q = out.get(qn);
        if (!q || q.data === t.data) out.set(qn, { ...t, data: t.data.slice() });
      }
    }
    this.store.loadStateDict(out, { file });
  }

  /** Loads a safetensors file (ours, HF RealmScorer or HF RealmEmbedder). */
  load(path: string): void {
    this.loadStateDict(resolveAliases(loadSafetensors(path)), path);
  }

  /** Saves both embedders as one safetensors file (atomic). */
  save(path: string, metadata?: Readonly<Record<string, string>>): void {
    this.store.save(path, metadata);
  }
}
