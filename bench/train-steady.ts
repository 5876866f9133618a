/**
 * Steady-state training throughput of a wider encoder (issue 6 / issue 5 trunks): `realm-lm pretrain` on
 * configs/mlm-wide.json's model — BERT hidden 256, 4 layers, 4 heads, FFN 1024, vocab 8000, segment-pair MLM on the
 * Wikipedia leads + WordNet, 64 rows of <= 160 wordpieces per step, AdamW with clipping at 1.0, dropout 0.1 — for
 * --steps steps, against PyTorch running the same model and optimiser on synthetic batches of the same shape
 * (bench/peers/torch_train_steady.py; 64 x 160, lengths uniform in [80, 160]). Both report the median step time over
 * an early window (steps 6-25) and the last 20 steps: a trainer whose step time creeps up (session 18: the buffer pool
 * at its cap refused most activations, and steps slowed from 1.9 to 3.2 s within 40 steps) shows it as late / early
 * > 1. Ours is the real CLI path (data pipeline, trainer, metrics log) with the vocabulary shipped in models/default.
 *
 * Run (machine otherwise idle): node --import tsx bench/train-steady.ts [--steps 80] [--threads 2] [--peers torch|none]
 *   [--no-write]. Writes bench/results/train-steady.json and the `train-steady` section of BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOnHelp, benchOption } from './lib/help.js';
import { runPeer, torchPython } from './lib/peerProcess.js';
import { machineInfo, markdownTable, median, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const steps = Number(benchOption('steps') ?? 80);
const threads = Number(benchOption('threads') ?? 2);
const peers = benchOption('peers') ?? 'torch';
const write = !process.argv.includes('--no-write');
if (!(Number.isInteger(steps) && steps >= 45)) {
  console.error('train-steady: --steps must be an integer >= 45 (an early window of 20 and a late one of 20)');
  process.exit(2);
}
const windows = (sec: number[]): { early: number; late: number } => ({ early: median(sec.slice(5, 25)), late: median(sec.slice(-20)) });

// ours: the CLI on a temporary copy of configs/mlm-wide.json
const dir = mkdtempSync(join(tmpdir(), 'realm-steady-'));
let ours: { early: number; late: number; seconds: number[] };
try {
  const cfg = JSON.parse(readFileSync(join(root, 'configs/mlm-wide.json'), 'utf8')) as Record<string, any>;
  cfg.outputDir = join(dir, 'run');
  cfg.threads = threads;
  cfg.model.vocab = join(root, 'models/default/vocab.txt');
  cfg.optim.steps = steps;
  cfg.optim.warmupSteps = 10;
  cfg.checkpoint = { every: 100000, keepLast: 1 };
  cfg.log = { every: 20, quiet: false, throttleMs: 0 };
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  console.error(`ours: realm-lm pretrain, ${steps} steps, ${threads} threads`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'pretrain', '--config', join(dir, 'cfg.json')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`realm-lm pretrain exited with ${r.status}`);
  const seconds = readFileSync(join(dir, 'run/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { seconds: number }).seconds);
  ours = { ...windows(seconds), seconds };
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let torch: { early: number; late: number; seconds: number[]; version: string } | null = null;
const notes: string[] = [];
if (peers.includes('torch')) {
  const py = torchPython(root);
  if (!py) notes.push('torch skipped: no Python with torch found (set TORCH_PYTHON, or pip install torch into .venv)');
  else {
    const { result, note } = runPeer(join(root, 'bench/peers'), 'torch', py, ['torch_train_steady.py', '--steps', String(steps), '--threads', String(threads)], 30 * 60_000);
    if (note) notes.push(note);
    if (result) torch = { ...windows(result.seconds as number[]), seconds: result.seconds as number[], version: String(result.torch_version) };
  }
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const results = {
  bench: 'train-steady', machine: machineInfo(), steps, threads,
  model: 'BERT hidden 256, 4 layers, 4 heads, FFN 1024, vocab 8000; 64 x <= 160 wordpieces per step (configs/mlm-wide.json)',
  ours_early_s: r3(ours.early), ours_late_s: r3(ours.late), ours_late_over_early: r3(ours.late / ours.early),
  torch_early_s: torch ? r3(torch.early) : null, torch_late_s: torch ? r3(torch.late) : null,
  torch_late_over_early: torch ? r3(torch.late / torch.early) : null,
  ratio_vs_torch_late: torch ? r3(ours.late / torch.late) : null,
  torch_version: torch?.version ?? null, notes,
  ours_seconds: ours.seconds.map(r3), torch_seconds: torch ? torch.seconds.map(r3) : null,
};
console.log(JSON.stringify({ ...results, ours_seconds: undefined, torch_seconds: undefined }, null, 2));
if (write) {
  writeJson(join(root, 'bench/results/train-steady.json'), results);
  const f = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
  const body = [
    '## Steady-state training: a wider encoder over many steps (configs/mlm-wide.json)',
    '',
    `${results.model}; ${steps} consecutive steps at ${threads} threads; median step time over steps 6-25 (early) and the last 20 (late). Ours: \`realm-lm pretrain\` (real data pipeline, trainer, metrics log); PyTorch ${results.torch_version ?? '(not run)'}: the same model and optimiser on synthetic batches of the same shape (bench/peers/torch_train_steady.py). Measured ${results.machine.date}, load average ${results.machine.loadavg_1m}.`,
    '',
    markdownTable(['', 'early s/step', 'late s/step', 'late / early'], [
      ['realm-lm', f(results.ours_early_s), f(results.ours_late_s), f(results.ours_late_over_early)],
      ['PyTorch', f(results.torch_early_s), f(results.torch_late_s), f(results.torch_late_over_early)],
    ]),
    '',
    `ratio_vs_torch_late = **${f(results.ratio_vs_torch_late)}** (ours / PyTorch, late window; below 1 = faster).${notes.length ? ` Notes: ${notes.join('; ')}.` : ''}`,
    '',
    'Before session 18\'s pool fix (the buffer pool refused new arrays at a fixed 1 GiB cap instead of evicting stale sizes), this script with the previous src/engine/pool.ts (commit 2173b0e\'s, `--peers none --no-write`, same session, machine otherwise idle) gave ours early 1.80 s, late 3.09 s, late / early 1.72 — the regression this benchmark guards against.',
    '',
    'Reproduce: `node --import tsx bench/train-steady.ts` (machine otherwise idle). Results: bench/results/train-steady.json.',
  ].join('\n');
  updateMarkdownSection(join(root, 'BENCHMARKS.md'), 'train-steady', body);
}
