/**
 * Shared inputs and initial weights for the BERT-mini train-step benchmark (bench/train-step.ts) and its peers
 * (bench/peers/torch_train_step.py, bench/peers/tfjs_train_step.ts), so all three run the same model on the same data.
 *
 * - Inputs: a deterministic JSON file (committed as bench/peers/train_step_inputs.json; regenerate with
 *   `npx tsx bench/train-step.ts --write-inputs`): the MLM batch (8 x 128, some sequences padded, 15% of the real
 *   tokens masked BERT-style 80/10/10, masked positions flattened as b * T + t) and the doc-encoding batch (32 x 288).
 * - Weights: a safetensors file with HF BERT names (`bert.*`, `cls.predictions.*`, plus the RealmEmbedder-style
 *   128-d projection `cls.dense` / `cls.LayerNorm` used by the encode benchmark), drawn from a seeded RNG:
 *   N(0, 0.02) matrices, zero biases, LayerNorm ones/zeros. The MLM decoder is tied to the word embeddings and
 *   its bias is `cls.predictions.bias`, so neither alias is written.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Rng } from '../src/engine/index.js';

/** The BERT-mini configuration of the benchmark (HF `BertConfig` field names). */
export const BENCH_CONFIG = {
  vocab_size: 8000,
  hidden_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 1024,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  retriever_proj_size: 128,
};

/** The benchmark's token batches (all integer arrays flattened row-major). */
export interface TrainStepInputs {
  /** Generator seed, for the record. */
  seed: number;
  /** MLM batch: batch size, sequence length and [batch * seqLen] arrays. */
  train: {
    batch: number;
    seqLen: number;
    inputIds: number[];
    tokenTypeIds: number[];
    attentionMask: number[];
    /** Flat positions b * seqLen + t of the masked tokens, sorted. */
    maskedPositions: number[];
    /** Original token id at each masked position. */
    maskedLabels: number[];
  };
  /** Doc-encoding batch (forward only). */
  encode: { batch: number; seqLen: number; inputIds: number[]; tokenTypeIds: number[]; attentionMask: number[] };
}

const PAD = 0;
const CLS = 2;
const SEP = 3;
const MASK = 4;
const FIRST_WORD = 5;

/** Builds the deterministic benchmark inputs. */
export function generateInputs(seed = 20200210): TrainStepInputs {
  const rng = new Rng(seed);
  const V = BENCH_CONFIG.vocab_size;
  const word = (): number => FIRST_WORD + Math.floor(rng.random() * (V - FIRST_WORD));
  const makeBatch = (batch: number, seqLen: number, lengths: number[]) => {
    const inputIds: number[] = [];
    const tokenTypeIds: number[] = [];
    const attentionMask: number[] = [];
    for (let b = 0; b < batch; b++) {
      const len = lengths[b];
      const sep1 = Math.floor(len / 2);
      for (let t = 0; t < seqLen; t++) {
        let id = PAD;
        if (t < len) id = t === 0 ? CLS : t === sep1 || t === len - 1 ? SEP : word();
        inputIds.push(id);
        tokenTypeIds.push(t < len && t > sep1 ? 1 : 0);
        attentionMask.push(t < len ? 1 : 0);
      }
    }
    return { batch, seqLen, inputIds, tokenTypeIds, attentionMask };
  };
  const trainLengths = [128, 128, 120, 112, 128, 104, 128, 96];
  const train = makeBatch(8, 128, trainLengths);
  const maskedPositions: number[] = [];
  const maskedLabels: number[] = [];
  for (let b = 0; b < train.batch; b++) {
    const len = trainLengths[b];
    const candidates: number[] = [];
    for (let t = 0; t < len; t++) {
      const id = train.inputIds[b * train.seqLen + t];
      if (id !== CLS && id !== SEP) candidates.push(t);
    }
    const nMask = Math.max(1, Math.round(0.15 * len));
    for (let i = 0; i < nMask; i++) {
      const j = i + Math.floor(rng.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    const chosen = candidates.slice(0, nMask).sort((x, y) => x - y);
    for (const t of chosen) {
      const flat = b * train.seqLen + t;
      maskedPositions.push(flat);
      maskedLabels.push(train.inputIds[flat]);
      const u = rng.random();
      if (u < 0.8) train.inputIds[flat] = MASK;
      else if (u < 0.9) train.inputIds[flat] = word();
    }
  }
  const encode = makeBatch(32, 288, Array.from({ length: 32 }, (_, i) => (i % 4 === 3 ? 200 + 8 * i : 288)));
  return { seed, train: { ...train, maskedPositions, maskedLabels }, encode };
}

/** Reads and sanity-checks an inputs file written by `writeInputs`. */
export function readInputs(path: string): TrainStepInputs {
  const x = JSON.parse(readFileSync(path, 'utf8')) as TrainStepInputs;
  const t = x.train;
  if (!t || t.inputIds.length !== t.batch * t.seqLen || t.maskedPositions.length !== t.maskedLabels.length) {
    throw new Error(`${path}: not a train-step inputs file (inconsistent train batch)`);
  }
  return x;
}

/** Writes `value` to `path` atomically (temp file, fsync, rename). */
export function writeFileAtomic(path: string, value: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes the inputs file (compact JSON, one array per line). */
export function writeInputs(path: string, inputs: TrainStepInputs): void {
  writeFileAtomic(path, JSON.stringify(inputs) + '\n');
}

/** Names and shapes of every benchmark parameter, in HF order. */
export function benchParamShapes(): Array<[string, number[]]> {
  const c = BENCH_CONFIG;
  const H = c.hidden_size;
  const out: Array<[string, number[]]> = [
    ['bert.embeddings.word_embeddings.weight', [c.vocab_size, H]],
    ['bert.embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
    ['bert.embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
    ['bert.embeddings.LayerNorm.weight', [H]],
    ['bert.embeddings.LayerNorm.bias', [H]],
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    for (const n of ['query', 'key', 'value']) {
      out.push([`${p}.attention.self.${n}.weight`, [H, H]], [`${p}.attention.self.${n}.bias`, [H]]);
    }
    out.push(
      [`${p}.attention.output.dense.weight`, [H, H]], [`${p}.attention.output.dense.bias`, [H]],
      [`${p}.attention.output.LayerNorm.weight`, [H]], [`${p}.attention.output.LayerNorm.bias`, [H]],
      [`${p}.intermediate.dense.weight`, [c.intermediate_size, H]], [`${p}.intermediate.dense.bias`, [c.intermediate_size]],
      [`${p}.output.dense.weight`, [H, c.intermediate_size]], [`${p}.output.dense.bias`, [H]],
      [`${p}.output.LayerNorm.weight`, [H]], [`${p}.output.LayerNorm.bias`, [H]],
    );
  }
  out.push(
    ['bert.pooler.dense.weight', [H, H]], ['bert.pooler.dense.bias', [H]],
    ['cls.predictions.bias', [c.vocab_size]],
    ['cls.predictions.transform.dense.weight', [H, H]], ['cls.predictions.transform.dense.bias', [H]],
    ['cls.predictions.transform.LayerNorm.weight', [H]], ['cls.predictions.transform.LayerNorm.bias', [H]],
    ['cls.dense.weight', [c.retriever_proj_size, H]], ['cls.dense.bias', [c.retriever_proj_size]],
    ['cls.LayerNorm.weight', [c.retriever_proj_size]], ['cls.LayerNorm.bias', [c.retriever_proj_size]],
  );
  return out;
}

/** BERT init of every benchmark parameter from a seeded RNG (HF names → values). */
export function generateWeights(seed = 7): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(seed);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of benchParamShapes()) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (shape.length === 2) rng.fillNormal(data, 0, BENCH_CONFIG.initializer_range);
    out.set(name, { shape, data });
  }
  return out;
}

/** Serialises tensors as a safetensors (F32) file, atomically. */
export function writeSafetensorsF32(path: string, tensors: Map<string, { shape: number[]; data: Float32Array }>): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const buf = new Uint8Array(8 + headerBytes.length + off);
  new DataView(buf.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  buf.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    buf.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  writeFileAtomic(path, buf);
}

/** Reads a safetensors file of F32 tensors (used by the tfjs peer and our side of the bench). */
export function readSafetensorsF32(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (h.dtype !== 'F32') throw new Error(`${path}: tensor ${name} has dtype ${h.dtype}, expected F32`);
    const [a, b] = h.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    out.set(name, { shape: h.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}
