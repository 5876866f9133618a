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
 * `--task realm`: the same two windows for issue 6's REALM stage (§3 of the paper, the loop of BENCHMARKS' headline
 * models): session 16's H1 recipe — 4 MIPS + 4 BM25 candidates + the null document, relevance 0.05·q·d + w·BM25 with w
 * learned, reader fixed, salient spans from 3,000 lead blocks, 8 examples per step — started from the committed (a)
 * model (models/stages/realm-a), its index embedded at step 0 (not timed: the first step is outside both windows).
 * No peer: no PyTorch REALM loop exists to run beside it; the figure is ours late / early (the REALM stage had the same
 * pool defect: 0.47 -> 0.96 s/step over 400 steps before the fix).
 *
 * Run (machine otherwise idle): node --import tsx bench/train-steady.ts [--task mlm|realm] [--steps 80 (realm: 400)]
 *   [--threads 2 (realm: 1)] [--peers torch|none] [--no-write] [--worktree DIR]. Writes bench/results/train-steady.json
 *   (realm: train-steady-realm.json) and the `train-steady` (`train-steady-realm`) section of BENCHMARKS.md.
 * --worktree DIR runs "ours" with another checkout's CLI (before/after comparisons; implies --no-write), e.g.
 *   git worktree add /tmp/old 2173b0e && ln -s $PWD/node_modules /tmp/old/ && cp -r build /tmp/old/
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOnHelp, benchOption } from './lib/help.js';
import { runPeer, torchPython } from './lib/peerProcess.js';
import { machineInfo, markdownTable, median, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const task = benchOption('task') ?? 'mlm';
if (task !== 'mlm' && task !== 'realm') {
  console.error(`train-steady: --task is mlm or realm, got ${task}`);
  process.exit(2);
}
const realm = task === 'realm';
const steps = Number(benchOption('steps') ?? (realm ? 400 : 80));
const threads = Number(benchOption('threads') ?? (realm ? 1 : 2));
const peers = realm ? 'none' : benchOption('peers') ?? 'torch';
const worktree = benchOption('worktree');
const cliRoot = worktree ?? root;
const write = !process.argv.includes('--no-write') && !worktree;
if (worktree && !existsSync(join(worktree, 'src/cli/main.ts'))) {
  console.error(`train-steady: --worktree ${worktree} has no src/cli/main.ts`);
  process.exit(2);
}
if (!(Number.isInteger(steps) && steps >= 45)) {
  console.error('train-steady: --steps must be an integer >= 45 (an early window of 20 and a late one of 20)');
  process.exit(2);
}
const windows = (sec: number[]): { early: number; late: number } => ({ early: median(sec.slice(5, 25)), late: median(sec.slice(-20)) });

/** The MLM mode's config: configs/mlm-wide.json, shortened. */
function mlmConfig(out: string): Record<string, any> {
  const cfg = JSON.parse(readFileSync(join(root, 'configs/mlm-wide.json'), 'utf8')) as Record<string, any>;
  cfg.outputDir = out;
  cfg.model.vocab = join(root, 'models/default/vocab.txt');
  cfg.optim.steps = steps;
  cfg.optim.warmupSteps = 10;
  return cfg;
}

/** The REALM mode's config: session 16's H1 recipe (runs/s16/realm-a-h1.json) from the committed (a) model. */
function realmConfig(out: string): Record<string, any> {
  const stage = join(root, 'models/stages/realm-a');
  const m = JSON.parse(readFileSync(join(stage, 'config.json'), 'utf8')) as Record<string, any>;
  const arch = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'reader_copy_head', 'reader_num_hidden_layers'];
  return {
    task: 'realm', seed: 1, outputDir: out,
    model: { vocab: join(stage, 'vocab.txt'), vocabSize: m.vocab_size, init: join(stage, 'model.safetensors'), retrieverInit: null, config: Object.fromEntries(arch.map((k) => [k, m[k]])) },
    data: { corpus: ['enwiki2015_lead100'], maxDocs: 0, docStore: null, index: null, masking: 'salient', dataSeed: 1, heldoutFraction: 0.02, exampleBlocks: 3000 },
    optim: { steps, batchSize: 8, lr: 5e-4, warmupSteps: Math.min(50, Math.floor(steps / 4)), weightDecay: 0.01, clipNorm: 1, betas: [0.9, 0.999], eps: 1e-6 },
    realm: {
      k: 4, queryMaxLen: 40, blockMaxLen: 128, jointMaxLen: 160, marginal: 'span', nullDocument: true, exclude: 'document', trainDocEmbedder: false,
      lexicalCandidates: 4, scoreScale: 0.05, trainReader: false, lexicalScoreWeight: 0.1, learnLexicalScoreWeight: true,
    },
    refresh: { every: 0, swap: 'asap', lag: 100, runner: 'process', workerBackend: 'native', workerThreads: 1, indexKind: 'flat', flatMaxBlocks: 200000, batchSize: 64, probeQueries: 64 },
  };
}

// ours: the CLI on a temporary config
const dir = mkdtempSync(join(tmpdir(), 'realm-steady-'));
let ours: { early: number; late: number; seconds: number[] };
try {
  const cfg = realm ? realmConfig(join(dir, 'run')) : mlmConfig(join(dir, 'run'));
  cfg.threads = threads;
  cfg.checkpoint = { every: 100000, keepLast: 1 };
  cfg.log = { every: 20, quiet: false, throttleMs: 0 };
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  console.error(`ours: realm-lm pretrain (${task}) from ${cliRoot}, ${steps} steps, ${threads} threads`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(cliRoot, 'src/cli/main.ts'), 'pretrain', '--config', join(dir, 'cfg.json')], { cwd: cliRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`train-steady: realm-lm pretrain exited with ${r.status} (its message is above)`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
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
  bench: realm ? 'train-steady-realm' : 'train-steady', machine: machineInfo(), steps, threads, cli: worktree ?? 'this checkout',
  model: realm
    ? 'REALM stage of session 16\'s H1 recipe from models/stages/realm-a: reader 4 layers / embedders 2 layers, hidden 128; 8 examples x (4 MIPS + 4 BM25 + null) candidates of <= 160 wordpieces per step, reader fixed'
    : 'BERT hidden 256, 4 layers, 4 heads, FFN 1024, vocab 8000; 64 x <= 160 wordpieces per step (configs/mlm-wide.json)',
  ours_early_s: r3(ours.early), ours_late_s: r3(ours.late), ours_late_over_early: r3(ours.late / ours.early),
  torch_early_s: torch ? r3(torch.early) : null, torch_late_s: torch ? r3(torch.late) : null,
  torch_late_over_early: torch ? r3(torch.late / torch.early) : null,
  ratio_vs_torch_late: torch ? r3(ours.late / torch.late) : null,
  torch_version: torch?.version ?? null, notes,
  ours_seconds: ours.seconds.map(r3), torch_seconds: torch ? torch.seconds.map(r3) : null,
};
console.log(JSON.stringify({ ...results, ours_seconds: undefined, torch_seconds: undefined }, null, 2));
const f = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
const windowsText = `${steps} consecutive steps at ${threads} thread${threads === 1 ? '' : 's'}; median step time over steps 6-25 (early) and the last 20 (late)`;
if (write && !realm) {
  writeJson(join(root, 'bench/results/train-steady.json'), results);
  const body = [
    '## Steady-state training: a wider encoder over many steps (configs/mlm-wide.json)',
    '',
    `${results.model}; ${windowsText}. Ours: \`realm-lm pretrain\` (real data pipeline, trainer, metrics log); PyTorch ${results.torch_version ?? '(not run)'}: the same model and optimiser on synthetic batches of the same shape (bench/peers/torch_train_steady.py). Measured ${results.machine.date}, load average ${results.machine.loadavg_1m}.`,
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
if (write && realm) {
  writeJson(join(root, 'bench/results/train-steady-realm.json'), results);
  const body = [
    '### Steady-state training: the REALM stage (`--task realm`)',
    '',
    `${results.model}; ${windowsText}. \`realm-lm pretrain\` on a temporary config (the script's realmConfig); the index of the 56,034 blocks of the 30,539 lead documents is embedded at step 0, outside both windows. No peer (no PyTorch REALM loop to run beside it). Measured ${results.machine.date}, load average ${results.machine.loadavg_1m}.`,
    '',
    markdownTable(['', 'early s/step', 'late s/step', 'late / early'], [['realm-lm', f(results.ours_early_s), f(results.ours_late_s), f(results.ours_late_over_early)]]),
    '',
    'Before session 18\'s pool fix, the same script with `--worktree` on a checkout of commit 2173b0e (session 19, E5 stopped, right after the run above): early 1.20 s, late 1.17 s, late / early 0.98, 536 s for the whole run vs 299 s, the same final loss (10.6301). In this mode the old pool is slow from step 1 instead of creeping (the index build and BM25 fill the pool before the first step), so late / early does not show it; the step time itself does: 2.7x at the late window. In session 18 the same defect showed as a creep on H1\'s own run, whose index was read from a file (0.47 -> 0.96 s/step, 313.7 s vs 154.4 s for 400 steps).',
    '',
    'Reproduce: `node --import tsx bench/train-steady.ts --task realm` (machine otherwise idle). Results: bench/results/train-steady-realm.json.',
  ].join('\n');
  updateMarkdownSection(join(root, 'BENCHMARKS.md'), 'train-steady-realm', body);
}
