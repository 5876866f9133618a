/**
 * REALM pre-training as a TrainTask (Guu et al. 2020 §3): each step samples masked examples, embeds them with
 * Embed_input, retrieves the top k blocks from the current (possibly stale) MIPS index excluding each example's own
 * block, recomputes the k + null-document scores with the current embedders, and returns the marginal-likelihood loss
 * of src/realm's RealmPretrainModel. The index comes from an IndexRefresher (./refresh.ts): built at step 0 (or
 * loaded from `data.index`), rebuilt in a worker thread every `refresh.every` steps. Checkpoints carry the index
 * snapshot id and any refresh in flight; `buildRealmTask` wires a config to all of this, and export writes the model
 * directory with a freshly embedded index of the final document embedder.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { getBackend, noGrad, Rng } from '../engine/index.js';
import type { JsonValue } from '../io/checkpoint.js';
import { BlockTokenCache, type RealmExample } from '../realm/batch.js';
import { RealmPretrainModel, type RealmPretrainOptions } from '../realm/model.js';
import { LexicalCandidates } from '../realm/lexical.js';
import { calibrateNullScore } from '../realm/nullCalibration.js';
import { DocumentGroups } from '../realm/retrieval.js';
import { configToJson, type RealmConfig } from '../model/config.js';
import type { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { MODEL_FILES } from '../api/modelDir.js';
import type { DocStore } from '../corpus/docstore.js';
import type { BuiltTask } from './pretrain.js';
import type { PretrainConfig } from './pretrainConfig.js';
import { buildExamples, ensureDocStore, EpochSampler, exampleBlockIds, splitHeldOut } from './realmData.js';
import { IndexRefresher } from './refresh.js';
import { refreshIndex, tokenizeBlocks } from './refreshJob.js';
import { copyMatching, exportModelDir, loadWeightsFile, readDocs, runModelConfig, runTokenizer } from './setup.js';
import type { StepOutput, TaskCheckpointState, TrainableModel, TrainTask } from './task.js';

/** config.json of a REALM model directory: HF RealmConfig fields plus our pre-training options. */
export function realmConfigJson(cfg: RealmConfig, opts: RealmPretrainOptions): object {
  return { ...(JSON.parse(configToJson(cfg, ['RealmForPretraining'])) as object), realm_pretrain: { ...opts } };
}

/** The REALM pre-training task. */
export class RealmTask implements TrainTask {
  readonly name = 'realm';
  readonly model: TrainableModel;
  private readonly sampler: EpochSampler;
  private lastStep = 0;
  private groups?: DocumentGroups;

  constructor(
    readonly realm: RealmPretrainModel, readonly rng: Rng, readonly examples: readonly RealmExample[],
    readonly blocks: BlockTokenCache, readonly refresher: IndexRefresher,
    readonly opts: {
      batchSize: number; dataSeed: number; initialIndex: string | null; buildInitial: () => void; docIds?: readonly string[];
      /** BM25 over the blocks when realm.lexicalCandidates > 0 or realm.lexicalScoreWeight ≠ 0. */
      lexical?: LexicalCandidates;
    },
  ) {
    this.model = { parameters: () => realm.parameters(), stateDict: () => realm.stateDict() };
    this.sampler = new EpochSampler(examples.length, opts.dataSeed);
    if (realm.opts.exclude === 'document') {
      if (!opts.docIds) throw new RangeError("exclude 'document' needs the blocks' document ids");
      this.groups = new DocumentGroups(opts.docIds);
    }
  }

  configJson(): object {
    return realmConfigJson(this.realm.cfg, this.realm.opts);
  }

  cursor(): JsonValue {
    return { epoch: this.sampler.epoch, pos: this.sampler.pos };
  }

  restoreCursor(c: JsonValue): void {
    const o = (c ?? {}) as { epoch?: number; pos?: number };
    this.sampler.seek(Number(o.epoch ?? 0), Number(o.pos ?? 0));
  }

  async beforeStep(step: number): Promise<void> {
    this.lastStep = step;
    if (this.realm.opts.k === 0) return; // null document only (the no-retrieval baseline): no index at all
    if (!this.refresher.index) {
      // first step of a fresh run: the initial index (given, or embedded now with the initial document embedder)
      if (this.opts.initialIndex) this.refresher.useIndexFile(this.opts.initialIndex, 'initial', 0);
      else this.opts.buildInitial();
    }
    await this.refresher.beforeStep(step);
  }

  async afterStep(completed: number): Promise<void> {
    this.lastStep = completed;
    if (this.realm.opts.k === 0) return;
    await this.refresher.afterStep(completed);
  }

  step(): StepOutput {
    const batch = Array.from({ length: this.opts.batchSize }, () => this.examples[this.sampler.next()]);
    const out = this.realm.retrieveAndForward(batch, this.refresher.index ?? null, this.blocks, { training: true, groups: this.groups, lexical: this.opts.lexical });
    const d = out.diagnostics;
    const metrics: Record<string, number> = { topDocProb: d.meanTopDocProb, nullProb: d.meanNullProb, logPy: d.meanLogPy };
    if (this.realm.opts.learnScoreScale) metrics.scoreScale = this.realm.scoreScale;
    if (this.realm.opts.learnLexicalScoreWeight) metrics.lexicalWeight = this.realm.lexicalWeight.data[0];
    if (this.opts.lexical && this.realm.opts.lexicalCandidates > 0) {
      // p(z|x) mass on the BM25-only candidates (no stale index score): does the retriever give them any weight yet?
      const off = this.realm.opts.nullDocument ? 1 : 0;
      metrics.lexicalProb = d.examples.reduce((s, e, b) => s + out.retrieved.staleScores[b].reduce((t, v, j) => t + (Number.isNaN(v) ? e.pz[j + off] : 0), 0), 0) / batch.length;
    }
    return { loss: out.loss, metrics };
  }

  statusMetrics(): Record<string, number | string | null> {
    return { indexStaleness: this.refresher.staleness(this.lastStep), topkChurn: this.refresher.lastChurn, indexSnapshot: this.refresher.indexId };
  }

  checkpointState(): TaskCheckpointState {
    return this.refresher.checkpointState();
  }

  async restoreState(state: TaskCheckpointState): Promise<void> {
    if (state.indexSnapshotId === 'initial' && this.opts.initialIndex) this.refresher.useIndexFile(this.opts.initialIndex, 'initial', 0);
    await this.refresher.restore(state.indexSnapshotId === 'initial' ? null : state.indexSnapshotId, state.extra);
  }

  async close(): Promise<void> {
    await this.refresher.close();
  }
}

/** Warm starts: `model.init` (our REALM export, or an MLM BERT copied into all three trunks) and `model.retrieverInit`. */
function warmStart(model: RealmPretrainModel, cfg: PretrainConfig, log: (l: string) => void): void {
  const all = model.stateDict();
  if (cfg.model.init) {
    const src = loadWeightsFile(cfg.model.init);
    const isRealm = [...src.keys()].some((n) => n.startsWith('embedder.'));
    let n = 0;
    const some = (names: string[]): string => names.slice(0, 3).join(', ') + (names.length > 3 ? ', ...' : '');
    if (isRealm) {
      n = copyMatching(all, src);
      // like HF's from_pretrained: say which weights did not match (e.g. a reader deeper than the config's)
      const unused = [...src.keys()].filter((k) => !all.has(k));
      const fresh = [...all.keys()].filter((k) => !src.has(k));
      if (unused.length) log(`init: warning: ${unused.length} tensors of ${cfg.model.init} are not in the model and were not used (${some(unused)})`);
      if (fresh.length) log(`init: warning: ${fresh.length} model tensors are not in ${cfg.model.init} and keep their initialisation (${some(fresh)})`);
    } else {
      // BERT (`bert.*` / `realm.*`, `cls.predictions.*`): the encoder and both embedder trunks start from it (REALM §3.4)
      const trunk = (name: string): string => name.replace(/^(bert|realm)\./, 'realm.');
      n += copyMatching(all, src, trunk);
      n += copyMatching(all, src, (x) => `embedder.${trunk(x)}`);
      n += copyMatching(all, src, (x) => `query_embedder.${trunk(x)}`);
      // encoder layers the file cannot fill (a reader deeper than the BERT, reader_num_hidden_layers) keep their init: say so
      const filled = new Set([...src.keys()].flatMap((x) => [trunk(x), `embedder.${trunk(x)}`, `query_embedder.${trunk(x)}`]));
      const fresh = [...all.keys()].filter((k) => k.includes('realm.encoder.layer.') && !filled.has(k));
      if (fresh.length) log(`init: warning: ${fresh.length} encoder-layer tensors are not in ${cfg.model.init} and keep their initialisation (${some(fresh)})`);
      // a BERT of another width than a trunk (a reader wider than its embedders, reader_hidden_size) fills only the
      // trunk it fits; the other keeps its initialisation unless model.retrieverInit replaces it: say so
      const misfit = [...src].flatMap(([x, arr]) => [trunk(x), `embedder.${trunk(x)}`, `query_embedder.${trunk(x)}`]
        .filter((k) => all.has(k) && all.get(k)!.size !== arr.data.length));
      if (misfit.length) {
        log(`init: warning: ${misfit.length} model tensors have another shape than in ${cfg.model.init} and keep their initialisation (${some(misfit)})${cfg.model.retrieverInit ? ' until model.retrieverInit' : ''}`);
      }
    }
    log(`init: ${n} tensors from ${cfg.model.init}`);
  }
  if (cfg.model.retrieverInit) {
    // an ICT scorer (`embedder.*` + `query_embedder.*`), the embedders of a REALM file, or one HF RealmEmbedder
    // (copied into both sides): RealmScorer.loadStateDict handles the layouts
    const src = loadWeightsFile(cfg.model.retrieverInit);
    const scorerOnly = new Map([...src].filter(([n]) => n.startsWith('embedder.') || n.startsWith('query_embedder.')));
    model.scorer.loadStateDict(scorerOnly.size ? scorerOnly : src, cfg.model.retrieverInit);
    log(`retriever init: both embedders from ${cfg.model.retrieverInit}`);
  }
}

/** Exports the model directory: weights, config, vocab, document store and an index of the final embedder. */
function exportRealm(dir: string, model: RealmPretrainModel, tok: BertTokenizer, store: DocStore, storePath: string, cfg: PretrainConfig): void {
  mkdirSync(dir, { recursive: true });
  exportModelDir(dir, realmConfigJson(model.cfg, model.opts), model.stateDict(), tok);
  if (storePath !== join(dir, MODEL_FILES.docs)) copyFileSync(storePath, join(dir, MODEL_FILES.docs));
  if (model.opts.k === 0) return; // no-retrieval model: no index to write
  if (!model.opts.trainDocEmbedder && cfg.data.index) {
    // Embed_doc never changed: the initial index is the index of the final model
    copyFileSync(cfg.data.index, join(dir, MODEL_FILES.index));
    return;
  }
  const seqs = tokenizeBlocks(tok, [...store], model.opts.blockMaxLen);
  const { index } = noGrad(() => refreshIndex(model.docEmbedder, seqs, tok.padId, cfg.refresh.batchSize, { kind: cfg.refresh.indexKind, flatMaxBlocks: cfg.refresh.flatMaxBlocks }));
  index.save(join(dir, MODEL_FILES.index));
}

/** Builds the REALM task a config describes. */
export async function buildRealmTask(cfg: PretrainConfig, log: (l: string) => void): Promise<BuiltTask> {
  mkdirSync(cfg.outputDir, { recursive: true });
  const docs = cfg.data.docStore ? [] : await readDocs(cfg.data.corpus, cfg.data.maxDocs);
  const tok = await runTokenizer(cfg, docs, log);
  if (tok.maskId < 0) throw new RangeError('the vocabulary has no [MASK] token');
  const vocabPath = cfg.model.vocab ?? join(cfg.outputDir, 'vocab.txt');
  const mcfg = runModelConfig(cfg, tok);
  const r = cfg.realm;
  const storePath = cfg.data.docStore ?? join(cfg.outputDir, MODEL_FILES.docs);
  if (cfg.data.docStore && !existsSync(storePath)) throw new RangeError(`document store ${storePath} not found (data.docStore)`);
  const store = await ensureDocStore(storePath, docs, tok, r.blockMaxLen, log);
  const allBlocks = [...store]; // read once for the ids and BM25
  const blockDocIds = allBlocks.map((b) => b.docId);
  const maskIds = exampleBlockIds(blockDocIds, cfg.data.heldoutFraction, cfg.data.exampleBlocks, cfg.data.dataSeed, (d) => !d.startsWith('wn:'));
  const allExamples = buildExamples(store, tok, cfg.data.masking, r.queryMaxLen - 2, cfg.data.dataSeed, cfg.outputDir, log, maskIds);
  const examples = splitHeldOut(allExamples, store, cfg.data.heldoutFraction, cfg.outputDir);
  const rng = new Rng(cfg.seed);
  const model = new RealmPretrainModel(mcfg, tok, rng, {
    k: r.k, queryMaxLen: r.queryMaxLen, blockMaxLen: r.blockMaxLen, jointMaxLen: r.jointMaxLen, marginal: r.marginal, nullDocument: r.nullDocument, exclude: r.exclude,
    trainDocEmbedder: r.trainDocEmbedder, trainReader: r.trainReader, lexicalCandidates: r.lexicalCandidates, scoreScale: r.scoreScale,
    learnScoreScale: r.learnScoreScale, lexicalScoreWeight: r.lexicalScoreWeight, learnLexicalScoreWeight: r.learnLexicalScoreWeight,
  });
  if (!r.trainDocEmbedder && cfg.refresh.every > 0) log('refresh: Embed_doc is fixed (realm.trainDocEmbedder false), the periodic refresh would rebuild the same index — consider refresh.every 0');
  warmStart(model, cfg, log);
  if (cfg.threads === 0 && cfg.refresh.every > 0) {
    // leave the refresh its cores (a JS worker uses one)
    const reserve = cfg.refresh.workerBackend === 'native' ? cfg.refresh.workerThreads : 1;
    getBackend().setThreads(Math.max(1, availableParallelism() - reserve));
  }
  const probeRng = new Rng(cfg.data.dataSeed + 17);
  const probeSet = Array.from({ length: Math.min(cfg.refresh.probeQueries, examples.length) }, () => examples[probeRng.int(examples.length)]);
  const refresher = new IndexRefresher({
    docEmbedder: model.docEmbedder, vocabPath, docStorePath: storePath, blockMaxLen: r.blockMaxLen, dir: join(cfg.outputDir, 'index'),
    checkpointDir: join(cfg.outputDir, 'checkpoints'), log,
    probes: probeSet.length ? () => noGrad(() => model.embedQueries(probeSet, false)).data.slice() : null,
  }, {
    every: cfg.refresh.every, swap: cfg.refresh.swap, lag: cfg.refresh.lag, runner: cfg.refresh.runner,
    workerBackend: cfg.refresh.workerBackend, workerThreads: cfg.refresh.workerThreads,
    indexKind: cfg.refresh.indexKind, flatMaxBlocks: cfg.refresh.flatMaxBlocks, batchSize: cfg.refresh.batchSize, churnK: Math.max(1, r.k),
  });
  if (r.calibrateNullScore && r.k > 0) {
    // before step 1 (a resumed run overwrites it with the checkpoint's value): ∅ starts like the k-th retrieved block;
    // the initial index is loaded here once, and step 1 finds it in place
    refresher.useIndexFile(cfg.data.index!, 'initial', 0);
    const sample = new Rng(cfg.data.dataSeed + 29).permutation(examples.length).subarray(0, Math.min(256, examples.length));
    const at = calibrateNullScore(model, Array.from(sample, (i) => examples[i]), refresher.index!, {
      k: r.k, exclude: r.exclude, groups: r.exclude === 'document' ? new DocumentGroups(blockDocIds) : undefined,
    });
    log(`null document: score calibrated to ${at.toFixed(3)} (mean score of the k-th retrieved block over ${sample.length} training examples)`);
  }
  const docIds = r.exclude === 'document' ? blockDocIds : undefined;
  let lexical: LexicalCandidates | undefined;
  if (model.needsLexical) {
    const t0 = performance.now();
    lexical = LexicalCandidates.fromBlocks(allBlocks, tok);
    const uses = [
      ...(r.k > 0 && r.lexicalCandidates > 0 ? [`${r.lexicalCandidates} candidates per example on top of the k = ${r.k} MIPS blocks`] : []),
      ...(model.lexicalTermOn ? [`the score term w·BM25 (w = ${+model.lexicalWeight.data[0].toPrecision(4)}${r.learnLexicalScoreWeight ? ', learned' : ''})`] : []),
    ];
    log(`lexical: BM25 over ${store.size} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${uses.join('; ')}`);
  }
  const task = new RealmTask(model, rng, examples, new BlockTokenCache(store, tok), refresher, {
    batchSize: cfg.optim.batchSize, dataSeed: cfg.data.dataSeed, initialIndex: cfg.data.index, docIds, lexical,
    buildInitial: () => refresher.buildNow(0, tokenizeBlocks(tok, [...store], r.blockMaxLen), tok.padId),
  });
  log(`realm: ${examples.length} training examples (${allExamples.length - examples.length} held out), ${store.size} blocks, k = ${r.k}${r.nullDocument ? ' + null document' : ''}, refresh every ${cfg.refresh.every} steps`);
  return { task, exportTo: (dir) => exportRealm(dir, model, tok, store, storePath, cfg) };
}
