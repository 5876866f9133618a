/**
 * Per-step profile of the BERT-mini train step (issue 3 benchmark model): times forward / backward / optimiser and
 * every backend kernel family of one step, so the JS-side remainder (step - kernels) is visible. Development aid.
 * `--model wide`: configs/mlm-wide.json's encoder instead (hidden 256, 4 layers, 4 heads, FFN 1024, vocab 8000) on a
 * synthetic batch of its shape (64 rows of 80-157 wordpieces, padded to 157; 15 % of real tokens masked). The buffer
 * pool's cap is raised as the training loops raise it (raisePoolLimitForTraining).
 *
 * Run: npx tsx bench/train-step-profile.ts [--threads 1] [--steps 8] [--model mini|wide]
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { AdamW, Rng, backward, bertDecayExclusions, getBackend, setBackend } from '../src/engine/index.js';
import { raisePoolLimitForTraining } from '../src/engine/pool.js';
import { bertMiniConfig } from '../src/model/config.js';
import { BertForMaskedLM } from '../src/model/mlm.js';
import { BENCH_CONFIG, readInputs } from './train-step-data.js';
import { exitOnHelp } from './lib/help.js';
import { timingBackend, type TimingKey } from './lib/timing.js';

exitOnHelp(import.meta.url);

const root = new URL('..', import.meta.url).pathname;
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** Time-table key: kernel name, with the shape for GEMMs (and the size for axpby when PROFILE_SIZES is set). */
const keyOf: TimingKey = (name, a) => {
  if (name === 'sgemm') return `sgemm ${a[0] ? 'T' : 'N'}${a[1] ? 'T' : 'N'} ${a[2]}x${a[3]}x${a[4]}`;
  if (name === 'linearForward') return `linearForward ${a[5]}x${a[7]}x${a[6]} act ${a[8]}`;
  if (name === 'sgemmBatched') return `sgemmBatched ${a[0]}x ${a[1] ? 'T' : 'N'}${a[2] ? 'T' : 'N'} ${a[3]}x${a[4]}x${a[5]}`;
  if (name === 'axpby' && process.env.PROFILE_SIZES) return `axpby n=${a[5]} a=${a[0]} b=${a[2]}`;
  return name;
};

raisePoolLimitForTraining();
const wide = arg('model', 'mini') === 'wide';
/** The wide mode's synthetic batch: B rows of 80..T real tokens (random ids), 15 % of them masked. */
function wideBatch(B: number, T: number, V: number) {
  const rng = new Rng(3);
  const mask = new Uint8Array(B * T);
  const pos: number[] = [];
  for (let b = 0; b < B; b++) {
    const n = 80 + rng.int(T - 80 + 1);
    mask.fill(1, b * T, b * T + n);
    for (let i = 0; i < n; i++) if (rng.uniform() < 0.15) pos.push(b * T + i);
  }
  return {
    batch: { inputIds: Int32Array.from({ length: B * T }, () => 5 + rng.int(V - 5)), tokenTypeIds: new Int32Array(B * T), attentionMask: mask, batch: B, seqLen: T },
    positions: Int32Array.from(pos), labels: Int32Array.from(pos, () => 5 + rng.int(V - 5)),
  };
}
const cfg = wide
  ? bertMiniConfig({ vocab_size: 8000, hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 256, pad_token_id: 0 })
  : bertMiniConfig({
    vocab_size: BENCH_CONFIG.vocab_size, hidden_act: 'gelu', pad_token_id: 0,
    hidden_dropout_prob: BENCH_CONFIG.hidden_dropout_prob, attention_probs_dropout_prob: BENCH_CONFIG.attention_probs_dropout_prob,
  });
const model = new BertForMaskedLM(cfg, new Rng(1), 'bert');
const { batch, positions, labels } = wide ? wideBatch(64, 157, 8000) : (() => {
  const tr = readInputs(join(root, 'bench/peers/train_step_inputs.json')).train;
  return {
    batch: {
      inputIds: Int32Array.from(tr.inputIds), tokenTypeIds: Int32Array.from(tr.tokenTypeIds),
      attentionMask: Uint8Array.from(tr.attentionMask), batch: tr.batch, seqLen: tr.seqLen,
    },
    positions: Int32Array.from(tr.maskedPositions), labels: Int32Array.from(tr.maskedLabels),
  };
})();
const opt = new AdamW(model.parameters(), { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01, decay: bertDecayExclusions });
const base = getBackend();
base.setThreads(Number(arg('threads', '1')));
const steps = Number(arg('steps', '8'));
const split = { forward: 0, backward: 0, optimizer: 0, total: 0 };
const step = (): void => {
  opt.zeroGrad();
  const t0 = performance.now();
  const loss = model.loss(batch, positions, labels, true);
  const t1 = performance.now();
  backward(loss, undefined, { freeActivations: !process.argv.includes('--keep-activations') });
  const t2 = performance.now();
  opt.step();
  const t3 = performance.now();
  split.forward += t1 - t0;
  split.backward += t2 - t1;
  split.optimizer += t3 - t2;
  split.total += t3 - t0;
};
for (let i = 0; i < 3; i++) step();
split.forward = split.backward = split.optimizer = split.total = 0;
const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1e3 / steps; // CPU time of all threads: the work, whatever the machine's load
times.sort((a, b) => a - b);
const plain = { ...split };
const timer = timingBackend(base, keyOf);
setBackend(timer.backend);
split.forward = split.backward = split.optimizer = split.total = 0;
for (let i = 0; i < steps; i++) step();
setBackend(base);
const table = Object.entries(timer.table());
let kern = 0;
for (const [, v] of table) kern += v;
const f = (x: number): string => (x / steps).toFixed(1);
console.log(`threads ${base.getThreads()}: median ${times[times.length >> 1].toFixed(1)} ms, min ${times[0].toFixed(1)}, CPU ${cpuMs.toFixed(1)} ms/step; forward ${f(plain.forward)}, backward ${f(plain.backward)}, optimizer ${f(plain.optimizer)}`);
console.log(`kernels ${f(kern)} ms/step, non-kernel (JS) ${f(split.total - kern)} ms/step`);
for (const [k, v] of table) console.log(`  ${f(v).padStart(7)}  ${k}`);
