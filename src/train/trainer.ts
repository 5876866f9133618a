/**
 * The generic pre-training loop (REALM §3.4 / §B: BERT's AdamW with warm-up and linear decay, gradient clipping):
 * for each step, lr from the schedule, the task's loss on its next batch, backward, clip, AdamW update; metrics to a
 * JSONL log, a progress line, and a checkpoint every `checkpointEvery` steps through src/io/checkpoint (weights, AdamW
 * moments, step, RNG state, data cursor, index snapshot id and the task's own state). `resume()` restores the newest
 * checkpoint so a run killed at any instant (kill -9) continues with the same next step: everything random comes from
 * the task's one Rng, whose state is saved, so the resumed run is bit-identical to an uninterrupted one.
 */
import { AdamW, backward, bertDecayExclusions, clipGradNorm, linearWarmupDecay, type AdamWState, type Tensor, raisePoolLimitForTraining } from '../engine/index.js';
import { loadLatestCheckpoint, saveCheckpoint, type AdamMoments, type JsonValue } from '../io/checkpoint.js';
import type { ArrayToSave } from '../io/safetensors.js';
import { MetricsLog, type MetricsRecord } from './metricsLog.js';
import { ProgressLine } from './progress.js';
import type { TrainTask } from './task.js';

/** Optimisation and bookkeeping settings of a run. */
export interface TrainerOptions {
  /** Total optimisation steps (the learning rate reaches 0 here). */
  steps: number;
  /** Peak learning rate (after warm-up). */
  lr: number;
  /** Linear warm-up steps. */
  warmupSteps: number;
  /** AdamW decoupled weight decay (BERT: not on biases and LayerNorm). */
  weightDecay: number;
  /** AdamW betas. */
  betas: [number, number];
  /** AdamW epsilon (BERT: 1e-6). */
  eps: number;
  /** Global gradient-norm clip (0 = off). */
  clipNorm: number;
  /** Checkpoint directory (null = no checkpoints, no resume). */
  checkpointDir: string | null;
  /** Save a checkpoint every this many steps (and after the last step). */
  checkpointEvery: number;
  /** Checkpoints kept on disk. */
  keepLast: number;
  /** JSONL metrics file (null = none). */
  metricsPath: string | null;
  /** Non-TTY progress: a line every this many steps. */
  logEvery: number;
  /** No progress output. */
  quiet: boolean;
  /** Stop (without a final checkpoint unless one is due) after this many completed steps — for tests and time boxes. */
  stopAfter?: number;
  /** Sleep this many ms after each step (share the CPU with other jobs, or make kill/resume tests deterministic). */
  throttleMs: number;
}

/** Defaults matching a small BERT on CPU. */
export const TRAINER_DEFAULTS: TrainerOptions = {
  steps: 1000, lr: 1e-4, warmupSteps: 100, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-6, clipNorm: 1,
  checkpointDir: null, checkpointEvery: 100, keepLast: 3, metricsPath: null, logEvery: 10, quiet: false, throttleMs: 0,
};

/** Result of `run()`. */
export interface TrainSummary {
  /** Steps completed in total (including resumed ones). */
  step: number;
  /** Steps run by this call. */
  ranSteps: number;
  /** Loss of the last step (NaN when none ran). */
  lastLoss: number;
  /** Wall time of this call (s). */
  seconds: number;
}

/** Raised for an invalid trainer setting or a checkpoint that does not fit the model. */
export class TrainerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainerError';
  }
}

/** Runs a TrainTask with AdamW, schedule, clipping, checkpoints, metrics and progress. */
export class Trainer {
  readonly opts: TrainerOptions;
  readonly opt: AdamW;
  /** Steps completed. */
  step = 0;
  private readonly schedule: (step: number) => number;
  private readonly metrics: MetricsLog | null;
  private readonly params: Map<string, Tensor>;
  readonly progress: ProgressLine;

  constructor(readonly task: TrainTask, opts: Partial<TrainerOptions> = {}) {
    this.opts = { ...TRAINER_DEFAULTS, ...opts };
    const o = this.opts;
    if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new TrainerError(`steps must be an integer >= 1 (got ${o.steps})`);
    if (!(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0 && o.warmupSteps <= o.steps)) {
      throw new TrainerError(`warmupSteps must be an integer in [0, steps] (got ${o.warmupSteps})`);
    }
    if (!(o.lr > 0)) throw new TrainerError(`lr must be > 0 (got ${o.lr})`);
    if (!(Number.isInteger(o.checkpointEvery) && o.checkpointEvery >= 1)) throw new TrainerError(`checkpointEvery must be an integer >= 1 (got ${o.checkpointEvery})`);
    this.params = task.model.parameters();
    raisePoolLimitForTraining();
    this.opt = new AdamW(this.params, {
      lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, decay: bertDecayExclusions,
    });
    this.schedule = linearWarmupDecay({ warmupSteps: o.warmupSteps, totalSteps: o.steps, peakLr: o.lr });
    this.metrics = o.metricsPath ? new MetricsLog(o.metricsPath) : null;
    this.progress = new ProgressLine({ every: o.logEvery, quiet: o.quiet });
  }

  /** Restores the newest checkpoint of `checkpointDir` (if any); returns the step it resumes from (0 = fresh). */
  async resume(): Promise<number> {
    const dir = this.opts.checkpointDir;
    const ck = dir ? loadLatestCheckpoint(dir) : null;
    if (!ck) {
      this.metrics?.truncateAfter(0);
      return 0;
    }
    for (const [name, t] of this.task.model.stateDict()) {
      const src = ck.model.get(name);
      if (!src) throw new TrainerError(`${ck.path}: checkpoint has no tensor "${name}" (was it written by another model?)`);
      if (src.data.length !== t.size || !(src.data instanceof Float32Array)) {
        throw new TrainerError(`${ck.path}: tensor "${name}" has ${src.data.length} values, the model expects ${t.size} floats`);
      }
      t.data.set(src.data);
    }
    const m: AdamWState['m'] = {};
    const v: AdamWState['v'] = {};
    for (const name of this.opt.names) {
      const mo = ck.optimizer.get(name);
      if (!mo) throw new TrainerError(`${ck.path}: no optimizer moments for "${name}"`);
      m[name] = mo.expAvg;
      v[name] = mo.expAvgSq;
    }
    const st = ck.state;
    this.opt.loadState({ step: Number(st.extra.optimizerStep ?? st.step), m, v });
    this.task.rng.setState(st.rngState);
    this.task.restoreCursor(st.extra.cursor ?? null);
    const taskExtra = st.extra.task;
    if (this.task.restoreState) {
      await this.task.restoreState({
        indexSnapshotId: st.indexSnapshotId,
        extra: taskExtra && typeof taskExtra === 'object' && !Array.isArray(taskExtra) ? (taskExtra as Record<string, JsonValue>) : {},
      }, st.step);
    }
    this.step = st.step;
    this.metrics?.truncateAfter(st.step);
    this.progress.message(`resumed from ${ck.path} (step ${st.step})`);
    return st.step;
  }

  /** Writes a checkpoint of the current state (no-op without checkpointDir). Returns its path. */
  checkpoint(): string | null {
    const dir = this.opts.checkpointDir;
    if (!dir) return null;
    const model = new Map<string, ArrayToSave>();
    for (const [name, t] of this.task.model.stateDict()) model.set(name, { shape: t.shape, data: t.data });
    const st = this.opt.state();
    const optimizer = new Map<string, AdamMoments>();
    for (const name of this.opt.names) optimizer.set(name, { expAvg: st.m[name], expAvgSq: st.v[name] });
    const ts = this.task.checkpointState?.(this.step) ?? { indexSnapshotId: null, extra: {} };
    const o = this.opts;
    return saveCheckpoint(dir, {
      model, optimizer, config: this.task.configJson(),
      state: {
        step: this.step,
        rngState: this.task.rng.getState(),
        optimizer: { name: 'adamw', lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay, clipNorm: o.clipNorm },
        schedule: { name: 'linear', warmupSteps: o.warmupSteps, totalSteps: o.steps },
        indexSnapshotId: ts.indexSnapshotId,
        extra: { cursor: this.task.cursor(), optimizerStep: st.step, task: ts.extra, taskName: this.task.name },
      },
    }, { keepLast: o.keepLast });
  }

  /** One optimisation step; returns its metrics record. */
  async trainStep(): Promise<MetricsRecord> {
    const s = this.step;
    await this.task.beforeStep?.(s);
    const t0 = performance.now();
    const lr = this.schedule(s);
    this.opt.lr = lr;
    const out = this.task.step(s);
    const loss = out.loss.item();
    if (!Number.isFinite(loss)) throw new TrainerError(`step ${s + 1}: loss is ${loss} (diverged; lower lr or check the data)`);
    // Activations go back to the buffer pool after the pass (tasks report only numbers computed before backward, and
    // keep no graph tensor across steps), so the next step's forward reuses them instead of allocating.
    backward(out.loss, undefined, { freeActivations: true });
    const gradNorm = this.opts.clipNorm > 0 ? clipGradNorm(this.params, this.opts.clipNorm) : NaN;
    this.opt.step();
    this.opt.zeroGrad();
    this.step = s + 1;
    const seconds = (performance.now() - t0) / 1000;
    await this.task.afterStep?.(this.step);
    const rec: MetricsRecord = { step: this.step, loss, lr, gradNorm, seconds, ...(out.metrics ?? {}), ...(this.task.statusMetrics?.() ?? {}) };
    this.metrics?.append(rec);
    return rec;
  }

  /** Trains until `steps` (or `stopAfter`) steps are complete, checkpointing on schedule. */
  async run(): Promise<TrainSummary> {
    const o = this.opts;
    const end = Math.min(o.steps, o.stopAfter ?? o.steps);
    const start = this.step;
    const t0 = performance.now();
    let lastLoss = NaN;
    // steps/s over the last 20 steps, not counting the run's first step (it includes start-up work such as the
    // initial index build)
    const times: number[] = [];
    while (this.step < end) {
      const rec = await this.trainStep();
      lastLoss = rec.loss as number;
      times.push(performance.now());
      if (times.length > 21) times.shift();
      const rate = times.length >= 2 ? ((times.length - 1) * 1000) / (times[times.length - 1] - times[0]) : 1 / (rec.seconds as number);
      this.progress.update({
        step: this.step, total: o.steps, loss: lastLoss, lr: rec.lr as number, stepsPerSec: rate,
        topDocProb: typeof rec.topDocProb === 'number' ? rec.topDocProb : undefined,
        staleness: typeof rec.indexStaleness === 'number' ? rec.indexStaleness : undefined,
      });
      // also at the stop step (stopAfter), so a stopped run can be resumed or used as an init from exactly there
      if (this.step % o.checkpointEvery === 0 || this.step === end) this.checkpoint();
      // let worker messages (index refresh) and signals through between steps
      if (o.throttleMs > 0) await new Promise<void>((r) => setTimeout(r, o.throttleMs));
      else await new Promise<void>((r) => setImmediate(r));
    }
    this.progress.done();
    return { step: this.step, ranSteps: this.step - start, lastLoss, seconds: (performance.now() - t0) / 1000 };
  }
}
