/**
 * Copy probe: can a small BERT learn to copy from the second segment? A synthetic MLM task where copying is the only
 * signal — random-id sequences (vocab 200, length 40), rows `[CLS] a [SEP] b [SEP]` with a = a 12-id window of b and
 * the targets only in a (MlmTask pair mode, ownShare 1, maskSecond false). The REALM reader needs exactly this skill
 * to use a retrieved block (§2.3), and the session-5/6 readers did not have it; this shows how fast the architecture
 * learns it, ours beside transformers' BertForMaskedLM on the same task (same distribution; each side draws its own
 * samples), so a slow curve is the model's, not the engine's. Loss at chance = ln(195) = 5.27; perfect copying → 0.
 *
 * With --copy-head the REALM reader itself (KnowledgeAugEncoder: `[CLS] a [SEP] [SEP] b [SEP]`, every target a [MASK])
 * also runs the task twice, without and with the copy head of src/realm/copyHead.ts (`reader_copy_head`), so the head's
 * effect is measured against the same reader on the same rows.
 *
 * Run: npx tsx bench/copy-probe.ts [--steps 1500] [--hidden 64] [--layers 2] [--lr 1e-3] [--peers torch|none] [--copy-head] [--no-write]
 * Results: bench/results/copy-probe.json and the "Copy probe" section of BENCHMARKS.md.
 */
import { join } from 'node:path';
import { AdamW, Rng, backward, getBackend } from '../src/engine/index.js';
import { bertMiniConfig } from '../src/model/config.js';
import { BertForMaskedLM } from '../src/model/mlm.js';
import { MlmTask } from '../src/train/mlmTask.js';
import { KnowledgeAugEncoder, type JointRow } from '../src/realm/kaEncoder.js';
import { mean, neg, type Tensor } from '../src/engine/index.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { runPeer, torchPython } from './lib/peerProcess.js';
import { machineInfo, markdownTable, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const num = (name: string, def: number): number => Number(benchOption(name) ?? def);
const o = { vocab: 200, len: 40, hidden: num('hidden', 64), layers: num('layers', 2), lr: num('lr', 1e-3), steps: num('steps', 1500), every: 100 };

type Curve = { curve: Array<{ step: number; loss: number }>; seconds: number };

/** The probe's model config (2 heads, FFN 4·hidden, no dropout), its init RNG and the 2,000 random-id sequences. */
function probeSetup(copyHead: boolean): { cfg: ReturnType<typeof bertMiniConfig>; rng: Rng; data: Rng; seqs: Int32Array[] } {
  getBackend().setThreads(1);
  const cfg = bertMiniConfig({
    vocab_size: o.vocab, hidden_size: o.hidden, num_hidden_layers: o.layers, num_attention_heads: 2, intermediate_size: 4 * o.hidden,
    max_position_embeddings: 128, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, ...(copyHead ? { reader_copy_head: true } : {}),
  });
  const rng = new Rng(1);
  const data = new Rng(2);
  const seqs = Array.from({ length: 2000 }, () => Int32Array.from({ length: o.len }, () => 5 + data.int(o.vocab - 5)));
  return { cfg, rng, data, seqs };
}

/** o.steps optimiser steps of `loss()`; the mean loss of every o.every steps. */
function trainCurve(label: string, params: ConstructorParameters<typeof AdamW>[0], loss: () => Tensor): Curve {
  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0.01, eps: 1e-6 });
  const curve: Array<{ step: number; loss: number }> = [];
  let acc = 0;
  const t0 = performance.now();
  for (let step = 1; step <= o.steps; step++) {
    opt.zeroGrad();
    const l = loss();
    acc += l.item();
    backward(l);
    opt.step();
    if (step % o.every === 0) {
      curve.push({ step, loss: acc / o.every });
      console.error(`${label} step ${step}: loss ${(acc / o.every).toFixed(3)}`);
      acc = 0;
    }
  }
  return { curve, seconds: (performance.now() - t0) / 1e3 };
}

/** BertForMaskedLM through MlmTask's pair mode (BERT's 80/10/10 masking). */
function runOurs(): Curve {
  const { cfg, rng, seqs } = probeSetup(false);
  const model = new BertForMaskedLM(cfg, rng, 'bert');
  const task = new MlmTask(model, rng, cfg, { clsId: 2, sepId: 3, padId: 0, maskId: 4, vocabSize: o.vocab, firstNormalId: 5 }, seqs, {
    batchSize: 32, maskProb: 0.15, dataSeed: 1,
    pairs: { queryLen: 12, maxLen: o.len + 12, docOf: Int32Array.from(seqs.keys()), ownShare: 1, maskSecond: false },
  });
  return trainCurve('ours', model.parameters(), () => task.step().loss);
}

/** The REALM reader on the same task, rows built here (all targets [MASK]ed, ≥ 1 per row), with or without the copy head. */
function runReader(copyHead: boolean): Curve {
  const { cfg, rng, data, seqs } = probeSetup(copyHead);
  const reader = new KnowledgeAugEncoder(cfg, rng);
  const tok = { clsId: 2, sepId: 3, padId: 0 };
  return trainCurve(`reader${copyHead ? ' + copy head' : ''}`, reader.parameters(), () => {
    const rows: JointRow[] = [];
    for (let i = 0; i < 32; i++) {
      const b = seqs[data.int(seqs.length)];
      const start = data.int(o.len - 12 + 1);
      const x = b.slice(start, start + 12);
      const positions: number[] = [];
      for (let p = 0; p < 12; p++) if (data.uniform(0, 1) < 0.15) positions.push(p);
      if (positions.length === 0) positions.push(data.int(12));
      const targets = positions.map((p) => x[p]);
      for (const p of positions) x[p] = 4;
      rows.push({ x, block: { id: i, titleIds: new Int32Array(0), textIds: b }, positions, targets });
    }
    return neg(mean(reader.targetLogProbs(tok, rows, o.len + 16, true)));
  });
}

const withReader = benchOption('copy-head') !== undefined;
const reader = withReader ? runReader(false) : null;
const copy = withReader ? runReader(true) : null;
const ours = runOurs();
type PeerRun = { curve: Array<{ step: number; loss: number }>; torch: string; seconds: number };
let torch: PeerRun | null = null;
const notes: string[] = [];
if ((benchOption('peers') ?? 'torch') !== 'none') {
  const py = torchPython(root);
  if (!py) notes.push('torch skipped: no Python with torch found (set TORCH_PYTHON)');
  else {
    const r = runPeer(root, 'torch', py, ['bench/peers/torch_copy_probe.py', '--steps', String(o.steps), '--hidden', String(o.hidden),
      '--layers', String(o.layers), '--lr', String(o.lr)], 3_600_000);
    if (r.result) torch = r.result as unknown as PeerRun;
    if (r.note) notes.push(r.note);
  }
}
const result = { bench: 'copy-probe', machine: machineInfo(), config: o, chance: Math.log(o.vocab - 5), ours, torch, reader, copy_head: copy, notes };
console.log(JSON.stringify({
  ours_final: ours.curve.at(-1)?.loss, torch_final: torch?.curve.at(-1)?.loss ?? null, reader_final: reader?.curve.at(-1)?.loss ?? null,
  copy_head_final: copy?.curve.at(-1)?.loss ?? null, chance: result.chance,
}));
if (benchOption('no-write') === undefined) {
  writeJson(join(root, 'bench/results/copy-probe.json'), result);
  const rows = ours.curve.map((p, i) => [
    p.step, p.loss.toFixed(3), torch?.curve[i]?.loss.toFixed(3) ?? '', ...(withReader ? [reader!.curve[i].loss.toFixed(3), copy!.curve[i].loss.toFixed(3)] : []),
  ]);
  updateMarkdownSection(join(root, 'BENCHMARKS.md'), 'copy-probe', [
    `## Copy probe: learning to copy from the second segment (synthetic MLM, issue 6 diagnostic)`,
    '',
    `Random-id sequences (vocab ${o.vocab}, length ${o.len}); rows \`[CLS] a [SEP] b [SEP]\`, a = 12 ids of b, targets only in a, so only copying`,
    `lowers the loss (chance ln ${o.vocab - 5} = ${result.chance.toFixed(2)}, perfect copy 0). BERT ${o.layers} layers, hidden ${o.hidden}, 2 heads, no dropout, AdamW lr ${o.lr},`,
    `batch 32, 1 thread. realm-lm and PyTorch ${torch?.torch ?? '(skipped)'} (transformers BertForMaskedLM) on the same task. Measured ${result.machine.date}.`,
    '',
    `Reproduce: \`npx tsx bench/copy-probe.ts\` (PyTorch peer: bench/peers/torch_copy_probe.py, a Python with torch + transformers).`,
    '',
    ...(withReader ? [
      'The last two columns are the REALM reader (KnowledgeAugEncoder, `[CLS] a [SEP] [SEP] b [SEP]`, every target [MASK]ed) without and',
      'with the copy head (src/realm/copyHead.ts, `reader_copy_head: true`), same rows for both, run with `--copy-head`.', '',
    ] : []),
    markdownTable(['step', 'realm-lm loss', 'PyTorch loss', ...(withReader ? ['reader', 'reader + copy head'] : [])], rows),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n'));
  console.error('wrote bench/results/copy-probe.json and BENCHMARKS.md');
}
