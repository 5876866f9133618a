/**
 * Retriever warm-up on distantly supervised evidence (ours, issue 6; the retriever counterpart of
 * scripts/warm-reader-evidence.ts): before REALM pre-training, train the query embedder Embed_input on the training
 * sentences' masked inputs x to put retrieval probability on blocks of OTHER documents that contain x's masked answer
 * string — the blocks REALM's reward would push up once the reader copies from them (Guu et al. 2020 §2.3: the
 * gradient of log p(y|x) w.r.t. f(x,z) is p(z|x)·(p(y|z,x)/p(y|x) − 1)). Here p(y|z,x) is replaced by answer matching,
 * as ORQA's question-encoder fine-tuning does (src/train/qaRetriever.ts, the same loss): positives are the blocks of
 * the BM25 top `--bm25` and the starting retriever's MIPS top `--mips` (own document excluded) whose text contains the
 * answer; the loss is −log Σ_{z∈P} p(z|x) with p(z|x) a softmax over ALL blocks of the fixed index except x's own
 * document (as REALM excludes it), at REALM's score scale (the run config's realm_pretrain.scoreScale), so the warm-up
 * shapes the very distribution REALM's marginal uses. The document embedder and the index stay as they are.
 * Only training-split examples are used (held-out documents never).
 *
 * Writes a retriever weight file (both embedders; the document side unchanged) for `model.retrieverInit`.
 *
 * Usage:
 *   node --import tsx scripts/warm-retriever-evidence.ts --run <realm run dir> --config <REALM config.json>
 *     --vocab <vocab.txt> --retriever-init <ICT model.safetensors> --embeddings <dir> --out <model.safetensors>
 *     [--steps 1200] [--batch 32] [--lr 2e-4] [--warmup 100] [--bm25 20] [--mips 20] [--scale <config's>]
 *     [--threads 2] [--seed 1]
 * --embeddings: the corpus vectors of the init's document embedder as chunks (bench/pretrain-index.ts writes them
 * next to the index as <index>.chunks; embedded here, resumably, when missing).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { trainingExamples } from '../bench/lib/heldout.js';
import { MODEL_FILES } from '../src/api/modelDir.js';
import { realmOptionsOf } from '../src/api/realm.js';
import { DocStore } from '../src/corpus/docstore.js';
import { Rng, getBackend, noGrad } from '../src/engine/index.js';
import { parseConfig, readConfig } from '../src/model/config.js';
import { queryTokens } from '../src/realm/batch.js';
import { blockContainsAnswer } from '../src/realm/evaluate.js';
import { LexicalCandidates } from '../src/realm/lexical.js';
import { DocumentGroups, exclusionsFor, retrieveForBatch } from '../src/realm/retrieval.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import { buildIndex, embedCorpus } from '../src/train/embedCorpus.js';
import { QaRetrieverTuner, minePositives, type QaTuneExample } from '../src/train/qaRetriever.js';
import { embedTokenized } from '../src/train/refreshJob.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { scriptArgs } from './lib/args.js';

const args = scriptArgs(process.argv.slice(2), 'scripts/warm-retriever-evidence.ts');
const need = args.need;
const log = (l: string): void => void process.stderr.write(`${l}\n`);

function main(): void {
  const run = need('run');
  const out = need('out');
  mkdirSync(dirname(out), { recursive: true }); // before training, not at the final write
  const steps = args.num('steps', 1200);
  const batch = args.num('batch', 32);
  const bm25 = args.num('bm25', 20);
  const mipsK = args.num('mips', 20);
  const seed = args.num('seed', 1);
  getBackend().setThreads(args.num('threads', 2));

  const cfgPath = need('config');
  const cfg = parseConfig(readConfig(cfgPath), cfgPath);
  const ropts = realmOptionsOf(cfg);
  const scale = args.num('scale', ropts.scoreScale);
  const tok = BertTokenizer.fromVocabFile(need('vocab'));
  const scorer = new RealmScorer(cfg, new Rng(seed), { init: false });
  scorer.load(need('retriever-init'));

  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const groups = new DocumentGroups([...store].map((b) => b.docId));
  const P = cfg.retriever_proj_size;
  const emb = noGrad(() => embedCorpus(scorer.docEmbedder, tok, store, { outDir: need('embeddings'), batchSize: 64, blockLen: ropts.blockMaxLen, log }));
  const index = buildIndex(emb.vectors, P, { kind: 'flat' });
  const lexical = LexicalCandidates.fromBlocks(store, tok);

  // positives: answer-bearing blocks among BM25 top-bm25 then MIPS top-mips, own document excluded
  const examples = trainingExamples(run);
  const tuneSet: QaTuneExample[] = [];
  const t0 = performance.now();
  for (let s = 0; s < examples.length; s += 256) {
    const part = examples.slice(s, s + 256);
    const exclude = exclusionsFor(part, 'document', groups);
    const queries = part.map((e) => queryTokens(tok, e, ropts.queryMaxLen));
    const q = noGrad(() => embedTokenized(scorer.queryEmbedder, queries, tok.padId, 64));
    const mips = retrieveForBatch(q, index, mipsK, exclude).ids;
    const lex = lexical.forBatch(part, bm25, exclude);
    const pos = minePositives(part.length, (i) => [...lex[i], ...mips[i]], (i, id) => blockContainsAnswer(store.getMany([id])[0], part[i].answer));
    part.forEach((e, i) => {
      if (pos[i].length) tuneSet.push({ question: e.answer ?? '', query: queries[i], positives: pos[i], exclude: Int32Array.from(exclude[i] ?? []) });
    });
    const done = Math.min(s + 256, examples.length);
    if (done % 12800 === 0 || done === examples.length) log(`evidence: ${done}/${examples.length} examples, ${tuneSet.length} with an answer-bearing block`);
  }
  log(`evidence: mined in ${((performance.now() - t0) / 1000).toFixed(0)} s, mean ${(tuneSet.reduce((n, e) => n + e.positives.length, 0) / Math.max(1, tuneSet.length)).toFixed(1)} positives`);
  if (tuneSet.length === 0) throw new Error('no training example has an answer-bearing block');

  const tuner = new QaRetrieverTuner(scorer, tok, emb.vectors, P, tuneSet, {
    steps, batchSize: batch, lr: args.num('lr', 2e-4), warmupSteps: args.num('warmup', 100), logitScale: scale, queryLen: ropts.queryMaxLen, seed,
  });
  const t1 = performance.now();
  let loss = 0;
  let mass = 0;
  let n = 0;
  while (tuner.step < steps) {
    const st = tuner.trainStep();
    loss += st.loss;
    mass += st.positiveMass;
    n++;
    if (st.step % 50 === 0 || st.step === steps) {
      const sec = (performance.now() - t1) / 1000;
      log(`step ${st.step}/${steps} | loss ${(loss / n).toFixed(3)} | answer-block mass ${(mass / n).toFixed(3)} | lr ${st.lr.toExponential(2)} | ${(st.step / sec).toFixed(2)} step/s`);
      loss = mass = n = 0;
    }
  }
  scorer.save(out, { source: `warm-retriever-evidence: ${tuneSet.length} sentences, ${steps} x ${batch}, scale ${scale}` });
  store.close();
  log(`wrote ${out}`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`warm-retriever-evidence: ${(e as Error).message}\n`);
  process.exit(1);
}
