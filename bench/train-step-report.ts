/**
 * Renders bench/results/train-step.json as the BENCHMARKS.md section between `<!-- train-step:start -->` and
 * `<!-- train-step:end -->` (creating the file or appending the section if absent; other sections are left alone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './train-step-data.js';

const START = '<!-- train-step:start -->';
const END = '<!-- train-step:end -->';

type ByThreads = Record<string, {
  step_ms: number; encode_per_s: number; gemm_gflops: number; cpu_ms_per_step?: number; step_ms_rounds?: number[];
  split_ms?: Record<string, number>; kernels_ms?: Record<string, number>;
}>;

const f = (x: unknown, d = 1): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

/** The markdown section for one result object. */
export function renderSection(r: Record<string, any>): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const ours = r.ours as { backend: string; by_threads: ByThreads };
  const torch = (r.torch?.by_threads ?? {}) as ByThreads;
  const tfjs = r.tfjs_wasm as Record<string, number> | null;
  const lines: string[] = [START, '## BERT-mini train step (issue 3)', ''];
  lines.push(`${r.setup.model}; ${r.setup.batch}; ${r.setup.optimizer}. Same inputs (bench/peers/train_step_inputs.json) and`,
    `initial weights in all three implementations; median of ${r.setup.steps} steps after ${r.setup.warmup} warm-up (tfjs: ${r.setup.tfjs_steps})${r.setup.rounds > 1 ? `, realm-lm and PyTorch alternating for ${r.setup.rounds} rounds (median of the round medians)` : ''}.`,
    `Measured ${r.setup.date} on ${r.setup.cpu} (${r.setup.cores} cores), load average ${f(r.setup.load_avg_at_start, 2)} → ${f(r.setup.load_avg_at_end, 2)}; our backend: ${ours.backend}.`,
    `Torch: ${r.torch ? `${r.torch.torch_version} (BLAS ${r.torch.blas})` : 'absent'}; tfjs: ${tfjs ? `${r.tfjs_wasm.tfjs_version} wasm, ${r.tfjs_wasm.wasm_threads} thread (Node), embedding grad via ${r.tfjs_wasm.embedding_grad}` : 'absent'}.`,
    '', '| threads | realm-lm ms/step | PyTorch ms/step | tfjs-wasm ms/step | realm-lm CPU ms/step | realm-lm encode/s | PyTorch encode/s | realm-lm GEMM GFLOP/s | PyTorch GEMM GFLOP/s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of Object.keys(ours.by_threads)) {
    const o = ours.by_threads[t];
    const p = torch[t];
    lines.push(`| ${t} | ${f(o.step_ms)} | ${f(p?.step_ms)} | ${t === '1' || Object.keys(ours.by_threads).length === 1 ? f(tfjs?.step_ms, 0) : '(1 thread only)'} | ${f(o.cpu_ms_per_step)} | ${f(o.encode_per_s)} | ${f(p?.encode_per_s)} | ${f(o.gemm_gflops)} | ${f(p?.gemm_gflops)} |`);
  }
  const rounds = Object.keys(ours.by_threads).map((t) => {
    const list = (x?: number[]): string => (x && x.length > 1 ? x.map((v) => f(v)).join(' / ') : '');
    const o = list(ours.by_threads[t].step_ms_rounds);
    const p = list(torch[t]?.step_ms_rounds);
    return o ? `${t} thread(s): realm-lm ${o}${p ? `, PyTorch ${p}` : ''}` : '';
  }).filter((x) => x);
  if (rounds.length > 0) lines.push('', `Per-round ms/step: ${rounds.join('; ')}.`);
  lines.push('', `At ${r.threads} threads: ratio_vs_torch = **${f(r.ratio_vs_torch, 2)}** (target <= 1.0), speedup_vs_tfjs_wasm = **${f(r.speedup_vs_tfjs_wasm, 0)}x**${typeof r.ratio_vs_torch_1_thread === 'number' && r.threads !== 1 ? `; at 1 thread: ratio_vs_torch = **${f(r.ratio_vs_torch_1_thread, 2)}**` : ''}.`,
    `Initial MLM loss (eval mode, same weights): ours ${f(r.initial_loss.ours, 5)}, torch ${f(r.initial_loss.torch, 5)}, tfjs ${f(r.initial_loss.tfjs_wasm, 5)}.`);
  if (typeof r.fma_peak_gflops === 'number' && typeof r.gemm_gflop_per_step === 'number') {
    lines.push(`Against this machine: a step is ${f(r.gemm_gflop_per_step, 2)} GFLOP of GEMM; the measured FMA peak of ${r.threads} threads running at once`,
      `(native \`fmaPeak\`, same run) is ${f(r.fma_peak_gflops)} GFLOP/s, so the step at ${f(r.ours_ms)} ms runs at **${f(r.step_pct_of_peak, 0)}%** of peak`,
      `and no implementation can go below ${f((1e3 * r.gemm_gflop_per_step) / r.fma_peak_gflops)} ms here; 80x tfjs-wasm needs ${f(typeof r.tfjs_wasm_ms === 'number' ? r.tfjs_wasm_ms / 80 : NaN)} ms.`);
  }
  const top = ours.by_threads[String(r.threads)];
  if (top?.split_ms) lines.push(`Our step split at ${r.threads} threads (ms): forward ${f(top.split_ms.forward)}, backward ${f(top.split_ms.backward)}, AdamW ${f(top.split_ms.optimizer)}.`);
  if (top?.kernels_ms) {
    const k = Object.entries(top.kernels_ms).slice(0, 8).map(([n, v]) => `${n} ${f(v)}`).join(', ');
    lines.push(`Backend kernel time per step (ms): ${k}; the rest of the step is JS-side op code (autograd bookkeeping, small ops, allocation/GC).`);
  }
  if (r.setup.load_avg_at_start > r.setup.cores || r.setup.load_avg_at_end > r.setup.cores) {
    lines.push('', `**Caveat:** measured while other jobs loaded the machine (load average ${f(r.setup.load_avg_at_start, 1)} → ${f(r.setup.load_avg_at_end, 1)} on ${r.setup.cores} cores):`,
      'every timing is inflated and noisy (runs minutes apart differ by 2x), and PyTorch at 2 threads suffers most (OpenMP',
      'threads spin-wait under oversubscription), so this ratio_vs_torch is not the idle-machine figure. Re-run on an idle machine.');
  }
  for (const n of r.notes ?? []) lines.push('', `Note: ${n}`);
  lines.push('', 'Reproduce: `npm install --prefix bench/peers` (tfjs peer), a Python with torch (`python3 -m venv .venv && .venv/bin/pip install torch`, or TORCH_PYTHON=...), then',
    '`npx tsx bench/train-step.ts` (add `--profile` for the kernel split). Results: bench/results/train-step.json.', END);
  return lines.join('\n');
}

/** Replaces (or appends) the train-step section of BENCHMARKS.md, atomically. */
export function updateBenchmarksSection(path: string, r: Record<string, unknown>): void {
  const section = renderSection(r);
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + section + text.slice(b + END.length);
  else text = `${text.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileAtomic(path, text);
}
