/**
 * ICT warm start of the retriever (ORQA §4, REALM §3.4 "cold start"): for a batch of B (pseudo-query, block) pairs,
 * relevance S = Embed_input(q) Embed_doc(b)ᵀ [B, B], loss = softmax cross-entropy of row i against column i (the
 * other blocks of the batch are the negatives), AdamW with BERT's decay exclusions, linear warm-up + decay, gradient
 * clipping. Seeded end to end (one Rng drives dropout, sentence choice and removal); checkpoints
 * (src/io/checkpoint: weights, AdamW moments, RNG state, data cursor) let a killed run resume with the same next step.
 */
import {
  AdamW, Rng, bertDecayExclusions, crossEntropy, linearWarmupDecay, noGrad, scale, raisePoolLimitForTraining,
} from '../engine/index.js';
import { loadLatestCheckpoint, saveCheckpoint, type AdamMoments, type JsonValue } from '../io/checkpoint.js';
import type { ArrayToSave } from '../io/safetensors.js';
import { packBatch, type RetrieverTokenizer } from '../retriever/inputs.js';
import type { RealmScorer } from '../retriever/scorer.js';
import { applyUpdate } from './tuneLoop.js';
import { ICT_DATA_DEFAULTS, IctBatcher, type IctCorpus, type IctCursor, type IctDataConfig } from './ictData.js';

/** ICT trainer settings. */
export interface IctTrainConfig extends IctDataConfig {
  /** Optimisation steps in total (the schedule decays to 0 at this step). */
  steps: number;
  /** Examples per batch (B − 1 in-batch negatives each). */
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Warm-up steps of the linear schedule. */
  warmupSteps: number;
  /** AdamW decoupled weight decay (not on biases / LayerNorm). */
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  clipNorm: number;
  /**
   * Multiplier of the relevance scores inside the ICT softmax only (a temperature; 1 = ORQA's plain inner product).
   * Rankings, and so retrieval, do not depend on it; < 1 keeps random-init scores (|v| ≈ sqrt(128) after cls.LayerNorm,
   * so raw scores span ±128) from saturating the softmax, which otherwise collapses all vectors onto one.
   */
  logitScale: number;
  /** Seed of the data order (the Rng given to the trainer drives everything else). */
  seed: number;
  /** Directory of checkpoints (null = none). */
  checkpointDir: string | null;
  /** Save a checkpoint every this many steps (and at the end). */
  checkpointEvery: number;
  /** Checkpoints kept. */
  keepLast: number;
  /** Print a progress line every this many steps (0 = silent). */
  logEvery: number;
}

/** Defaults for a BERT-mini retriever on 2 cores. */
export const ICT_TRAIN_DEFAULTS: IctTrainConfig = {
  ...ICT_DATA_DEFAULTS, steps: 1000, batchSize: 64, lr: 1e-4, warmupSteps: 100, weightDecay: 0.01, clipNorm: 1, logitScale: 1,
  seed: 1, checkpointDir: null, checkpointEvery: 200, keepLast: 2, logEvery: 10,
};

/** Metrics of one step. */
export interface IctStepStats {
  /** 1-based step number just completed. */
  step: number;
  /** Mean in-batch cross-entropy. */
  loss: number;
  /** Share of queries whose own block scores highest in the batch. */
  accuracy: number;
  /** Learning rate used. */
  lr: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  /** Wall time of the step (s). */
  seconds: number;
}

/** Trains a RealmScorer's two embedders with the Inverse Cloze Task. */
export class IctTrainer {
  readonly cfg: IctTrainConfig;
  readonly opt: AdamW;
  readonly batcher: IctBatcher;
  private readonly schedule: (step: number) => number;
  private readonly log: (line: string) => void;

  /**
   * `rng` must be the generator the scorer's BERTs were built with (it drives their dropout), so that one saved
   * state restores the whole random stream.
   */
  constructor(
    readonly scorer: RealmScorer,
    readonly tok: RetrieverTokenizer,
    corpus: IctCorpus,
    readonly rng: Rng,
    cfg: Partial<IctTrainConfig> = {},
    log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {
    this.cfg = { ...ICT_TRAIN_DEFAULTS, ...cfg };
    if (scorer.queryEmbedder.bert.rng !== rng) throw new TypeError('IctTrainer: rng must be the Rng the scorer was built with');
    if (!(this.cfg.batchSize >= 2)) throw new RangeError(`IctTrainer: batchSize must be >= 2 (got ${this.cfg.batchSize})`);
    raisePoolLimitForTraining();
    this.opt = new AdamW(scorer.parameters(), { lr: 0, weightDecay: this.cfg.weightDecay, decay: bertDecayExclusions });
    this.schedule = linearWarmupDecay({ warmupSteps: this.cfg.warmupSteps, totalSteps: this.cfg.steps, peakLr: this.cfg.lr });
    this.batcher = new IctBatcher(corpus, tok, this.cfg, this.cfg.seed);
    this.log = log;
  }

  /** Completed steps. */
  get step(): number {
    return this.opt.stepCount;
  }

  /** One optimisation step on the next batch. */
  trainStep(): IctStepStats {
    const t0 = performance.now();
    const B = this.cfg.batchSize;
    const batch = this.batcher.next(B, this.rng);
    const pad = this.tok.padId;
    const q = this.scorer.queryEmbedder.forward(packBatch(batch.queries, pad), true); // [B, P]
    const d = this.scorer.docEmbedder.forward(packBatch(batch.blocks, pad), true); // [B, P]
    const scores = this.scorer.relevance(q, d); // [B, B]
    const targets = Int32Array.from({ length: B }, (_, i) => i);
    const loss = crossEntropy(this.cfg.logitScale === 1 ? scores : scale(scores, this.cfg.logitScale), targets);
    let correct = 0;
    for (let i = 0; i < B; i++) {
      let best = 0;
      for (let j = 1; j < B; j++) if (scores.data[i * B + j] > scores.data[i * B + best]) best = j;
      if (best === i) correct++;
    }
    this.opt.zeroGrad();
    // Intermediates go back to the buffer pool (only the loss and the numbers above are read afterwards).
    loss.backward(undefined, { freeActivations: true });
    const { lr, gradNorm } = applyUpdate(this.opt, this.scorer.parameters(), this.schedule, this.cfg.clipNorm);
    return { step: this.opt.stepCount, loss: loss.item(), accuracy: correct / B, lr, gradNorm, seconds: (performance.now() - t0) / 1000 };
  }

  /** Mean loss and accuracy over `batches` held-out batches drawn from `batcher` (no dropout, no update). */
  evaluate(batcher: IctBatcher, batches: number, rng: Rng): { loss: number; accuracy: number } {
    let loss = 0;
    let acc = 0;
    const B = this.cfg.batchSize;
    for (let k = 0; k < batches; k++) {
      const batch = batcher.next(B, rng);
      noGrad(() => {
        const q = this.scorer.queryEmbedder.forward(packBatch(batch.queries, this.tok.padId), false);
        const d = this.scorer.docEmbedder.forward(packBatch(batch.blocks, this.tok.padId), false);
        const s = this.scorer.relevance(q, d);
        loss += crossEntropy(scale(s, this.cfg.logitScale), Int32Array.from({ length: B }, (_, i) => i)).item();
        for (let i = 0; i < B; i++) {
          let best = 0;
          for (let j = 1; j < B; j++) if (s.data[i * B + j] > s.data[i * B + best]) best = j;
          if (best === i) acc++;
        }
      });
    }
    return { loss: loss / batches, accuracy: acc / (batches * B) };
  }

  /** Runs until `cfg.steps` (or `maxSteps` more steps), logging and checkpointing; returns every step's stats. */
  train(opts: { maxSteps?: number; onStep?: (s: IctStepStats) => void } = {}): IctStepStats[] {
    const out: IctStepStats[] = [];
    const stop = Math.min(this.cfg.steps, this.step + (opts.maxSteps ?? Infinity));
    const t0 = performance.now();
    const start = this.step;
    let sumL = 0;
    let sumA = 0;
    let n = 0;
    while (this.step < stop) {
      const s = this.trainStep();
      out.push(s);
      opts.onStep?.(s);
      sumL += s.loss;
      sumA += s.accuracy;
      n++;
      if (this.cfg.logEvery > 0 && (s.step % this.cfg.logEvery === 0 || s.step === stop)) {
        const el = (performance.now() - t0) / 1000;
        const rate = (s.step - start) / el;
        const eta = (this.cfg.steps - s.step) / rate;
        this.log(`ict step ${s.step}/${this.cfg.steps}  loss ${(sumL / n).toFixed(4)}  acc ${(sumA / n).toFixed(3)}  lr ${s.lr.toExponential(2)}  ` +
          `|g| ${s.gradNorm.toFixed(2)}  ${(1 / rate).toFixed(2)} s/step  ETA ${fmtSecs(eta)}`);
        sumL = 0;
        sumA = 0;
        n = 0;
      }
      if (this.cfg.checkpointDir && (s.step % this.cfg.checkpointEvery === 0 || s.step === this.cfg.steps)) this.save();
    }
    return out;
  }

  /** Writes a checkpoint of weights, optimiser moments, RNG state and data cursor to cfg.checkpointDir. */
  save(): string {
    const dir = this.cfg.checkpointDir;
    if (!dir) throw new TypeError('IctTrainer.save: no checkpointDir configured');
    const model = new Map<string, ArrayToSave>();
    for (const [name, t] of this.scorer.parameters()) model.set(name, { shape: t.shape, data: t.data });
    const st = this.opt.state();
    const optimizer = new Map<string, AdamMoments>();
    for (const name of Object.keys(st.m)) optimizer.set(name, { expAvg: st.m[name], expAvgSq: st.v[name] });
    const { checkpointDir: _d, ...ictConfig } = this.cfg;
    return saveCheckpoint(dir, {
      model,
      config: { ...this.scorer.cfg, architectures: ['RealmScorer'] },
      optimizer,
      state: {
        step: this.step,
        rngState: this.rng.getState(),
        optimizer: { name: 'adamw', lr: this.cfg.lr, beta1: this.opt.beta1, beta2: this.opt.beta2, eps: this.opt.eps, weightDecay: this.opt.weightDecay },
        schedule: { name: 'linear', warmupSteps: this.cfg.warmupSteps, totalSteps: this.cfg.steps },
        indexSnapshotId: null,
        extra: { cursor: { ...this.batcher.cursor }, ict: ictConfig as unknown as JsonValue },
      },
    }, { keepLast: this.cfg.keepLast });
  }

  /** Restores the newest checkpoint of cfg.checkpointDir, if any; returns its step (0 when none). */
  resume(): number {
    const dir = this.cfg.checkpointDir;
    if (!dir) return 0;
    const ck = loadLatestCheckpoint(dir);
    if (!ck) return 0;
    this.scorer.store.loadStateDict(ck.model, { file: ck.path });
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, mo] of ck.optimizer) {
      m[name] = mo.expAvg;
      v[name] = mo.expAvgSq;
    }
    this.opt.loadState({ step: ck.step, m, v });
    this.rng.setState(ck.state.rngState);
    const cur = (ck.state.extra as { cursor?: IctCursor }).cursor;
    if (!cur || !Number.isInteger(cur.epoch) || !Number.isInteger(cur.pos)) throw new TypeError(`${ck.path}: trainer state has no data cursor`);
    this.batcher.seek(cur);
    return ck.step;
  }
}

/** "1h02m", "3m05s", "12s". */
export function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const r = Math.round(s);
  if (r >= 3600) return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  if (r >= 60) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${r}s`;
}
