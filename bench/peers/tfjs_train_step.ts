/**
 * tfjs-backend-wasm peer of bench/train-step.ts: the same BERT-mini MLM train step (forward + backward + AdamW) and
 * doc-encoding forward, written with `@tensorflow/tfjs` ops on the `wasm` backend.
 *
 * Same model and inputs as the other two implementations (see bench/train-step-data.ts): 2 post-LN layers, hidden 256,
 * 4 heads, intermediate 1024, vocab 8000, erf GELU, LayerNorm eps 1e-12, dropout 0.1 in training, MLM head on the
 * gathered masked positions with the decoder tied to the word embeddings, AdamW (lr 1e-4, weight decay 0.01 except
 * biases/LayerNorm; written out with tf ops since tfjs has no AdamW). The wasm backend has no `UnsortedSegmentSum`
 * kernel, which the gradient of `tf.gather` (the embedding lookups) needs: we register a small custom kernel for it
 * (a plain scatter-add loop into the wasm heap), so the lookups stay gathers rather than one-hot matmuls.
 * In Node the wasm backend runs single-threaded (tfjs disables wasm threads under Node), with SIMD.
 *
 * Usage: npx tsx bench/peers/tfjs_train_step.ts --inputs F [--weights W] [--steps 3] [--warmup 1]
 * (needs `npm install --prefix bench/peers`). Prints one JSON object on stdout.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/* eslint-disable @typescript-eslint/no-explicit-any -- tfjs is an optional bench-only peer, loaded dynamically */
type Tf = any;
type T = any;

const CFG = { V: 8000, H: 256, L: 2, NH: 4, I: 1024, P: 512, eps: 1e-12, drop: 0.1, proj: 128 };

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

function readSafetensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bytes = buf.subarray(8 + n + h.data_offsets[0], 8 + n + h.data_offsets[1]);
    out.set(name, { shape: h.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

/** HF name → shape of every parameter the model uses. */
function paramShapes(): Array<[string, number[]]> {
  const { V, H, L, I, P, proj } = CFG;
  const s: Array<[string, number[]]> = [
    ['bert.embeddings.word_embeddings.weight', [V, H]], ['bert.embeddings.position_embeddings.weight', [P, H]],
    ['bert.embeddings.token_type_embeddings.weight', [2, H]],
    ['bert.embeddings.LayerNorm.weight', [H]], ['bert.embeddings.LayerNorm.bias', [H]],
  ];
  for (let i = 0; i < L; i++) {
    const p = `bert.encoder.layer.${i}`;
    for (const [n, o, k] of [['attention.self.query', H, H], ['attention.self.key', H, H], ['attention.self.value', H, H],
      ['attention.output.dense', H, H], ['intermediate.dense', I, H], ['output.dense', H, I]] as Array<[string, number, number]>) {
      s.push([`${p}.${n}.weight`, [o, k]], [`${p}.${n}.bias`, [o]]);
    }
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) s.push([`${p}.${n}.weight`, [H]], [`${p}.${n}.bias`, [H]]);
  }
  s.push(['bert.pooler.dense.weight', [H, H]], ['bert.pooler.dense.bias', [H]], ['cls.predictions.bias', [V]],
    ['cls.predictions.transform.dense.weight', [H, H]], ['cls.predictions.transform.dense.bias', [H]],
    ['cls.predictions.transform.LayerNorm.weight', [H]], ['cls.predictions.transform.LayerNorm.bias', [H]],
    ['cls.dense.weight', [proj, H]], ['cls.dense.bias', [proj]], ['cls.LayerNorm.weight', [proj]], ['cls.LayerNorm.bias', [proj]]);
  return s;
}

/** Registers UnsortedSegmentSum for the wasm backend (needed by the gradient of tf.gather). */
function registerSegmentSum(tf: Tf): void {
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: any) => {
      const { x, segmentIds } = inputs;
      const numSegments = attrs.numSegments as number;
      const xv = backend.readSync(x.dataId) as Float32Array;
      const ids = backend.readSync(segmentIds.dataId) as Int32Array;
      const inner = x.size / segmentIds.size;
      const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32');
      const ov = backend.typedArrayFromHeap(out) as Float32Array;
      ov.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const src = i * inner;
        const dst = ids[i] * inner;
        for (let j = 0; j < inner; j++) ov[dst + j] += xv[src + j];
      }
      return out;
    },
  });
}

async function main(): Promise<void> {
  const inputsPath = arg('inputs');
  if (!inputsPath) throw new Error('tfjs_train_step: --inputs <train_step_inputs.json> is required');
  const steps = Number(arg('steps', '3'));
  const warmup = Number(arg('warmup', '1'));
  const encodeIters = Number(arg('encode-iters', '2'));
  const tfName = '@tensorflow/tfjs';
  const wasmName = '@tensorflow/tfjs-backend-wasm';
  const tf: Tf = await import(tfName);
  await import(wasmName);
  registerSegmentSum(tf);
  await tf.setBackend('wasm');
  await tf.ready();
  const inp = JSON.parse(readFileSync(inputsPath, 'utf8'));
  const { V, H, L, NH, eps, drop } = CFG;
  const hd = H / NH;

  const weights = arg('weights') ? readSafetensors(arg('weights')!) : null;
  const vars = new Map<string, T>();
  for (const [name, shape] of paramShapes()) {
    let init: T;
    const w = weights?.get(name);
    if (w) init = tf.tensor(w.data, shape);
    else if (name.endsWith('LayerNorm.weight')) init = tf.ones(shape);
    else if (shape.length === 2) init = tf.randomNormal(shape, 0, 0.02);
    else init = tf.zeros(shape);
    vars.set(name, tf.variable(init, true, name));
  }
  const v = (n: string): T => vars.get(n)!;

  const layerNorm = (x: T, p: string): T => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), v(`${p}.weight`)), v(`${p}.bias`));
  };
  const dense = (x: T, p: string): T => tf.add(tf.matMul(x, v(`${p}.weight`), false, true), v(`${p}.bias`));
  const gelu = (x: T): T => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  const dropout = (x: T, training: boolean): T => (training && drop > 0 ? tf.dropout(x, drop) : x);

  /** Encoder: ids/types/mask [B, T] int32 → [B*T, H]. */
  const encode = (ids: T, types: T, mask: T, B: number, Tn: number, training: boolean): T => {
    const flatIds = tf.reshape(ids, [-1]);
    const pos = tf.tile(tf.range(0, Tn, 1, 'int32'), [B]);
    let x = tf.add(tf.add(tf.gather(v('bert.embeddings.word_embeddings.weight'), flatIds),
      tf.gather(v('bert.embeddings.position_embeddings.weight'), pos)),
    tf.gather(v('bert.embeddings.token_type_embeddings.weight'), tf.reshape(types, [-1])));
    x = dropout(layerNorm(x, 'bert.embeddings.LayerNorm'), training);          // [B*T, H]
    const maskBias = tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), -10000), [B, 1, 1, Tn]);
    for (let i = 0; i < L; i++) {
      const p = `bert.encoder.layer.${i}`;
      const heads = (t: T): T => tf.transpose(tf.reshape(t, [B, Tn, NH, hd]), [0, 2, 1, 3]);  // [B, NH, T, hd]
      const q = heads(dense(x, `${p}.attention.self.query`));
      const k = heads(dense(x, `${p}.attention.self.key`));
      const vv = heads(dense(x, `${p}.attention.self.value`));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), maskBias);
      const probs = dropout(tf.softmax(scores), training);
      const ctx = tf.reshape(tf.transpose(tf.matMul(probs, vv), [0, 2, 1, 3]), [B * Tn, H]);
      x = layerNorm(tf.add(x, dropout(dense(ctx, `${p}.attention.output.dense`), training)), `${p}.attention.output.LayerNorm`);
      const h = gelu(dense(x, `${p}.intermediate.dense`));
      x = layerNorm(tf.add(x, dropout(dense(h, `${p}.output.dense`), training)), `${p}.output.LayerNorm`);
    }
    return x;
  };

  const tr = inp.train;
  const B = tr.batch;
  const Tn = tr.seqLen;
  const ids = tf.tensor2d(tr.inputIds, [B, Tn], 'int32');
  const types = tf.tensor2d(tr.tokenTypeIds, [B, Tn], 'int32');
  const mask = tf.tensor2d(tr.attentionMask, [B, Tn], 'int32');
  const positions = tf.tensor1d(tr.maskedPositions, 'int32');
  const labelsOneHot = tf.oneHot(tf.tensor1d(tr.maskedLabels, 'int32'), V);
  const mlmLoss = (training: boolean): T => {
    const seq = encode(ids, types, mask, B, Tn, training);
    let h = tf.gather(seq, positions);                                           // [M, H]
    h = layerNorm(gelu(dense(h, 'cls.predictions.transform.dense')), 'cls.predictions.transform.LayerNorm');
    const logits = tf.add(tf.matMul(h, v('bert.embeddings.word_embeddings.weight'), false, true), v('cls.predictions.bias'));
    return tf.neg(tf.mean(tf.sum(tf.mul(labelsOneHot, tf.logSoftmax(logits)), -1)));
  };
  const initialLoss = tf.tidy(() => mlmLoss(false).dataSync()[0]);

  // AdamW state (torch.optim.AdamW semantics: decoupled decay, bias correction).
  const lr = 1e-4, b1 = 0.9, b2 = 0.999, adamEps = 1e-6, wd = 0.01;
  const m = new Map<string, T>();
  const s = new Map<string, T>();
  for (const [n, t] of vars) {
    m.set(n, tf.variable(tf.zerosLike(t), false));
    s.set(n, tf.variable(tf.zerosLike(t), false));
  }
  let t = 0;
  const step = (): number => {
    t++;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => mlmLoss(true), [...vars.values()]);
      for (const [n, p] of vars) {
        const g = grads[n];
        if (!g) continue;
        const decay = n.endsWith('.bias') || n.includes('LayerNorm') ? 0 : wd;
        const mn = tf.add(tf.mul(m.get(n), b1), tf.mul(g, 1 - b1));
        const sn = tf.add(tf.mul(s.get(n), b2), tf.mul(tf.square(g), 1 - b2));
        m.get(n).assign(mn);
        s.get(n).assign(sn);
        const upd = tf.div(tf.div(mn, bc1), tf.add(tf.sqrt(tf.div(sn, bc2)), adamEps));
        p.assign(tf.sub(tf.mul(p, 1 - lr * decay), tf.mul(upd, lr)));
      }
      return value.dataSync()[0] as number;
    });
  };

  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  let lastLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    lastLoss = step();
    times.push(performance.now() - t0);
  }

  const en = inp.encode;
  const eIds = tf.tensor2d(en.inputIds, [en.batch, en.seqLen], 'int32');
  const eTypes = tf.tensor2d(en.tokenTypeIds, [en.batch, en.seqLen], 'int32');
  const eMask = tf.tensor2d(en.attentionMask, [en.batch, en.seqLen], 'int32');
  const embedDocs = (): void => tf.tidy(() => {
    const seq = tf.reshape(encode(eIds, eTypes, eMask, en.batch, en.seqLen, false), [en.batch, en.seqLen, H]);
    const cls = tf.reshape(tf.slice(seq, [0, 0, 0], [en.batch, 1, H]), [en.batch, H]);
    const pooled = tf.tanh(dense(cls, 'bert.pooler.dense'));
    layerNorm(dense(pooled, 'cls.dense'), 'cls.LayerNorm').dataSync();
  });
  const enc: number[] = [];
  for (let i = 0; i < encodeIters; i++) {
    const t0 = performance.now();
    embedDocs();
    enc.push(performance.now() - t0);
  }
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.tidy(() => tf.matMul(a, b).dataSync());
  const t0 = performance.now();
  tf.tidy(() => tf.matMul(a, b).dataSync());
  const gemmS = (performance.now() - t0) / 1e3;

  const median = (xs: number[]): number => {
    const q = [...xs].sort((x, y) => x - y);
    return q.length % 2 ? q[(q.length - 1) / 2] : 0.5 * (q[q.length / 2 - 1] + q[q.length / 2]);
  };
  const wasm = await import(wasmName);
  console.log(JSON.stringify({
    peer: 'tfjs-wasm', tfjs_version: tf.version_core, backend: tf.getBackend(), wasm_threads: wasm.getThreadsCount?.() ?? 1,
    embedding_grad: 'custom UnsortedSegmentSum kernel (scatter-add)', initial_loss: initialLoss, dropout: drop, steps, warmup,
    step_ms: median(times), step_ms_min: Math.min(...times), last_loss: lastLoss,
    encode_per_s: en.batch / (median(enc) / 1e3), gemm_gflops: (2 * 1024 ** 3) / gemmS / 1e9,
  }));
}

main().catch((e: unknown) => {
  console.error(`tfjs_train_step: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
