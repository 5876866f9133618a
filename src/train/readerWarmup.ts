/**
 * The reader's evidence warm-up loop (ours, issue 6; scripts/warm-reader-evidence.ts mines the rows): train the
 * knowledge-augmented encoder alone on (x, z) rows whose block z holds x's masked answer, minimising −log p(y|z,x)
 * (per whole span with the span copy head, else per wordpiece) — the copying REALM's marginal likelihood rewards
 * (Guu et al. 2020 §3.4 on the reader's cold start). AdamW (REALM's weight-decay exclusions), 20 warm-up steps then
 * linear decay to 0, a fresh shuffle per epoch. With `checkpointDir`, every `checkpointEvery` steps a checkpoint
 * (reader weights, AdamW moments, the dropout and shuffle RNG states, the data cursor) is written atomically, and a
 * new call resumes from the newest one, so a killed run ends with exactly the weights of an uninterrupted one.
 */
import { AdamW, Rng, backward, mean, neg, type Tensor, raisePoolLimitForTraining } from '../engine/index.js';
import { loadLatestCheckpoint, saveCheckpoint, type AdamMoments } from '../io/checkpoint.js';
import type { ArrayToSave } from '../io/safetensors.js';
import type { JointRow } from '../realm/kaEncoder.js';
import { realmDecay, type RealmPretrainModel } from '../realm/model.js';
import type { RealmTokenizer } from '../realm/batch.js';

/** Options of `warmUpReader`. */
export interface ReaderWarmupOptions {
  /** Passes over the rows. */
  epochs: number;
  /** Rows per step. */
  batch: number;
  /** Peak learning rate. */
  lr: number;
  /** Seed of the shuffle (seed + 1, as the script always used). */
  seed: number;
  /** The RNG the model's dropout draws from (its state is checkpointed). */
  dropoutRng: Rng;
  /** Where checkpoints go (none when absent). */
  checkpointDir?: string;
  /** Steps between checkpoints (default 500). */
  checkpointEvery?: number;
  /** Stop after this many steps in this call (a simulated kill, for tests); the run is then unfinished. */
  stopAfter?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What `warmUpReader` did. */
export interface ReaderWarmupResult {
  /** Total steps of the run. */
  steps: number;
  /** Step resumed from (0 = fresh). */
  resumedFrom: number;
  /** Whether all steps are done (false after `stopAfter`). */
  finished: boolean;
}

/** Trains `model.encoder` on `rows` in place (see the file comment). */
export function warmUpReader(
  model: RealmPretrainModel, tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], o: ReaderWarmupOptions,
): ReaderWarmupResult {
  if (rows.length === 0) throw new RangeError('warmUpReader: no rows');
  if (!(Number.isInteger(o.batch) && o.batch >= 1 && o.batch <= rows.length)) throw new RangeError(`warmUpReader: batch must be an integer in [1, ${rows.length}], got ${o.batch}`);
  if (!(o.epochs > 0)) throw new RangeError(`warmUpReader: epochs must be > 0, got ${o.epochs}`);
  const every = o.checkpointEvery ?? 500;
  if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`warmUpReader: checkpointEvery must be an integer >= 1, got ${every}`);
  const log = o.log ?? (() => {});
  const span = model.encoder.spanLevel;
  const params = model.encoder.parameters();
  raisePoolLimitForTraining();
  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0.01, decay: realmDecay });
  const rng = new Rng(o.seed + 1);
  const steps = Math.ceil((o.epochs * rows.length) / o.batch);
  // the run's identity: a checkpoint of another run is refused rather than silently continued
  const run = { rows: rows.length, epochs: o.epochs, batch: o.batch, lr: o.lr, seed: o.seed, steps };

  let shuffleState = rng.getState(); // the shuffle RNG before the current epoch's permutation
  let order = rng.permutation(rows.length);
  let pos = 0;
  let start = 0;
  const ck = o.checkpointDir ? loadLatestCheckpoint(o.checkpointDir) : null;
  if (ck) {
    const saved = ck.state.extra.run as Record<string, unknown> | undefined;
    if (!saved || Object.entries(run).some(([k, v]) => saved[k] !== v)) {
      throw new RangeError(`warmUpReader: ${ck.path} belongs to another run (${JSON.stringify(saved)} vs ${JSON.stringify(run)}); remove ${o.checkpointDir} to start over`);
    }
    for (const [name, t] of params) {
      const src = ck.model.get(name);
      if (!src || src.data.length !== t.size || !(src.data instanceof Float32Array)) throw new RangeError(`warmUpReader: ${ck.path} has no matching tensor "${name}"`);
      t.data.set(src.data);
    }
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, mo] of ck.optimizer) {
      m[name] = mo.expAvg;
      v[name] = mo.expAvgSq;
    }
    opt.loadState({ step: ck.step, m, v });
    o.dropoutRng.setState(ck.state.rngState);
    const cur = ck.state.extra.cursor as { shuffleState: number[]; pos: number };
    shuffleState = cur.shuffleState;
    rng.setState(shuffleState);
    order = rng.permutation(rows.length);
    pos = cur.pos;
    start = ck.step;
    log(`resumed from ${ck.path} (step ${start}/${steps})\n`);
  }

  const save = (step: number): void => {
    const weights = new Map<string, ArrayToSave>();
    for (const [name, t] of params) weights.set(name, { shape: t.shape, data: t.data });
    const st = opt.state();
    const optimizer = new Map<string, AdamMoments>();
    for (const name of Object.keys(st.m)) optimizer.set(name, { expAvg: st.m[name], expAvgSq: st.v[name] });
    saveCheckpoint(o.checkpointDir!, {
      model: weights, optimizer, config: { ...model.cfg, architectures: ['RealmKnowledgeAugEncoder'] },
      state: {
        step, rngState: o.dropoutRng.getState(),
        optimizer: { name: 'adamw', lr: o.lr, weightDecay: 0.01 },
        schedule: { name: 'linear', warmupSteps: 20, totalSteps: steps },
        indexSnapshotId: null,
        extra: { run, cursor: { shuffleState, pos } },
      },
    }, { keepLast: 1 });
  };

  let acc = 0;
  const t0 = performance.now();
  for (let step = start + 1; step <= steps; step++) {
    if (o.stopAfter !== undefined && step - start > o.stopAfter) return { steps, resumedFrom: start, finished: false };
    if (pos + o.batch > rows.length) {
      shuffleState = rng.getState();
      order = rng.permutation(rows.length);
      pos = 0;
    }
    const b = Array.from(order.subarray(pos, pos + o.batch), (i) => rows[i]);
    pos += o.batch;
    opt.lr = o.lr * Math.min(1, step / 20) * (1 - (step - 1) / steps); // warm-up 20 steps, linear decay
    const lp: Tensor = span ? model.encoder.rowLogProbs(tok, b, model.opts.jointMaxLen, true) : model.encoder.targetLogProbs(tok, b, model.opts.jointMaxLen, true);
    const loss = neg(mean(lp));
    acc += loss.item();
    backward(loss, undefined, { freeActivations: true });
    opt.step();
    for (const p of params.values()) p.grad = null;
    if (step % 25 === 0 || step === steps) {
      const sec = (performance.now() - t0) / 1000;
      log(`step ${step}/${steps} | loss/${span ? 'span' : 'piece'} ${(acc / (step % 25 || 25)).toFixed(3)} | ${((step - start) / sec).toFixed(2)} step/s\n`);
      acc = 0;
    }
    if (o.checkpointDir && step % every === 0 && step < steps) save(step);
  }
  return { steps, resumedFrom: start, finished: true };
}
