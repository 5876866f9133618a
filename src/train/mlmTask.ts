/**
 * Masked-language-model pre-training of a BERT encoder as a TrainTask (BERT §3.1; REALM §3.4 and §B start the
 * knowledge-augmented encoder from such an MLM-trained BERT): token sequences `[CLS] s [SEP]` sampled in a seeded
 * epoch order, 15% of the wordpieces chosen as targets (80% → [MASK], 10% → a random token, 10% unchanged),
 * cross-entropy at the targets. It is also the small model the trainer's own tests (kill -9 / resume) run on.
 */
import { Rng } from '../engine/index.js';
import type { JsonValue } from '../io/checkpoint.js';
import type { BertInputs } from '../model/bert.js';
import { configToJson, type RealmConfig } from '../model/config.js';
import { BertForMaskedLM } from '../model/mlm.js';
import type { StepOutput, TrainableModel, TrainTask } from './task.js';

/** MLM data settings. */
export interface MlmTaskOptions {
  /** Sequences per batch. */
  batchSize: number;
  /** Share of wordpieces that become targets (BERT: 0.15). */
  maskProb: number;
  /** Seed of the epoch order (independent of the model's Rng so the order is a pure function of the cursor). */
  dataSeed: number;
}

/** Special ids the task needs. */
export interface MlmTokens {
  clsId: number;
  sepId: number;
  padId: number;
  maskId: number;
  /** Vocabulary size (random replacement tokens are drawn from ids >= firstNormalId). */
  vocabSize: number;
  /** First id that is not a special token (random replacements start here). */
  firstNormalId: number;
}

/** Cuts token ids into pieces of at most `maxLen` (no specials) — one training sequence each. */
export function chunkSequences(docs: Iterable<ArrayLike<number>>, maxLen: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (const ids of docs) {
    for (let i = 0; i < ids.length; i += maxLen) {
      const n = Math.min(maxLen, ids.length - i);
      if (n >= 2) out.push(Int32Array.from({ length: n }, (_, j) => ids[i + j]));
    }
  }
  return out;
}

/** MLM training of a BertForMaskedLM on in-memory token sequences. */
export class MlmTask implements TrainTask {
  readonly name = 'mlm';
  readonly model: TrainableModel;
  /** The BERT being trained. */
  readonly mlm: BertForMaskedLM;
  private epoch = 0;
  private pos = 0;
  private order: Int32Array;

  /** `rng` must be the generator the model was built with (it supplies dropout masks) — one saved state restores all. */
  constructor(
    model: BertForMaskedLM, readonly rng: Rng, readonly cfg: RealmConfig, readonly tokens: MlmTokens,
    readonly sequences: readonly Int32Array[], readonly opts: MlmTaskOptions,
  ) {
    if (sequences.length === 0) throw new RangeError('MlmTask: no training sequences');
    this.mlm = model;
    this.model = { parameters: () => model.parameters(), stateDict: () => model.store.stateDict() };
    this.order = this.epochOrder(0);
  }

  private epochOrder(epoch: number): Int32Array {
    return new Rng(this.opts.dataSeed * 1000003 + epoch).permutation(this.sequences.length);
  }

  configJson(): object {
    return JSON.parse(configToJson(this.cfg, ['BertForMaskedLM'])) as object;
  }

  cursor(): JsonValue {
    return { epoch: this.epoch, pos: this.pos };
  }

  restoreCursor(c: JsonValue): void {
    const o = (c ?? {}) as { epoch?: unknown; pos?: unknown };
    const epoch = Number(o.epoch ?? 0);
    const pos = Number(o.pos ?? 0);
    if (!Number.isInteger(epoch) || !Number.isInteger(pos) || epoch < 0 || pos < 0 || pos > this.sequences.length) {
      throw new RangeError(`MlmTask: bad data cursor ${JSON.stringify(c)}`);
    }
    this.epoch = epoch;
    this.pos = pos;
    this.order = this.epochOrder(epoch);
  }

  private nextSequence(): Int32Array {
    if (this.pos >= this.order.length) {
      this.epoch++;
      this.pos = 0;
      this.order = this.epochOrder(this.epoch);
    }
    return this.sequences[this.order[this.pos++]];
  }

  /** Builds one masked batch (advances the cursor and the Rng). */
  nextBatch(): { inputs: BertInputs; positions: Int32Array; labels: Int32Array } {
    const { batchSize, maskProb } = this.opts;
    const t = this.tokens;
    const seqs = Array.from({ length: batchSize }, () => this.nextSequence());
    const T = Math.max(...seqs.map((s) => s.length)) + 2;
    const inputIds = new Int32Array(batchSize * T).fill(t.padId);
    const attentionMask = new Uint8Array(batchSize * T);
    const positions: number[] = [];
    const labels: number[] = [];
    seqs.forEach((s, b) => {
      const base = b * T;
      inputIds[base] = t.clsId;
      inputIds.set(s, base + 1);
      inputIds[base + 1 + s.length] = t.sepId;
      attentionMask.fill(1, base, base + s.length + 2);
      let chosen = 0;
      const pick = (i: number): void => {
        positions.push(base + 1 + i);
        labels.push(s[i]);
        const r = this.rng.random();
        if (r < 0.8) inputIds[base + 1 + i] = t.maskId;
        else if (r < 0.9) inputIds[base + 1 + i] = this.rng.int(t.firstNormalId, t.vocabSize);
        chosen++;
      };
      for (let i = 0; i < s.length; i++) if (this.rng.random() < maskProb) pick(i);
      if (chosen === 0) pick(this.rng.int(s.length));
    });
    return { inputs: { inputIds, attentionMask, batch: batchSize, seqLen: T }, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
  }

  step(): StepOutput {
    const b = this.nextBatch();
    return { loss: this.mlm.loss(b.inputs, b.positions, b.labels, true), metrics: { maskedTokens: b.labels.length } };
  }
}
