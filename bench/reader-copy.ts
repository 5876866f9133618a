// Benchmark (diagnostic, issue 6): can the knowledge-augmented encoder learn to COPY an answer from a block?
// REALM's reward only works once p(y|z,x) is higher for a block that states y (Guu et al. 2020 §3.3-3.4); a reader
// that ignores z makes every retrieval equally (un)helpful. This trains the reader of a REALM model alone, on
// (x, the block x was taken from) rows — the trivial retrieval REALM excludes, i.e. the easiest copying signal there
// is — and reports, side by side, the mean log p of the masked wordpieces given that block and given ANOTHER
// example's block (the control), on training and held-out sentences, every --eval-every steps. A reader that copies
// opens a gap of several nats; one that only models x keeps own ≈ other. At the end: whole-span fill-in accuracy
// with the own block vs another example's block as the only candidate (plus the null document), as
// bench/pretrain-eval.ts scores it.
// Usage:
//   node --import tsx bench/reader-copy.ts --run <realm run dir> --model <REALM model dir>
//     [--steps 1500] [--batch 16] [--lr 1e-3] [--eval-every 250] [--eval-n 96] [--threads 2] [--seed 1]
//     [--no-write] [--out bench/results/reader-copy.json] [--md BENCHMARKS.md]
// The run dir holds blocks.docs, heldout.json and the salient example cache (src/train/realmData.ts); the model's
// reader (realm.*, cls.predictions.*) is trained in memory only.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRealmModel } from '../src/api/realm.js';
import { MODEL_FILES } from '../src/api/modelDir.js';
import { DocStore } from '../src/corpus/docstore.js';
import { AdamW, Rng, backward, getBackend, mean, neg, noGrad } from '../src/engine/index.js';
import { BlockTokenCache, maskedPositionsOf, type RealmExample } from '../src/realm/batch.js';
import { evaluateHeldOut } from '../src/realm/evaluate.js';
import type { JointRow } from '../src/realm/kaEncoder.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { heldOutSample, trainingExamples } from './lib/heldout.js';
import { machineInfo, markdownTable, pct, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const run = benchOption('run');
  const modelDir = benchOption('model');
  if (!run || !modelDir) throw new Error('reader-copy: --run and --model are required (see --help)');
  const steps = Number(benchOption('steps') ?? 1500);
  const batch = Number(benchOption('batch') ?? 16);
  const lr = Number(benchOption('lr') ?? 1e-3);
  const every = Number(benchOption('eval-every') ?? 250);
  const evalN = Number(benchOption('eval-n') ?? 96);
  const seed = Number(benchOption('seed') ?? 1);
  getBackend().setThreads(Number(benchOption('threads') ?? 2));

  const { model, tokenizer: tok } = loadRealmModel(modelDir);
  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const cache = new BlockTokenCache(store, tok);
  const all = trainingExamples(run);
  const train = Array.from(new Rng(seed).permutation(all.length), (i) => all[i]);
  const heldIn = train.slice(0, evalN); // scored, never trained on
  const pool = train.slice(evalN);
  const heldOut = heldOutSample(run, evalN, seed).examples;
  const maxLen = model.opts.jointMaxLen;

  // row i reads example i with the block of example i + shift (shift 0 = its own block)
  const rows = (ex: readonly RealmExample[], shift: number): JointRow[] => ex.map((e, i) => {
    const positions = maskedPositionsOf(e);
    return { x: e.inputIds, block: cache.get([ex[(i + shift) % ex.length].sourceBlockId!])[0], positions, targets: positions.map((p) => e.labels[p]) };
  });
  const meanLogP = (ex: readonly RealmExample[], shift: number): number => noGrad(() => {
    const r = rows(ex, shift);
    let s = 0;
    for (let i = 0; i < r.length; i += 16) s += model.encoder.targetLogProbs(tok, r.slice(i, i + 16), maxLen, false).data.reduce((a, b) => a + b, 0);
    return s / r.reduce((a, x) => a + x.positions.length, 0);
  });
  const curve: Array<{ step: number; heldin_own: number; heldin_other: number; heldout_own: number; heldout_other: number }> = [];
  const record = (step: number): void => {
    const c = { step, heldin_own: meanLogP(heldIn, 0), heldin_other: meanLogP(heldIn, 1), heldout_own: meanLogP(heldOut, 0), heldout_other: meanLogP(heldOut, 1) };
    curve.push(c);
    process.stderr.write(`reader-copy: step ${step}: log p own / other block — training sentences ${c.heldin_own.toFixed(2)} / ${c.heldin_other.toFixed(2)}, held-out ${c.heldout_own.toFixed(2)} / ${c.heldout_other.toFixed(2)}\n`);
  };

  const params = model.encoder.parameters();
  const opt = new AdamW(params, { lr, weightDecay: 0.01 });
  record(0);
  const t0 = performance.now();
  let pos = 0;
  for (let s = 1; s <= steps; s++) {
    if (pos + batch > pool.length) pos = 0;
    const loss = neg(mean(model.encoder.targetLogProbs(tok, rows(pool.slice(pos, pos + batch), 0), maxLen, true)));
    pos += batch;
    backward(loss, undefined, { freeActivations: true });
    opt.step();
    for (const p of params.values()) p.grad = null;
    if (s % every === 0 || s === steps) record(s);
  }
  const seconds = (performance.now() - t0) / 1000;
  const banned = (v: number): boolean => tok.isSpecialId(v) || v === tok.maskId;
  const accWith = (shift: number): number => evaluateHeldOut(model, heldOut, null, cache, store, banned, {
    k: 1, exclude: 'none', batchSize: 8, candidates: (b) => b.map((e) => [heldOut[(heldOut.indexOf(e) + shift) % heldOut.length].sourceBlockId!]),
  }).accuracy;
  const ownAcc = accWith(0);
  const otherAcc = accWith(1);
  store.close();
  const last = curve[curve.length - 1];
  const out = {
    bench: 'reader-copy',
    machine: machineInfo(),
    model: modelDir,
    steps, batch, lr, seconds,
    heldout_n: heldOut.length,
    heldin_n: heldIn.length,
    copy_gap_heldout: last.heldout_own - last.heldout_other,
    copy_gap_heldout_start: curve[0].heldout_own - curve[0].heldout_other,
    heldout_own_block_acc: ownAcc,
    heldout_other_block_acc: otherAcc,
    curve,
  };
  if (benchOption('no-write') !== undefined) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const outPath = benchOption('out') ?? join(root, 'bench/results/reader-copy.json');
  writeJson(outPath, out);
  updateMarkdownSection(benchOption('md') ?? join(root, 'BENCHMARKS.md'), 'reader-copy', [
    '### Can the reader copy? (diagnostic)',
    '',
    `The reader (knowledge-augmented encoder) of \`${modelDir}\` trained alone for ${steps} steps x ${batch} on (sentence, its own block) rows — the trivial retrieval REALM excludes, the easiest copying signal — lr ${lr}, ${seconds.toFixed(0)} s. Mean log p per masked wordpiece given the own block vs another example's block (control):`,
    '',
    markdownTable(['step', 'training sentences: own', 'other', 'held-out: own', 'other', 'held-out gap'], curve.map((c) => [
      c.step, c.heldin_own.toFixed(2), c.heldin_other.toFixed(2), c.heldout_own.toFixed(2), c.heldout_other.toFixed(2), (c.heldout_own - c.heldout_other).toFixed(2),
    ])),
    '',
    `Whole-span fill-in on ${heldOut.length} held-out sentences with one candidate block (+ null document): own block ${pct(ownAcc)}, another example's block ${pct(otherAcc)}.`,
    '',
    `Reproduce: \`node --import tsx bench/reader-copy.ts --run <realm run> --model <model dir> --steps ${steps}\`. Results: bench/results/reader-copy.json.`,
  ].join('\n'));
  process.stderr.write(`reader-copy: wrote ${outPath}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`reader-copy: ${(e as Error).message ?? e}\n`);
  process.exit(1);
});
