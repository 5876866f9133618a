/**
 * The BERT-mini train-step benchmark (issue 3, "Benchmark"): one MLM step (forward + backward + AdamW) of BERT-mini
 * (2 layers, hidden 256, 4 heads, intermediate 1024, vocab 8000, batch 8 x 128, MLM head on the 15% masked positions
 * gathered first, tied decoder, dropout 0.1) at 1 and 2 threads, side by side in one run with the PyTorch and
 * tfjs-backend-wasm peers on the same model, inputs and initial weights; plus forward-only doc encoding (encoder +
 * pooler + RealmEmbedder-style 128-d projection, batch 32 x 288) in passages/s and GEMM 1024^3 in GFLOP/s.
 * `--profile` adds a per-kernel-family time split of our step (a timing proxy around the backend).
 *
 * Ours and the PyTorch peer alternate for --rounds rounds (default 2; medians over rounds, per-round values kept), since
 * the load of a shared machine drifts; ours also reports process CPU ms per step.
 *
 * Run: npx tsx bench/train-step.ts [--steps 20] [--warmup 3] [--threads 1,2] [--rounds 2] [--peers torch,tfjs|none] [--profile]
 *      [--no-write] ; `--write-inputs` regenerates bench/peers/train_step_inputs.json; `--report-only` re-renders
 *      the BENCHMARKS.md section from the last results JSON.
 * Writes bench/results/train-step.json and the BENCHMARKS.md section between the train-step markers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { nativeAddon } from '../src/engine/backends/native.js';
import { AdamW, Rng, backward, bertDecayExclusions, getBackend, layerNorm, linear, noGrad, setBackend, type Backend } from '../src/engine/index.js';
import { bertMiniConfig } from '../src/model/config.js';
import { BertForMaskedLM } from '../src/model/mlm.js';
import { ParamStore } from '../src/model/params.js';
import {
  BENCH_CONFIG, generateInputs, generateWeights, readInputs, writeFileAtomic, writeInputs, writeSafetensorsF32,
} from './train-step-data.js';
import { updateBenchmarksSection } from './train-step-report.js';
import { median } from './lib/report.js';
import { exitOnHelp } from './lib/help.js';
import { timingBackend } from './lib/timing.js';
import { runPeer, torchPython } from './lib/peerProcess.js';

exitOnHelp(import.meta.url);

const root = new URL('..', import.meta.url).pathname;
const INPUTS = join(root, 'bench/peers/train_step_inputs.json');
const RESULT = join(root, 'bench/results/train-step.json');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

interface OursResult {
  step_ms: number;
  step_ms_min: number;
  last_loss: number;
  encode_per_s: number;
  gemm_gflops: number;
  /** Process CPU time (all threads) per timed step: the work done, less sensitive to other jobs than wall time. */
  cpu_ms_per_step: number;
  /** Per-round medians when the bench ran several alternating rounds (step_ms is their median). */
  step_ms_rounds?: number[];
  split_ms?: { forward: number; backward: number; optimizer: number };
  kernels_ms?: Record<string, number>;
  /** GEMM FLOP of one train step (counted at the backend), and that over step_ms: the step's effective GFLOP/s. */
  gemm_gflop_per_step?: number;
  step_gflops?: number;
  /** Measured FMA peak of this many threads running at once (native fmaPeak), and step_gflops as a share of it. */
  fma_peak_gflops?: number | null;
  step_pct_of_peak?: number | null;
}

function runOurs(weightsPath: string, threadsList: number[], steps: number, warmup: number, profile: boolean) {
  const inp = readInputs(INPUTS);
  const cfg = bertMiniConfig({
    vocab_size: BENCH_CONFIG.vocab_size, hidden_act: 'gelu', pad_token_id: 0,
    hidden_dropout_prob: BENCH_CONFIG.hidden_dropout_prob, attention_probs_dropout_prob: BENCH_CONFIG.attention_probs_dropout_prob,
  });
  const model = new BertForMaskedLM(cfg, new Rng(1), 'bert');
  // The RealmEmbedder-style projection used by the encode benchmark (cls.dense + cls.LayerNorm).
  const proj = new ParamStore();
  const projW = proj.add('cls.dense.weight', [BENCH_CONFIG.retriever_proj_size, cfg.hidden_size], 'weight');
  const projB = proj.add('cls.dense.bias', [BENCH_CONFIG.retriever_proj_size], 'bias');
  const projG = proj.add('cls.LayerNorm.weight', [BENCH_CONFIG.retriever_proj_size], 'lnWeight');
  const projBeta = proj.add('cls.LayerNorm.bias', [BENCH_CONFIG.retriever_proj_size], 'lnBias');
  const all = new ParamStore();
  for (const [n, t] of [...model.parameters(), ...proj.params]) all.params.set(n, t);
  all.load(weightsPath);

  const tr = inp.train;
  const batch = {
    inputIds: Int32Array.from(tr.inputIds), tokenTypeIds: Int32Array.from(tr.tokenTypeIds),
    attentionMask: Uint8Array.from(tr.attentionMask), batch: tr.batch, seqLen: tr.seqLen,
  };
  const positions = Int32Array.from(tr.maskedPositions);
  const labels = Int32Array.from(tr.maskedLabels);
  const en = inp.encode;
  const enc = {
    inputIds: Int32Array.from(en.inputIds), tokenTypeIds: Int32Array.from(en.tokenTypeIds),
    attentionMask: Uint8Array.from(en.attentionMask), batch: en.batch, seqLen: en.seqLen,
  };
  const initialLoss = noGrad(() => model.loss(batch, positions, labels, false)).item();
  const opt = new AdamW(model.parameters(), { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01, decay: bertDecayExclusions });
  const base = getBackend();
  const timer = timingBackend(base);
  const split = { forward: 0, backward: 0, optimizer: 0 };
  const step = (measure: boolean): number => {
    opt.zeroGrad();
    const t0 = performance.now();
    const loss = model.loss(batch, positions, labels, true);
    const t1 = performance.now();
    backward(loss, undefined, { freeActivations: true }); // recycle this step's activations into the pool
    const t2 = performance.now();
    opt.step();
    const t3 = performance.now();
    if (measure) {
      split.forward += t1 - t0;
      split.backward += t2 - t1;
      split.optimizer += t3 - t2;
    }
    return loss.item();
  };
  const byThreads: Record<string, OursResult> = {};
  for (const nt of threadsList) {
    base.setThreads(nt);
    for (let i = 0; i < warmup; i++) step(false);
    const times: number[] = [];
    let lastLoss = NaN;
    split.forward = split.backward = split.optimizer = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      lastLoss = step(true);
      times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    const r: OursResult = {
      step_ms: median(times), step_ms_min: Math.min(...times), last_loss: lastLoss, encode_per_s: 0, gemm_gflops: 0,
      cpu_ms_per_step: (cpu.user + cpu.system) / 1e3 / steps,
      split_ms: { forward: split.forward / steps, backward: split.backward / steps, optimizer: split.optimizer / steps },
    };
    // GEMM FLOP of one step (the same every step) and the machine's FMA peak at this thread count, measured now.
    setBackend(timer.backend);
    timer.reset();
    step(false);
    setBackend(base);
    r.gemm_gflop_per_step = timer.gemmFlops() / 1e9;
    r.step_gflops = r.gemm_gflop_per_step / (r.step_ms / 1e3);
    const addon = nativeAddon();
    r.fma_peak_gflops = addon && base.name === 'native' ? addon.fmaPeak(nt, 1000).gflops : null;
    r.step_pct_of_peak = r.fma_peak_gflops ? (100 * r.step_gflops) / r.fma_peak_gflops : null;
    if (profile) {
      setBackend(timer.backend);
      timer.reset();
      const n = Math.max(3, Math.floor(steps / 2));
      for (let i = 0; i < n; i++) step(false);
      setBackend(base);
      r.kernels_ms = Object.fromEntries(Object.entries(timer.table()).map(([k, v]) => [k, v / n]));
    }
    const encodeOnce = (): void => noGrad(() => {
      const pooled = model.bert.forward(enc, false).pooledOutput!;
      layerNorm(linear(pooled, projW, projB), projG, projBeta, cfg.layer_norm_eps);
    });
    encodeOnce();
    const et: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      encodeOnce();
      et.push(performance.now() - t0);
    }
    r.encode_per_s = en.batch / (median(et) / 1e3);
    r.gemm_gflops = gemmGflops(base);
    byThreads[String(nt)] = r;
    const fmt = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    console.error(`  split ms: ${fmt(r.split_ms!)}${r.kernels_ms ? `\n  kernels ms/step: ${fmt(r.kernels_ms)}` : ''}`);
    console.error(`ours @${nt} thread(s): ${r.step_ms.toFixed(1)} ms/step (min ${r.step_ms_min.toFixed(1)}), encode ${r.encode_per_s.toFixed(1)}/s, GEMM ${r.gemm_gflops.toFixed(1)} GFLOP/s, step ${r.step_gflops.toFixed(1)} GFLOP/s = ${r.step_pct_of_peak?.toFixed(0) ?? '?'}% of the measured FMA peak ${r.fma_peak_gflops?.toFixed(1) ?? '?'} GFLOP/s`);
  }
  return { backend: base.name, initial_loss: initialLoss, by_threads: byThreads };
}

function gemmGflops(be: Backend): number {
  const n = 1024;
  const rng = new Rng(3);
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  rng.fillNormal(a);
  rng.fillNormal(b);
  const c = new Float32Array(n * n);
  be.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    be.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    ts.push(performance.now() - t0);
  }
  return (2 * n ** 3) / (median(ts) / 1e3) / 1e9;
}

/**
 * Merges the results of alternating rounds: for every thread count, step_ms / encode_per_s / gemm_gflops /
 * cpu_ms_per_step become the median over rounds and step_ms_rounds lists the per-round step_ms; the rest is round 1's.
 */
function mergeRounds(runs: Array<Record<string, unknown>>): Record<string, unknown> {
  const first = runs[0];
  const by = first.by_threads as Record<string, Record<string, unknown>>;
  const merged: Record<string, Record<string, unknown>> = {};
  for (const t of Object.keys(by)) {
    const rows = runs.map((r) => (r.by_threads as Record<string, Record<string, unknown>>)[t]).filter((x) => x);
    const m: Record<string, unknown> = { ...by[t] };
    for (const k of ['step_ms', 'encode_per_s', 'gemm_gflops', 'cpu_ms_per_step', 'step_gflops', 'fma_peak_gflops', 'step_pct_of_peak']) {
      const xs = rows.map((x) => x[k]).filter((x): x is number => typeof x === 'number');
      if (xs.length > 0) m[k] = median(xs);
    }
    m.step_ms_rounds = rows.map((x) => x.step_ms);
    merged[t] = m;
  }
  return { ...first, by_threads: merged, rounds: runs.length };
}

/** Runs a peer command; returns its JSON or a note saying why it was skipped. */
function main(): void {
  if (flag('report-only')) {
    updateBenchmarksSection(join(root, 'BENCHMARKS.md'), JSON.parse(readFileSync(RESULT, 'utf8')) as Record<string, unknown>);
    console.error('re-rendered the BENCHMARKS.md section from bench/results/train-step.json');
    return;
  }
  if (flag('write-inputs')) {
    writeInputs(INPUTS, generateInputs());
    console.error(`wrote ${INPUTS}`);
    return;
  }
  const steps = Number(arg('steps', '20'));
  const warmup = Number(arg('warmup', '3'));
  const threads = arg('threads', '1,2').split(',').map(Number);
  const peers = arg('peers', 'torch,tfjs').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'train-step-'));
  const weights = join(dir, 'weights.safetensors');
  const load0 = loadavg()[0];
  try {
    writeSafetensorsF32(weights, generateWeights());
    // Ours and torch alternate for `rounds` rounds (the load of a shared machine drifts over minutes); each figure is
    // the median of the per-round medians, and the per-round values are kept in the JSON.
    const rounds = Math.max(1, Number(arg('rounds', '2')));
    const notes: string[] = [];
    const py = peers.includes('torch') ? torchPython(root) : null;
    if (peers.includes('torch') && !py) notes.push('torch skipped: no Python with torch found (set TORCH_PYTHON, or pip install torch into .venv)');
    const oursRuns: Array<ReturnType<typeof runOurs>> = [];
    const torchRuns: Array<Record<string, unknown>> = [];
    for (let round = 0; round < rounds; round++) {
      console.error(`round ${round + 1}/${rounds} (load average ${loadavg()[0].toFixed(2)})`);
      oursRuns.push(runOurs(weights, threads, steps, warmup, flag('profile') && round === 0));
      if (py) {
        const r = runPeer(root, 'torch', py, ['bench/peers/torch_train_step.py', '--inputs', INPUTS, '--weights', weights,
          '--threads', threads.join(','), '--steps', String(steps), '--warmup', String(warmup)], 1_800_000);
        if (r.result) torchRuns.push(r.result);
        if (r.note) notes.push(`round ${round + 1}: ${r.note}`);
      }
    }
    const ours = mergeRounds(oursRuns as unknown as Array<Record<string, unknown>>) as unknown as ReturnType<typeof runOurs>;
    const torch = torchRuns.length > 0 ? mergeRounds(torchRuns) : null;
    let tfjs: Record<string, unknown> | null = null;
    if (peers.includes('tfjs')) {
      if (!existsSync(join(root, 'bench/peers/node_modules/@tensorflow/tfjs-backend-wasm'))) {
        notes.push('tfjs-wasm skipped: run `npm install --prefix bench/peers` first');
      } else {
        const r = runPeer(root, 'tfjs-wasm', process.execPath, ['--import', 'tsx', 'bench/peers/tfjs_train_step.ts', '--inputs', INPUTS,
          '--weights', weights, '--steps', arg('tfjs-steps', '3'), '--warmup', '1'], 1_800_000);
        tfjs = r.result;
        if (r.note) notes.push(r.note);
      }
    }
    for (const n of notes) console.error(n);
    const t = String(threads.includes(2) ? 2 : threads[threads.length - 1]);
    const torchBy = (torch?.by_threads ?? {}) as Record<string, { step_ms: number; encode_per_s: number; gemm_gflops: number }>;
    const oursMs = ours.by_threads[t].step_ms;
    const torchMs = torchBy[t]?.step_ms ?? null;
    const tfjsMs = (tfjs?.step_ms as number | undefined) ?? null;
    const result = {
      ours_ms: oursMs,
      torch_ms: torchMs,
      tfjs_wasm_ms: tfjsMs,
      ratio_vs_torch: torchMs ? oursMs / torchMs : null,
      speedup_vs_tfjs_wasm: tfjsMs ? tfjsMs / oursMs : null,
      threads: Number(t),
      encode_per_s: ours.by_threads[t].encode_per_s,
      torch_encode_per_s: torchBy[t]?.encode_per_s ?? null,
      // The same figures at 1 thread (null when 1 was not among --threads).
      ours_ms_1_thread: ours.by_threads['1']?.step_ms ?? null,
      torch_ms_1_thread: torchBy['1']?.step_ms ?? null,
      ratio_vs_torch_1_thread: ours.by_threads['1'] && torchBy['1']?.step_ms ? ours.by_threads['1'].step_ms / torchBy['1'].step_ms : null,
      encode_per_s_1_thread: ours.by_threads['1']?.encode_per_s ?? null,
      torch_encode_per_s_1_thread: torchBy['1']?.encode_per_s ?? null,
      tfjs_wasm_encode_per_s: (tfjs?.encode_per_s as number | undefined) ?? null,
      gemm_gflops: ours.by_threads[t].gemm_gflops,
      // GEMM FLOP per step, the machine's measured FMA peak at these threads, and our step as a share of it.
      gemm_gflop_per_step: ours.by_threads[t].gemm_gflop_per_step ?? null,
      fma_peak_gflops: ours.by_threads[t].fma_peak_gflops ?? null,
      step_pct_of_peak: ours.by_threads[t].step_pct_of_peak ?? null,
      torch_gemm_gflops: torchBy[t]?.gemm_gflops ?? null,
      initial_loss: { ours: ours.initial_loss, torch: torch?.initial_loss ?? null, tfjs_wasm: tfjs?.initial_loss ?? null },
      ours: ours,
      torch: torch,
      tfjs_wasm: tfjs,
      notes,
      setup: {
        model: 'BERT-mini: 2 layers, hidden 256, 4 heads, intermediate 1024, vocab 8000, max_position 512, erf GELU, post-LN, eps 1e-12, dropout 0.1',
        batch: '8 x 128 (some sequences padded), MLM on 15% of real tokens (141 positions), head on gathered positions, tied decoder',
        optimizer: 'AdamW lr 1e-4, betas (0.9, 0.999), eps 1e-6, weight decay 0.01 (none on bias/LayerNorm), no clipping',
        encode: 'encoder + pooler + cls.dense(128) + LayerNorm, batch 32 x 288, forward only',
        steps, warmup, rounds: Number(arg('rounds', '2')), tfjs_steps: Number(arg('tfjs-steps', '3')),
        free_activations: 'ours: backward(loss, undefined, { freeActivations: true }) recycles activations into the buffer pool',
        cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, load_avg_at_start: load0, load_avg_at_end: loadavg()[0],
        date: new Date().toISOString(), node: process.version,
      },
    };
    console.log(JSON.stringify({ ours_ms: result.ours_ms, torch_ms: result.torch_ms, tfjs_wasm_ms: result.tfjs_wasm_ms, ratio_vs_torch: result.ratio_vs_torch, speedup_vs_tfjs_wasm: result.speedup_vs_tfjs_wasm }, null, 1));
    if (!flag('no-write')) {
      writeFileAtomic(RESULT, JSON.stringify(result, null, 2) + '\n');
      updateBenchmarksSection(join(root, 'BENCHMARKS.md'), result);
      console.error(`wrote ${RESULT} and BENCHMARKS.md`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
