/**
 * Masked-language-model pre-training of a BERT encoder as a TrainTask (BERT §3.1; REALM §3.4 and §B start the
 * knowledge-augmented encoder from such an MLM-trained BERT): token sequences `[CLS] s [SEP]` sampled in a seeded
 * epoch order, 15% of the wordpieces chosen as targets (80% → [MASK], 10% → a random token, 10% unchanged),
 * cross-entropy at the targets. It is also the small model the trainer's own tests (kill -9 / resume) run on.
 *
 * Pair mode (`pairs`) trains on `[CLS] a [SEP] b [SEP]` with token types 0 / 1, the layout of REALM's
 * knowledge-augmented encoder (x = a, z = b): a is a window of a training sequence, b is (half the time) that same
 * sequence, which contains a — so a target masked in a can be read off b — (a quarter) another sequence of the same
 * document, or (a quarter) a sequence of a random other document, which does not help. Single-segment MLM never
 * trains the type-1 embedding or the positions past its sequence length that the reader reads z with, and never
 * rewards looking at a second segment; this warm start does both before retrieval training (BERT's sentence-pair
 * pre-training plays that role for the paper's BERT-base).
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
  /** Segment-pair mode (see the file comment); absent = single segments `[CLS] s [SEP]`. */
  pairs?: MlmPairOptions;
}

/** Segment pairs `[CLS] a [SEP] b [SEP]`. */
export interface MlmPairOptions {
  /** Most wordpieces of segment a (REALM's query length); a is a random window of its sequence. */
  queryLen: number;
  /** Most wordpieces of a and b together (b is cut to fit). */
  maxLen: number;
  /** Document index of every training sequence (same length as the sequences; b is drawn by document). */
  docOf: Int32Array;
  /** Share of rows whose b is a's own sequence (default 0.5); the rest split evenly between same / other document. */
  ownShare?: number;
  /** Mask targets in b too (default true); false = targets only in a, as the REALM reader is trained (a copy curriculum). */
  maskSecond?: boolean;
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
  return chunkDocuments(docs, maxLen).sequences;
}

/** chunkSequences, also returning the document index of every piece. */
export function chunkDocuments(docs: Iterable<ArrayLike<number>>, maxLen: number): { sequences: Int32Array[]; docOf: Int32Array } {
  const out: Int32Array[] = [];
  const doc: number[] = [];
  let d = 0;
  for (const ids of docs) {
    for (let i = 0; i < ids.length; i += maxLen) {
      const n = Math.min(maxLen, ids.length - i);
      if (n >= 2) {
        out.push(Int32Array.from({ length: n }, (_, j) => ids[i + j]));
        doc.push(d);
      }
    }
    d++;
  }
  return { sequences: out, docOf: Int32Array.from(doc) };
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
  private docFirst = new Int32Array(0);
  private docEnd = new Int32Array(0);

  /** `rng` must be the generator the model was built with (it supplies dropout masks) — one saved state restores all. */
  constructor(
    model: BertForMaskedLM, readonly rng: Rng, readonly cfg: RealmConfig, readonly tokens: MlmTokens,
    readonly sequences: readonly Int32Array[], readonly opts: MlmTaskOptions,
  ) {
    if (sequences.length === 0) throw new RangeError('MlmTask: no training sequences');
    const pr = opts.pairs;
    if (pr) {
      if (pr.docOf.length !== sequences.length) throw new RangeError(`MlmTask: pairs.docOf has ${pr.docOf.length} entries for ${sequences.length} sequences`);
      if (!(pr.queryLen >= 1 && pr.maxLen >= pr.queryLen + 1)) throw new RangeError(`MlmTask: pairs need queryLen >= 1 and maxLen > queryLen (got ${pr.queryLen}, ${pr.maxLen})`);
      if (pr.ownShare !== undefined && !(pr.ownShare >= 0 && pr.ownShare <= 1)) throw new RangeError(`MlmTask: pairs.ownShare must be in [0, 1] (got ${pr.ownShare})`);
      // sequences of one document are contiguous (chunkDocuments): [first, end) of each sequence's document
      this.docFirst = new Int32Array(sequences.length);
      this.docEnd = new Int32Array(sequences.length);
      for (let i = 0; i < sequences.length;) {
        let j = i;
        while (j < sequences.length && pr.docOf[j] === pr.docOf[i]) j++;
        this.docFirst.fill(i, i, j);
        this.docEnd.fill(j, i, j);
        i = j;
      }
    }
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

  /** Index of the next training sequence (rolls over into the next epoch's order). */
  private nextIndex(): number {
    if (this.pos >= this.order.length) {
      this.epoch++;
      this.pos = 0;
      this.order = this.epochOrder(this.epoch);
    }
    return this.order[this.pos++];
  }

  /** Segment a and b for sequence index i (pair mode; draws from the Rng). */
  private pairOf(i: number, p: MlmPairOptions): { a: Int32Array; b: Int32Array } {
    const s = this.sequences[i];
    const la = Math.min(p.queryLen, s.length - 1);
    const span = Math.max(la, Math.min(s.length, p.maxLen - la)); // a within the part of s that fits as b
    const start = this.rng.int(span - la + 1);
    const a = s.subarray(start, start + la);
    const r = this.rng.random();
    const own = p.ownShare ?? 0.5;
    const same = own + (1 - own) / 2;
    let j = i; // r < own: the sequence a came from
    if (r >= own && r < same && this.docEnd[i] - this.docFirst[i] > 1) {
      j = this.docFirst[i] + this.rng.int(this.docEnd[i] - this.docFirst[i] - 1);
      if (j >= i) j++; // another sequence of the same document
    } else if (r >= same) {
      j = this.rng.int(this.sequences.length); // a random sequence, of another document when it lands on this one
      if (p.docOf[j] === p.docOf[i]) j = (this.docEnd[i]) % this.sequences.length;
    }
    return { a, b: this.sequences[j].subarray(0, p.maxLen - la) };
  }

  /** Builds one masked batch (advances the cursor and the Rng). */
  nextBatch(): { inputs: BertInputs; positions: Int32Array; labels: Int32Array } {
    const { batchSize, maskProb, pairs } = this.opts;
    const t = this.tokens;
    const rows = Array.from({ length: batchSize }, () => {
      const i = this.nextIndex();
      return pairs ? this.pairOf(i, pairs) : { a: this.sequences[i], b: null };
    });
    const len = (r: { a: Int32Array; b: Int32Array | null }): number => r.a.length + 2 + (r.b ? r.b.length + 1 : 0);
    const T = Math.max(...rows.map(len));
    const inputIds = new Int32Array(batchSize * T).fill(t.padId);
    const tokenTypeIds = pairs ? new Int32Array(batchSize * T) : undefined;
    const attentionMask = new Uint8Array(batchSize * T);
    const positions: number[] = [];
    const labels: number[] = [];
    rows.forEach(({ a, b }, row) => {
      const base = row * T;
      // [CLS] a [SEP] (b [SEP]); content = the offsets that may be masked
      const seq = [t.clsId, ...a, t.sepId, ...(b ? [...b, t.sepId] : [])];
      inputIds.set(seq, base);
      attentionMask.fill(1, base, base + seq.length);
      if (b && tokenTypeIds) tokenTypeIds.fill(1, base + a.length + 2, base + seq.length);
      const content = [...Array.from({ length: a.length }, (_, i) => 1 + i), ...(b && pairs?.maskSecond !== false ? Array.from({ length: b.length }, (_, i) => a.length + 2 + i) : [])];
      let chosen = 0;
      const pick = (off: number): void => {
        positions.push(base + off);
        labels.push(seq[off]);
        const r = this.rng.random();
        if (r < 0.8) inputIds[base + off] = t.maskId;
        else if (r < 0.9) inputIds[base + off] = this.rng.int(t.firstNormalId, t.vocabSize);
        chosen++;
      };
      for (const off of content) if (this.rng.random() < maskProb) pick(off);
      if (chosen === 0) pick(content[this.rng.int(content.length)]);
    });
    return { inputs: { inputIds, tokenTypeIds, attentionMask, batch: batchSize, seqLen: T }, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
  }

  step(): StepOutput {
    const b = this.nextBatch();
    return { loss: this.mlm.loss(b.inputs, b.positions, b.labels, true), metrics: { maskedTokens: b.labels.length } };
  }
}
