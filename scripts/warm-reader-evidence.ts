/**
 * Reader warm-up on distantly supervised evidence (ours, issue 6): before REALM pre-training, train the knowledge-
 * augmented encoder alone on (x, z) rows where z is a block of ANOTHER document that BM25 finds for x and that contains
 * x's masked answer string — the rows where REALM's marginal likelihood would reward copying, without the k − 1
 * unhelpful candidates that dilute that signal in REALM's loss at our budget (Guu et al. 2020 §3.4 discuss the same
 * cold start: a reader that never sees useful evidence learns to ignore it). The same answer-string matching as ORQA /
 * DPR's distant supervision and as our retrieval evaluation (src/realm/evaluate.ts blockContainsAnswer). Only
 * training-split examples are used (the held-out documents never), and x's own document is excluded, as in REALM
 * training. The output is a REALM weight file (reader warmed up, embedders as initialised) for `model.init` of the
 * (a) / (b) / (c) runs, so all three start from it.
 * --distractors N also trains on N rows per evidence row whose block is one of x's BM25 blocks WITHOUT the answer string
 * (the highest-ranked ones, own document excluded), with the same target: the reader learns that such a block gives
 * nothing to copy, so at inference (the marginal over k candidates) an unhelpful candidate's copy head does not
 * outvote the answer-bearing one. Default 0 (session 12's warm-up).
 *
 * Usage:
 *   node --import tsx scripts/warm-reader-evidence.ts --run <realm run dir> --config <config.json with realm_pretrain>
 *     --vocab <vocab.txt> --reader-init <MLM model.safetensors> --retriever-init <ICT model.safetensors>
 *     --out <model.safetensors> [--epochs 3] [--batch 16] [--lr 5e-4] [--bm25 20] [--distractors 0]
 *     [--threads 2] [--seed 1] [--checkpoint-every 500]
 * Checkpoints go to <out>.ckpt/ every --checkpoint-every steps (src/train/readerWarmup.ts): the same command after a
 * kill resumes there (the rows are mined again, deterministically, in about half a minute) and ends with the weights
 * of an uninterrupted run; the directory is removed once --out is written.
 * The run dir holds blocks.docs, heldout.json and the salient example cache (src/train/realmData.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { trainingExamples } from '../bench/lib/heldout.js';
import { MODEL_FILES } from '../src/api/modelDir.js';
import { realmOptionsOf } from '../src/api/realm.js';
import { DocStore } from '../src/corpus/docstore.js';
import { Rng, getBackend } from '../src/engine/index.js';
import { parseConfig, readConfig } from '../src/model/config.js';
import { BlockTokenCache, maskedPositionsOf, type RealmExample } from '../src/realm/batch.js';
import { blockContainsAnswer } from '../src/realm/evaluate.js';
import type { JointRow } from '../src/realm/kaEncoder.js';
import { LexicalCandidates } from '../src/realm/lexical.js';
import { RealmPretrainModel } from '../src/realm/model.js';
import { DocumentGroups, exclusionsFor } from '../src/realm/retrieval.js';
import { pickEvidence } from '../src/train/readerEvidence.js';
import { warmUpReader } from '../src/train/readerWarmup.js';
import { loadWeightsFile } from '../src/train/setup.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { scriptArgs } from './lib/args.js';

const args = scriptArgs(process.argv.slice(2), 'scripts/warm-reader-evidence.ts');
const need = args.need;

function main(): void {
  const run = need('run');
  const out = need('out');
  mkdirSync(dirname(out), { recursive: true }); // now, not after the training: the write at the end must not fail on a missing directory
  const ckptDir = `${out}.ckpt`; // checkpoints while training; a killed run resumes from them
  const epochs = args.num('epochs', 3);
  const batch = args.num('batch', 16);
  const lr = args.num('lr', 5e-4);
  const bm25 = args.num('bm25', 20);
  const distractors = args.num('distractors', 0);
  if (!(Number.isInteger(distractors) && distractors >= 0)) throw new Error(`--distractors must be an integer >= 0, got ${distractors}`);
  const seed = args.num('seed', 1);
  getBackend().setThreads(args.num('threads', 2));

  const cfgPath = need('config');
  const cfg = readConfig(cfgPath);
  const tok = BertTokenizer.fromVocabFile(need('vocab'));
  const dropoutRng = new Rng(seed);
  const model = new RealmPretrainModel(parseConfig(cfg, cfgPath), tok, dropoutRng, realmOptionsOf(cfg));
  model.initEncoderFromMlm(loadWeightsFile(need('reader-init')), 'bert', need('reader-init'));
  model.initRetrieverFrom(need('retriever-init'));

  // evidence: the first BM25 block (top `bm25`, own document excluded) that contains the answer string
  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const groups = new DocumentGroups([...store].map((b) => b.docId));
  const lexical = LexicalCandidates.fromBlocks(store, tok);
  const examples = trainingExamples(run);
  const rows: JointRow[] = [];
  const cache = new BlockTokenCache(store, tok);
  let negatives = 0; // distractor rows among `rows`
  const t0 = performance.now();
  for (let s = 0; s < examples.length; s += 64) {
    const part: RealmExample[] = examples.slice(s, s + 64);
    const found = lexical.forBatch(part, bm25, exclusionsFor(part, 'document', groups));
    part.forEach((e, i) => {
      const picked = pickEvidence(found[i], (id) => blockContainsAnswer(store.getMany([id])[0], e.answer), distractors);
      if (!picked) return;
      const positions = maskedPositionsOf(e);
      const targets = positions.map((p) => e.labels[p]);
      for (const id of [picked.evidence, ...picked.distractors]) rows.push({ x: e.inputIds, block: cache.get([id])[0], positions, targets });
      negatives += picked.distractors.length;
    });
    const done = Math.min(s + 64, examples.length);
    const line = `evidence: ${done}/${examples.length} examples, ${rows.length - negatives} with an answer-bearing block`
      + (distractors ? ` (+ ${negatives} distractor rows)` : '');
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`); // redrawn in place; a log gets a line per 6,400
    else if (done % 6400 === 0 || done === examples.length) process.stderr.write(`${line}\n`);
  }
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}evidence: mined in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  if (rows.length === negatives) throw new Error('no training example has an answer-bearing BM25 block');

  const res = warmUpReader(model, tok, rows, {
    epochs, batch, lr, seed, dropoutRng, checkpointDir: ckptDir, checkpointEvery: args.num('checkpoint-every', 500),
    log: (l) => void process.stderr.write(l),
  });
  if (!res.finished) throw new Error('the warm-up stopped early');
  model.save(out, { source: `warm-reader-evidence: ${rows.length - negatives} rows + ${negatives} distractor rows x ${epochs} epochs, lr ${lr}, batch ${batch}` });
  store.close();
  rmSync(ckptDir, { recursive: true, force: true }); // the finished weights are in --out
  process.stderr.write(`wrote ${out}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`warm-reader-evidence: ${(e as Error).message}\n`);
  process.exit(1);
}
