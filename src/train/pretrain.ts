/**
 * `realm-lm pretrain --config FILE`: builds the task a config describes — REALM pre-training (Guu et al. 2020 §3:
 * retrieval in the loop, marginal likelihood, asynchronous index refresh) or the MLM warm-up of its encoder — and runs
 * the generic trainer: resume from the newest checkpoint, train with progress and JSONL metrics, and export the final
 * model directory `<outputDir>/model` (config.json, model.safetensors, vocab.txt; for REALM also the document store
 * and index), which `realm-lm fill --model` and `Realm.load({ modelDir })` read.
 */
import { join } from 'node:path';
import { Rng, getBackend } from '../engine/index.js';
import { BertForMaskedLM } from '../model/mlm.js';
import type { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { chunkDocuments, MlmTask, type MlmPairOptions, type MlmTokens } from './mlmTask.js';
import type { PretrainConfig } from './pretrainConfig.js';
import { isHeldOut } from './realmData.js';
import { copyMatching, exportModelDir, loadWeightsFile, readDocs, runModelConfig, runTokenizer } from './setup.js';
import type { TrainTask } from './task.js';
import { Trainer, type TrainSummary } from './trainer.js';

/** Options of a run besides the config file. */
export interface RunPretrainOptions {
  /** Status messages (default: stderr unless log.quiet). */
  log?: (line: string) => void;
  /** Stop after this many completed steps (tests, time boxes). */
  stopAfter?: number;
  /** Skip exporting `<outputDir>/model` at the end. */
  noExport?: boolean;
}

/** What a run did. */
export interface PretrainResult extends TrainSummary {
  /** Step the run resumed from (0 = fresh start). */
  resumedFrom: number;
  /** Exported model directory (null when not exported or stopped early). */
  modelDir: string | null;
}

/** A task plus what export needs. */
export interface BuiltTask {
  task: TrainTask;
  /** Writes the trained model to a model directory. */
  exportTo(dir: string): void;
}

/** Lowest id above the leading special tokens ([PAD] [UNK] [CLS] [SEP] [MASK] ...): random MLM replacements start here. */
export function firstNormalId(tok: BertTokenizer): number {
  let id = 0;
  while (id < tok.vocabSize - 1 && (tok.isSpecialId(id) || /^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(tok.idToToken(id) ?? ''))) id++;
  return id;
}

/** The special and normal-token ids an MlmTask masks with. */
export function mlmTokensOf(tok: BertTokenizer): MlmTokens {
  return { clsId: tok.clsId, sepId: tok.sepId, padId: tok.padId, maskId: tok.maskId, vocabSize: tok.vocabSize, firstNormalId: firstNormalId(tok) };
}

/** The segment-pair layout of a config (data.pairQueryLen > 0), or undefined for single sequences. */
export function mlmPairsOf(cfg: PretrainConfig, maxLen: number, docOf: Int32Array): MlmPairOptions | undefined {
  const q = cfg.data.pairQueryLen;
  return q > 0 ? { queryLen: q, maxLen, docOf, ownShare: cfg.data.pairOwnShare, maskSecond: cfg.data.pairMaskSecond } : undefined;
}

/** Builds the MLM warm-up task of a config. */
export async function buildMlmTask(cfg: PretrainConfig, log: (l: string) => void): Promise<BuiltTask> {
  const allDocs = await readDocs(cfg.data.corpus, cfg.data.maxDocs);
  const tok = await runTokenizer(cfg, allDocs, log);
  // documents held out of REALM training (same hash split, data.heldoutFraction) are kept out of the warm-up too, so
  // the encoder has never seen the held-out evaluation sentences
  const docs = allDocs.filter((d) => !isHeldOut(d.id, cfg.data.heldoutFraction));
  if (docs.length < allDocs.length) log(`mlm: ${allDocs.length - docs.length} held-out documents (data.heldoutFraction ${cfg.data.heldoutFraction}) not trained on`);
  const mcfg = runModelConfig(cfg, tok);
  const rng = new Rng(cfg.seed);
  const model = new BertForMaskedLM(mcfg, rng, 'bert');
  if (cfg.model.init) {
    const n = copyMatching(model.parameters(), loadWeightsFile(cfg.model.init), (name) => name.replace(/^realm\./, 'bert.'));
    log(`init: ${n} tensors from ${cfg.model.init}`);
  }
  const q = cfg.data.pairQueryLen;
  const maxLen = Math.min(cfg.data.seqLen, mcfg.max_position_embeddings - (q > 0 ? 3 : 2));
  const { sequences: seqs, docOf } = chunkDocuments(docs.map((d) => tok.encodeSequence(`${d.title}. ${d.text}`).ids), maxLen);
  log(`mlm: ${seqs.length} sequences of <= ${maxLen} wordpieces from ${docs.length} documents${q > 0 ? `, as segment pairs (a <= ${q} wordpieces)` : ''}`);
  const task = new MlmTask(model, rng, mcfg, mlmTokensOf(tok), seqs, {
    batchSize: cfg.optim.batchSize, maskProb: cfg.data.maskProb, dataSeed: cfg.data.dataSeed, pairs: mlmPairsOf(cfg, maxLen, docOf),
  });
  return { task, exportTo: (dir) => exportModelDir(dir, task.configJson(), model.store.stateDict(), tok) };
}

/** Builds the task of a config (REALM's builder lives in ./realmTask.ts and is loaded on demand). */
export async function buildTask(cfg: PretrainConfig, log: (l: string) => void): Promise<BuiltTask> {
  if (cfg.task === 'mlm') return buildMlmTask(cfg, log);
  const { buildRealmTask } = await import('./realmTask.js');
  return buildRealmTask(cfg, log);
}

/** Runs (or resumes) the pre-training a config describes. */
export async function runPretrain(cfg: PretrainConfig, opts: RunPretrainOptions = {}): Promise<PretrainResult> {
  const log = opts.log ?? (cfg.log.quiet ? () => {} : (l: string) => process.stderr.write(`${l}\n`));
  if (cfg.threads > 0) getBackend().setThreads(cfg.threads);
  const built = await buildTask(cfg, log);
  const o = cfg.optim;
  const trainer = new Trainer(built.task, {
    steps: o.steps, lr: o.lr, warmupSteps: o.warmupSteps, weightDecay: o.weightDecay, betas: o.betas, eps: o.eps, clipNorm: o.clipNorm,
    checkpointDir: join(cfg.outputDir, 'checkpoints'), checkpointEvery: cfg.checkpoint.every, keepLast: cfg.checkpoint.keepLast,
    metricsPath: join(cfg.outputDir, 'metrics.jsonl'), logEvery: cfg.log.every, quiet: cfg.log.quiet, throttleMs: cfg.log.throttleMs,
    stopAfter: opts.stopAfter,
  });
  try {
    const resumedFrom = await trainer.resume();
    const summary = await trainer.run();
    let modelDir: string | null = null;
    if (!opts.noExport && trainer.step >= o.steps) {
      modelDir = join(cfg.outputDir, 'model');
      built.exportTo(modelDir);
      log(`model written to ${modelDir}`);
    }
    return { ...summary, resumedFrom, modelDir };
  } finally {
    await built.task.close?.();
  }
}
